/* The computation's IPC objects at restart.
 *
 * The program holds System V ids (a shmid in a variable, a semid in shared
 * memory), so the objects must come back with exactly those ids. An id is
 * the kernel's choice, except in an IPC namespace's /proc/sys/kernel/
 * {shm,sem,msg}_next_id, which picks the id of the next object created (the
 * kernel's checkpoint/restore interface). So dmtcp_restart restarts the
 * computation in a new IPC namespace (allowed in the user namespace it makes
 * when not root), where no id is taken, and the namespace's process 1 creates
 * each object once, before it creates the processes: the ids are exact, and
 * two processes that knew one object share it again. A new namespace is made
 * only for images that list IPC objects: other computations keep seeing the
 * host's objects (an X server's shared memory, say). POSIX message queues
 * belong to the IPC namespace as well, so they are recreated here too.
 *
 *   - shared memory: created with its key, size and permissions, filled from
 *     the image's regions of it (those of every process that had it
 *     attached, and content-only regions of segments known but not attached);
 *     each process's restorer then attaches it where it had it (RS_SYSV). A
 *     segment that was marked for removal is marked again by the runtime once
 *     every process has attached it (NS_RESOLVED);
 *   - semaphore sets: created, then every value set (SETALL);
 *   - message queues: created, its byte limit set, its messages sent back in
 *     order with their types;
 *   - POSIX queues: created with their attributes and filled with the
 *     messages their drainer saved; each process reopens its descriptors
 *     (runtime posixmq.c).
 * Permissions (mode, owner) are set last; the creator becomes the user who
 * restarts. */
#include "restart/sysv_restore.h"
#include "restart/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restart/ipc_image.h"

#define PAGE 4096ull

/* Each process restores from its own image and unmaps the others, so what
 * they need of an object is copied (copy); the pointers into the images are
 * for process 1, which creates the objects with every image still mapped. */
struct uobj {
  struct dmtcp_ipc_record copy;
  const struct image *img;              /* the first image that lists it */
  const struct dmtcp_ipc_record *rec;   /* its record there */
  const struct dmtcp_ipc_record *messages; /* MQ: the record that carries the messages, or NULL */
  const struct image *messages_img;
};

static struct uobj *g_u;
static int g_nu;
static int g_enabled;
static const struct image *g_imgs;
static int g_nimgs;

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
  snprintf(err, errlen, fmt, a, b);
  return -1;
}

int sysv_collect(const struct image *imgs, int n, int *bad, char *err, size_t errlen) {
  g_imgs = imgs;
  g_nimgs = n;
  int total = 0;
  for (int i = 0; i < n; i++) {
    *bad = i;
    if (ipc_check_table(&imgs[i], err, errlen) != 0) return -1;
    total += (int)imgs[i].h->num_ipc;
  }
  g_u = calloc(total ? (size_t)total : 1, sizeof *g_u);
  if (!g_u) return fail(err, errlen, "%s%s", "out of memory", "");
  for (int i = 0; i < n; i++) {
    const struct dmtcp_ipc_record *recs = ipc_records(&imgs[i]);
    for (uint32_t k = 0; k < imgs[i].h->num_ipc; k++) {
      const struct dmtcp_ipc_record *r = &recs[k];
      struct uobj *u = NULL;
      for (int j = 0; j < g_nu && !u; j++) {
        const struct dmtcp_ipc_record *o = g_u[j].rec;
        if (o->kind == r->kind && (r->kind == DMTCP_IPC_MQ ? strcmp(o->name, r->name) == 0 : o->id == r->id)) u = &g_u[j];
      }
      if (u) {
        char why[512];
        *bad = i;
        if (ipc_records_agree(u->rec, r, why, sizeof why) != 0) {
          if (u->messages && (r->flags & DMTCP_IPCF_MESSAGES))
            return fail(err, errlen, "inconsistent IPC objects: %s (also in %s)", why, u->messages_img->path);
          return fail(err, errlen, "inconsistent IPC objects: %s (%s)", why, u->img->path);
        }
        if (r->kind == DMTCP_IPC_MQ && (r->flags & DMTCP_IPCF_MESSAGES)) {
          if (u->messages) {
            char what[320];
            ipc_describe(r, what, sizeof what);
            snprintf(err, errlen, "inconsistent IPC objects: %s has its messages here and in %s", what,
                     u->messages_img->path);
            return -1;
          }
          u->messages = r;
          u->messages_img = &imgs[i];
        }
        continue;
      }
      u = &g_u[g_nu++];
      u->img = &imgs[i];
      u->rec = r;
      u->copy = *r;
      if (r->kind == DMTCP_IPC_MQ && (r->flags & DMTCP_IPCF_MESSAGES)) {
        u->messages = r;
        u->messages_img = &imgs[i];
      }
    }
  }
  return 0;
}

int sysv_count(void) { return g_nu; }

int sysv_count_kind(uint32_t kind) {
  int n = 0;
  for (int i = 0; i < g_nu; i++) n += g_u[i].copy.kind == kind;
  return n;
}

int sysv_enabled(void) { return g_enabled; }

int sysv_enter_namespace(char *why, size_t whylen) {
  if (unshare(CLONE_NEWIPC) != 0) {
    snprintf(why, whylen, "cannot create an IPC namespace: %s", strerror(errno));
    return -1;
  }
  g_enabled = 1;
  return 0;
}

static const struct uobj *object(uint32_t kind, int id) {
  for (int i = 0; i < g_nu; i++)
    if (g_u[i].copy.kind == kind && g_u[i].copy.id == id) return &g_u[i];
  return NULL;
}

int sysv_by_shmat(const struct dmtcp_region *r) {
  if (!g_enabled || (r->flags & DMTCP_RF_CONTENT_ONLY)) return 0;
  int id = ipc_region_shmid(r);
  return id >= 0 && object(DMTCP_IPC_SHM, id) != NULL;
}

static uint64_t page_up(uint64_t n) { return (n + PAGE - 1) & ~(PAGE - 1); }

/* ---- process 1: creating the objects --------------------------------------- */

/* One line naming the image and the object. */
static int say(const struct uobj *u, const char *what_failed, int err) {
  char what[320];
  ipc_describe(u->rec, what, sizeof what);
  fprintf(stderr, "dmtcp_restart: %s: %s: %s%s%s\n", u->img->path, what, what_failed, err ? ": " : "",
          err ? strerror(err) : "");
  return -1;
}

static int set_next_id(const char *which, int id) {
  char path[64], num[16];
  snprintf(path, sizeof path, "/proc/sys/kernel/%s_next_id", which);
  snprintf(num, sizeof num, "%d", id);
  return tree_write_file(path, num);
}

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
};

/* The owner and mode of the checkpoint; the owner only where the user
 * namespace maps it (else the object stays ours). */
static void set_owner_and_mode(struct ipc_perm *perm, const struct dmtcp_ipc_record *r, int pass) {
  if (pass == 0) {
    perm->uid = r->uid;
    perm->gid = r->gid;
  } else {
    perm->uid = getuid();
    perm->gid = getgid();
  }
  perm->mode = (perm->mode & ~0777u) | r->mode;
}

static int set_permissions(const struct uobj *u) {
  const struct dmtcp_ipc_record *r = u->rec;
  int rc = -1;
  for (int pass = 0; pass < 2 && rc != 0; pass++) {
    if (r->kind == DMTCP_IPC_SHM) {
      struct shmid_ds ds;
      if (shmctl(r->id, IPC_STAT, &ds) != 0) break;
      set_owner_and_mode(&ds.shm_perm, r, pass);
      rc = shmctl(r->id, IPC_SET, &ds);
    } else if (r->kind == DMTCP_IPC_SEM) {
      struct semid_ds ds;
      union semun arg = {.buf = &ds};
      if (semctl(r->id, 0, IPC_STAT, arg) != 0) break;
      set_owner_and_mode(&ds.sem_perm, r, pass);
      rc = semctl(r->id, 0, IPC_SET, arg);
    } else {
      struct msqid_ds ds;
      if (msgctl(r->id, IPC_STAT, &ds) != 0) break;
      set_owner_and_mode(&ds.msg_perm, r, pass);
      rc = msgctl(r->id, IPC_SET, &ds);
    }
  }
  return rc == 0 ? 0 : say(u, "cannot set its owner and mode", errno);
}

/* Every image's regions of segment id, decoded into its attachment at seg. */
static int fill_segment(const struct uobj *u, char *seg, char *scratch) {
  for (int i = 0; i < g_nimgs; i++) {
    const struct image *img = &g_imgs[i];
    int has = 0;
    for (uint32_t k = 0; k < img->h->num_regions && !has; k++)
      has = ipc_region_shmid(&img->regions[k]) == u->rec->id && (img->regions[k].flags & DMTCP_RF_HAS_DATA);
    if (!has) continue;
    struct chunk_ref *refs = NULL;
    char err[256];
    long n = image_chunks(img, &refs, err, sizeof err);
    if (n < 0) {
      fprintf(stderr, "dmtcp_restart: %s: %s\n", img->path, err);
      return -1;
    }
    for (long c = 0; c < n; c++) {
      const struct dmtcp_region *r = &img->regions[refs[c].region];
      if (ipc_region_shmid(r) != u->rec->id) continue;
      char *dest = seg + r->file_offset + (refs[c].addr - r->start);
      if (chunk_decode(&refs[c], dest, scratch, err, sizeof err) != 0) {
        fprintf(stderr, "dmtcp_restart: %s: %s\n", img->path, err);
        free(refs);
        return -1;
      }
    }
    free(refs);
  }
  return 0;
}

static int create_shm(const struct uobj *u, char *scratch) {
  const struct dmtcp_ipc_record *r = u->rec;
  if (set_next_id("shm", r->id) != 0) return say(u, "cannot choose its id (shm_next_id)", errno);
  int id = shmget(r->key, r->size, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return say(u, "cannot recreate it", errno);
  if (id != r->id) {
    shmctl(id, IPC_RMID, NULL);
    return say(u, "the kernel gave it another id", 0);
  }
  void *seg = shmat(id, NULL, 0);
  if (seg == (void *)-1) return say(u, "cannot attach it to fill it", errno);
  int rc = fill_segment(u, seg, scratch);
  shmdt(seg); /* process 1 keeps no attachment: the count is the program's */
  return rc;
}

static int create_sem(const struct uobj *u) {
  const struct dmtcp_ipc_record *r = u->rec;
  if (set_next_id("sem", r->id) != 0) return say(u, "cannot choose its id (sem_next_id)", errno);
  int id = semget(r->key, (int)r->count, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return say(u, "cannot recreate it", errno);
  if (id != r->id) {
    semctl(id, 0, IPC_RMID);
    return say(u, "the kernel gave it another id", 0);
  }
  unsigned short *values = calloc(r->count, sizeof *values);
  if (!values) return say(u, "out of memory", 0);
  memcpy(values, ipc_payload(u->img, r), r->count * sizeof *values);
  union semun arg = {.array = values};
  int rc = semctl(id, 0, SETALL, arg);
  int saved = errno;
  free(values);
  return rc == 0 ? 0 : say(u, "cannot set its values", saved);
}

static int create_msg(const struct uobj *u) {
  const struct dmtcp_ipc_record *r = u->rec;
  if (set_next_id("msg", r->id) != 0) return say(u, "cannot choose its id (msg_next_id)", errno);
  int id = msgget(r->key, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return say(u, "cannot recreate it", errno);
  if (id != r->id) {
    msgctl(id, IPC_RMID, NULL);
    return say(u, "the kernel gave it another id", 0);
  }
  struct msqid_ds ds;
  if (msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_qbytes != r->size) {
    /* above the namespace's msgmnb only with CAP_SYS_RESOURCE (root): the
     * messages below then tell whether the default is enough */
    ds.msg_qbytes = r->size;
    msgctl(id, IPC_SET, &ds);
  }
  const unsigned char *p = ipc_payload(u->img, r);
  uint64_t off = 0;
  char *buf = NULL;
  for (uint32_t m = 0; m < r->count; m++) {
    struct dmtcp_ipc_msg h;
    memcpy(&h, p + off, sizeof h);
    char *nb = realloc(buf, sizeof(long) + h.len + 1);
    if (!nb) {
      free(buf);
      return say(u, "out of memory", 0);
    }
    buf = nb;
    long type = (long)h.type;
    memcpy(buf, &type, sizeof type);
    memcpy(buf + sizeof type, p + off + sizeof h, h.len);
    if (msgsnd(id, buf, h.len, IPC_NOWAIT) != 0) {
      int saved = errno;
      free(buf);
      char what[96];
      snprintf(what, sizeof what, "cannot put back message %u of %u (%u bytes)", m + 1, r->count, h.len);
      return say(u, what, saved);
    }
    off += (sizeof h + h.len + 7) & ~(uint64_t)7;
  }
  free(buf);
  return 0;
}

static int create_mq(const struct uobj *u) {
  const struct dmtcp_ipc_record *r = u->rec;
  struct mq_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.mq_maxmsg = (long)r->limit;
  attr.mq_msgsize = (long)r->size;
  mode_t old = umask(0);
  mqd_t q = mq_open(r->name, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, (mode_t)r->mode, &attr);
  int saved = errno;
  umask(old);
  if (q == (mqd_t)-1) return say(u, "cannot recreate it", saved);
  int owned = fchown(q, r->uid, r->gid); /* only where the user namespace maps the owner: else ours */
  (void)owned;
  const struct dmtcp_ipc_record *mr = u->messages;
  const unsigned char *p = mr ? ipc_payload(u->messages_img, mr) : NULL;
  uint64_t off = 0;
  for (uint32_t m = 0; mr && m < mr->count; m++) {
    struct dmtcp_ipc_msg h;
    memcpy(&h, p + off, sizeof h);
    if (mq_send(q, (const char *)p + off + sizeof h, h.len, (unsigned)h.type) != 0) {
      saved = errno;
      mq_close(q);
      char what[96];
      snprintf(what, sizeof what, "cannot put back message %u of %u (%u bytes)", m + 1, mr->count, h.len);
      return say(u, what, saved);
    }
    off += (sizeof h + h.len + 7) & ~(uint64_t)7;
  }
  mq_close(q);
  return 0;
}

int sysv_create_objects(void) {
  if (!g_enabled || g_nu == 0) return 0;
  char *scratch = mmap(NULL, DMTCP_CHUNK_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (scratch == MAP_FAILED) {
    fprintf(stderr, "dmtcp_restart: out of memory recreating IPC objects\n");
    return -1;
  }
  int rc = 0;
  for (int i = 0; i < g_nu && rc == 0; i++) {
    const struct uobj *u = &g_u[i];
    switch (u->rec->kind) {
      case DMTCP_IPC_SHM: rc = create_shm(u, scratch); break;
      case DMTCP_IPC_SEM: rc = create_sem(u); break;
      case DMTCP_IPC_MSG: rc = create_msg(u); break;
      case DMTCP_IPC_MQ: rc = create_mq(u); break;
    }
    if (rc == 0 && u->rec->kind != DMTCP_IPC_MQ) rc = set_permissions(u);
  }
  munmap(scratch, DMTCP_CHUNK_PAGES * PAGE);
  return rc;
}

/* ---- each process: where its segments go ------------------------------------- */

/* The whole extent of the attachment region r belongs to. */
static void extent(const struct dmtcp_region *r, uint64_t *base, uint64_t *len) {
  *base = r->start - r->file_offset;
  *len = page_up(object(DMTCP_IPC_SHM, ipc_region_shmid(r))->copy.size);
}

int sysv_span_overlaps(const struct image *img, uint64_t a, uint64_t len) {
  if (!g_enabled) return 0;
  for (uint32_t i = 0; i < img->h->num_regions; i++) {
    if (!sysv_by_shmat(&img->regions[i])) continue;
    uint64_t base, seglen;
    extent(&img->regions[i], &base, &seglen);
    if (a < base + seglen && base < a + len) return 1;
  }
  return 0;
}

static int add_hole(struct rs_plan *plan, uint64_t from, uint64_t to, char *err, size_t errlen) {
  if (to <= from) return 0;
  if (plan->n_holes == 2 * RS_MAX_ATTACH)
    return fail(err, errlen, "%s%s", "too many partly unmapped System V segments", "");
  plan->holes[plan->n_holes].start = from;
  plan->holes[plan->n_holes].len = to - from;
  plan->n_holes++;
  return 0;
}

/* Consecutive regions of one segment at one base are one attachment (split
 * by mprotect, or with parts unmapped: the holes). */
int sysv_plan(const struct image *img, struct rs_plan *plan, char *err, size_t errlen) {
  plan->n_attach = plan->n_holes = 0;
  struct rs_attach *cur = NULL;
  uint64_t cursor = 0;
  uint32_t prot = 0;
  for (uint32_t i = 0; i <= img->h->num_regions; i++) {
    const struct dmtcp_region *r = i < img->h->num_regions ? &img->regions[i] : NULL;
    if (r && !sysv_by_shmat(r)) continue;
    uint64_t base = 0, seglen = 0;
    if (r) extent(r, &base, &seglen);
    int same = r && cur && cur->shmid == ipc_region_shmid(r) && cur->addr == base && r->start >= cursor;
    if (cur && !same) { /* the attachment before is complete */
      if (add_hole(plan, cursor, cur->addr + cur->len, err, errlen) != 0) return -1;
      cur->shmflg = (prot & PROT_WRITE ? 0 : SHM_RDONLY) | (prot & PROT_EXEC ? SHM_EXEC : 0);
      cur = NULL;
    }
    if (!r) break;
    if (!cur) {
      if (plan->n_attach == RS_MAX_ATTACH) return fail(err, errlen, "%s%s", "more than 256 System V segment attachments", "");
      cur = &plan->attach[plan->n_attach++];
      cur->addr = base;
      cur->len = seglen;
      cur->shmid = ipc_region_shmid(r);
      cursor = base;
      prot = 0;
    }
    if (add_hole(plan, cursor, r->start, err, errlen) != 0) return -1;
    cursor = r->end;
    prot |= r->prot;
  }
  return 0;
}
