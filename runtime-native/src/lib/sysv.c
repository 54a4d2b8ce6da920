/* System V IPC objects across a checkpoint: which objects the process knows,
 * and the image's IPC table, from which dmtcp_restart recreates them with the
 * same ids (restart/sysv_restore.c).
 *
 * The objects a process knows: the segments it has attached (in
 * /proc/self/maps as "/SYSV<key>", with the shmid as inode) and every id the
 * program got from, or used with, shmget, shmat, semget, semop, semtimedop,
 * msgget, msgsnd and msgrcv (the wrappers below record it). The list is in
 * the runtime's memory, hence in the image, and a forked child inherits it.
 *
 * At checkpoint, in image_write while every user thread of every member is
 * parked (no malloc, no stdio: a parked thread may hold their locks):
 *   sysv_checkpoint_begin  states each object (IPC_STAT; ids that no longer
 *                          exist are forgotten) and attaches, read-only, each
 *                          segment the process knows but has not attached, so
 *                          that its contents go into the image as a region
 *                          (DMTCP_RF_CONTENT_ONLY);
 *   sysv_table_write       writes the records: semaphore values (GETALL) and
 *                          messages (msgrcv MSG_COPY, which leaves them
 *                          queued), so there is nothing to put back;
 *   sysv_checkpoint_end    detaches those segments again.
 * After a restart in a new IPC namespace (DMTCP_RI_IPC_RESTORED) the ids are
 * valid again; a segment that was marked for removal is marked again at the
 * restart barrier's NS_RESOLVED, when every process has attached it. Without
 * that flag the ids name nothing of ours, and the list is dropped.
 *
 * Not kept: semaphore undo values (SEM_UNDO), the times and pids of the last
 * operations, the creator's uid. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "maps.h"
#include "runtime.h"

#define EXPORT __attribute__((visibility("default")))

enum { K_SHM, K_SEM, K_MSG, K_KINDS };

/* ---- ids the program got ------------------------------------------------ */

#define MAX_KNOWN 1024
/* id + 1, 0 for a free slot. Lock-free, as the wrappers run in any thread and
 * the checkpoint thread reads the table while those threads are parked,
 * possibly in the middle of an insertion. */
static _Atomic uint32_t g_known[K_KINDS][MAX_KNOWN];

static void remember(int kind, int id) {
  if (id < 0) return;
  uint32_t want = (uint32_t)id + 1;
  for (int i = 0; i < MAX_KNOWN; i++) {
    uint32_t v = atomic_load(&g_known[kind][i]);
    if (v == want) return;
    if (v == 0) {
      uint32_t expected = 0;
      if (atomic_compare_exchange_strong(&g_known[kind][i], &expected, want) || expected == want) return;
    }
  }
}

static void forget(int kind, int id) {
  for (int i = 0; i < MAX_KNOWN; i++) {
    uint32_t v = (uint32_t)id + 1;
    atomic_compare_exchange_strong(&g_known[kind][i], &v, 0);
  }
}

/* ---- wrappers ------------------------------------------------------------ */

/* glibc's functions, for the ones that are cancellation points. */
static void *next_fn(void *_Atomic *cache, const char *name) {
  void *f = atomic_load(cache);
  if (!f) {
    f = dlsym(RTLD_NEXT, name);
    atomic_store(cache, f);
  }
  return f;
}

EXPORT int shmget(key_t key, size_t size, int flags) {
  int id = (int)syscall(SYS_shmget, key, size, flags);
  remember(K_SHM, id);
  return id;
}

EXPORT void *shmat(int id, const void *addr, int flags) {
  void *p = (void *)syscall(SYS_shmat, id, addr, flags);
  if (p != (void *)-1) remember(K_SHM, id);
  return p;
}

EXPORT int semget(key_t key, int nsems, int flags) {
  int id = (int)syscall(SYS_semget, key, nsems, flags);
  remember(K_SEM, id);
  return id;
}

EXPORT int msgget(key_t key, int flags) {
  int id = (int)syscall(SYS_msgget, key, flags);
  remember(K_MSG, id);
  return id;
}

/* These calls fail with EINTR after any signal handler, SA_RESTART or not
 * (signal(7)), so a checkpoint would interrupt a program blocked in one. The
 * checkpoint signal's handler returns only when the threads are released
 * (g_release moves): an EINTR across such a release is the checkpoint's, and
 * the call is made again, with what is left of its timeout. An EINTR of the
 * program's own signal that coincides with a checkpoint is lost. */
static int ckpt_interrupted(int seen) { return errno == EINTR && atomic_load(&g_release) != seen; }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What is left of timeout since start, or 0 if nothing. The clock may have
 * moved back (restarted after a reboot): then the whole timeout is left. */
static int time_left(int64_t start, const struct timespec *timeout, struct timespec *left) {
  int64_t total = (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;
  int64_t spent = now_ns() - start;
  if (spent < 0) spent = 0;
  if (spent >= total) return 0;
  int64_t rest = total - spent;
  left->tv_sec = (time_t)(rest / 1000000000);
  left->tv_nsec = (long)(rest % 1000000000);
  return 1;
}

EXPORT int semtimedop(int id, struct sembuf *ops, size_t n, const struct timespec *timeout) {
  static void *_Atomic next;
  int (*fn)(int, struct sembuf *, size_t, const struct timespec *) =
      (int (*)(int, struct sembuf *, size_t, const struct timespec *))next_fn(&next, "semtimedop");
  remember(K_SEM, id);
  int64_t start = timeout ? now_ns() : 0;
  struct timespec left;
  if (timeout) left = *timeout;
  for (;;) {
    int seen = atomic_load(&g_release);
    int rc = fn(id, ops, n, timeout ? &left : NULL);
    if (rc == 0 || !ckpt_interrupted(seen)) return rc;
    if (timeout && !time_left(start, timeout, &left)) {
      errno = EAGAIN;
      return -1;
    }
  }
}

EXPORT int semop(int id, struct sembuf *ops, size_t n) {
  static void *_Atomic next;
  int (*fn)(int, struct sembuf *, size_t) = (int (*)(int, struct sembuf *, size_t))next_fn(&next, "semop");
  remember(K_SEM, id);
  for (;;) {
    int seen = atomic_load(&g_release);
    int rc = fn(id, ops, n);
    if (rc == 0 || !ckpt_interrupted(seen)) return rc;
  }
}

EXPORT int msgsnd(int id, const void *msg, size_t len, int flags) {
  static void *_Atomic next;
  int (*fn)(int, const void *, size_t, int) = (int (*)(int, const void *, size_t, int))next_fn(&next, "msgsnd");
  remember(K_MSG, id);
  for (;;) {
    int seen = atomic_load(&g_release);
    int rc = fn(id, msg, len, flags);
    if (rc == 0 || !ckpt_interrupted(seen)) return rc;
  }
}

EXPORT ssize_t msgrcv(int id, void *msg, size_t len, long type, int flags) {
  static void *_Atomic next;
  ssize_t (*fn)(int, void *, size_t, long, int) =
      (ssize_t (*)(int, void *, size_t, long, int))next_fn(&next, "msgrcv");
  remember(K_MSG, id);
  for (;;) {
    int seen = atomic_load(&g_release);
    ssize_t rc = fn(id, msg, len, type, flags);
    if (rc >= 0 || !ckpt_interrupted(seen)) return rc;
  }
}

/* ---- at checkpoint -------------------------------------------------------- */

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
};

struct ipc_obj {
  struct dmtcp_ipc_record rec;
  int attached;          /* SHM: mapped by the process */
  uintptr_t temp;        /* SHM: where the checkpoint attached it, or 0 */
  size_t payload_cap;    /* bytes to reserve for its payload */
};

#define MAX_OBJS 512
static struct ipc_obj g_objs[MAX_OBJS];
static uint32_t g_nobjs;
static int g_said_full;

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

static struct ipc_obj *find(uint32_t kind, int id) {
  for (uint32_t i = 0; i < g_nobjs; i++)
    if (g_objs[i].rec.kind == kind && g_objs[i].rec.id == id) return &g_objs[i];
  return NULL;
}

static struct ipc_obj *new_obj(uint32_t kind, int id, const struct ipc_perm *perm) {
  if (g_nobjs == MAX_OBJS) {
    if (!g_said_full) rt_log("more than 512 IPC objects: the rest are not saved", NULL);
    g_said_full = 1;
    return NULL;
  }
  struct ipc_obj *o = &g_objs[g_nobjs++];
  memset(o, 0, sizeof *o);
  o->rec.kind = kind;
  o->rec.id = id;
  o->rec.key = perm->__key;
  o->rec.mode = perm->mode & 0777;
  o->rec.uid = perm->uid;
  o->rec.gid = perm->gid;
  return o;
}

/* Forgets an id that names nothing any more (removed by some process);
 * keeps one it cannot read (EACCES), but cannot save it either. */
static void gone(int kind, int id) {
  if (errno == EINVAL || errno == EIDRM) {
    forget(kind, id);
  } else {
    char num[24];
    rt_utoa(num, (unsigned long)id);
    rt_log("cannot read a System V IPC object, not saved: id ", num);
  }
}

static void add_shm(int id, int attached) {
  struct ipc_obj *o = find(DMTCP_IPC_SHM, id);
  if (o) {
    o->attached |= attached;
    return;
  }
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) {
    if (!attached) gone(K_SHM, id); /* an attached "/SYSV" file that is no segment: a file */
    return;
  }
  o = new_obj(DMTCP_IPC_SHM, id, &ds.shm_perm);
  if (!o) return;
  o->attached = attached;
  o->rec.size = ds.shm_segsz;
  if (ds.shm_perm.mode & SHM_DEST) o->rec.flags |= DMTCP_IPCF_REMOVED;
}

static void add_sem(int id) {
  struct semid_ds ds;
  union semun arg = {.buf = &ds};
  if (semctl(id, 0, IPC_STAT, arg) != 0) {
    gone(K_SEM, id);
    return;
  }
  struct ipc_obj *o = new_obj(DMTCP_IPC_SEM, id, &ds.sem_perm);
  if (!o) return;
  o->rec.count = (uint32_t)ds.sem_nsems;
  o->payload_cap = round8((size_t)ds.sem_nsems * sizeof(uint16_t));
}

static void add_msg(int id) {
  struct msqid_ds ds;
  if (msgctl(id, IPC_STAT, &ds) != 0) {
    gone(K_MSG, id);
    return;
  }
  struct ipc_obj *o = new_obj(DMTCP_IPC_MSG, id, &ds.msg_perm);
  if (!o) return;
  o->rec.size = ds.msg_qbytes;
  o->payload_cap = (size_t)ds.msg_qnum * round8(sizeof(struct dmtcp_ipc_msg) + 7) + round8(ds.__msg_cbytes);
}

/* "/SYSV" and eight hex digits, as the kernel names a segment's file. */
static int is_sysv_path(const char *p) {
  if (strncmp(p, "/SYSV", 5) != 0) return 0;
  for (int i = 5; i < 13; i++) {
    char c = p[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return p[13] == '\0' || strcmp(p + 13, " (deleted)") == 0;
}

void sysv_checkpoint_begin(char *maps, size_t cap) {
  g_nobjs = 0;
  long len = maps_read(maps, cap);
  size_t pos = 0;
  struct map_entry e;
  while (len > 0 && maps_next(maps, (size_t)len, &pos, &e))
    if (e.shared && is_sysv_path(e.path) && e.ino <= INT32_MAX) add_shm((int)e.ino, 1);
  for (int i = 0; i < MAX_KNOWN; i++) {
    uint32_t v = atomic_load(&g_known[K_SHM][i]);
    if (v) add_shm((int)(v - 1), 0);
  }
  for (int i = 0; i < MAX_KNOWN; i++) {
    uint32_t v = atomic_load(&g_known[K_SEM][i]);
    if (v && !find(DMTCP_IPC_SEM, (int)(v - 1))) add_sem((int)(v - 1));
  }
  for (int i = 0; i < MAX_KNOWN; i++) {
    uint32_t v = atomic_load(&g_known[K_MSG][i]);
    if (v && !find(DMTCP_IPC_MSG, (int)(v - 1))) add_msg((int)(v - 1));
  }
  for (uint32_t i = 0; i < g_nobjs; i++) {
    struct ipc_obj *o = &g_objs[i];
    if (o->rec.kind != DMTCP_IPC_SHM || o->attached) continue;
    long p = syscall(SYS_shmat, o->rec.id, NULL, SHM_RDONLY);
    if (p == -1) {
      char num[24];
      rt_utoa(num, (unsigned long)o->rec.id);
      rt_log("cannot read a System V segment to save its contents; it comes back empty: id ", num);
    } else {
      o->temp = (uintptr_t)p;
    }
  }
}

int sysv_content_only(uint64_t start) {
  for (uint32_t i = 0; i < g_nobjs; i++)
    if (g_objs[i].temp && g_objs[i].temp == start) return 1;
  return 0;
}

void sysv_checkpoint_end(void) {
  for (uint32_t i = 0; i < g_nobjs; i++) {
    if (g_objs[i].temp) syscall(SYS_shmdt, g_objs[i].temp);
    g_objs[i].temp = 0;
  }
}

/* The table also lists the POSIX queues (posixmq.c), after the System V objects. */
size_t sysv_table_len(void) {
  size_t n = (size_t)(g_nobjs + posixmq_nrecords()) * sizeof(struct dmtcp_ipc_record);
  for (uint32_t i = 0; i < g_nobjs; i++) n += g_objs[i].payload_cap;
  return n + posixmq_payload_cap();
}

/* The queue's messages, in order, without taking them out. */
static size_t copy_messages(struct ipc_obj *o, char *out, size_t cap) {
  size_t used = 0;
  o->rec.count = 0;
  for (long i = 0;; i++) {
    size_t hdr = sizeof(struct dmtcp_ipc_msg);
    if (cap - used < hdr + 8) break;
    char *p = out + used;
    /* struct msgbuf is the mtype then the bytes: placed so that the bytes
     * land right after our header and the mtype on its last 8 bytes */
    long got = syscall(SYS_msgrcv, o->rec.id, p + hdr - sizeof(long), cap - used - hdr, i, IPC_NOWAIT | MSG_COPY);
    if (got < 0) {
      if (errno != ENOMSG) {
        char num[24];
        rt_utoa(num, (unsigned long)o->rec.id);
        rt_log("cannot read the messages of a System V queue (MSG_COPY); not all saved: id ", num);
      }
      break;
    }
    long type;
    memcpy(&type, p + hdr - sizeof(long), sizeof type);
    struct dmtcp_ipc_msg m = {.type = type, .len = (uint32_t)got, .reserved = 0};
    memcpy(p, &m, sizeof m);
    used += round8(hdr + (size_t)got);
    o->rec.count++;
  }
  return used;
}

uint32_t sysv_table_write(void *buf, size_t cap, size_t *len) {
  char *base = buf;
  uint32_t nmq = posixmq_nrecords();
  size_t off = (size_t)(g_nobjs + nmq) * sizeof(struct dmtcp_ipc_record);
  for (uint32_t i = 0; i < g_nobjs; i++) {
    struct ipc_obj *o = &g_objs[i];
    size_t room = o->payload_cap <= cap - off ? o->payload_cap : 0;
    o->rec.payload_offset = off;
    o->rec.payload_len = 0;
    if (o->rec.kind == DMTCP_IPC_SEM && room) {
      union semun arg = {.array = (unsigned short *)(void *)(base + off)};
      if (semctl(o->rec.id, 0, GETALL, arg) == 0) o->rec.payload_len = room;
    } else if (o->rec.kind == DMTCP_IPC_MSG) {
      o->rec.payload_len = copy_messages(o, base + off, room);
    }
    if (o->rec.kind == DMTCP_IPC_SEM && o->rec.payload_len == 0) o->rec.count = 0;
    off += round8(o->rec.payload_len);
    memcpy(base + (size_t)i * sizeof o->rec, &o->rec, sizeof o->rec);
  }
  for (uint32_t k = 0; k < nmq; k++) {
    struct dmtcp_ipc_record rec;
    size_t n = posixmq_record(k, &rec, base + off, cap - off);
    rec.payload_offset = off;
    rec.payload_len = n;
    off += round8(n);
    memcpy(base + (size_t)(g_nobjs + k) * sizeof rec, &rec, sizeof rec);
  }
  *len = off;
  return g_nobjs + nmq;
}

/* ---- after a restart ------------------------------------------------------ */

static int g_ipc_restored;

void sysv_restarted(uint32_t restore_flags) {
  g_ipc_restored = (restore_flags & DMTCP_RI_IPC_RESTORED) != 0;
  if (g_ipc_restored) return;
  /* the ids now name nothing of ours, or another program's objects */
  for (int k = 0; k < K_KINDS; k++)
    for (int i = 0; i < MAX_KNOWN; i++) atomic_store(&g_known[k][i], 0);
  g_nobjs = 0;
}

/* NS_RESOLVED: every process of the computation runs and has attached its
 * segments, so those that were marked for removal can be marked again. */
void sysv_restart_resolved(void) {
  if (!g_ipc_restored) return;
  for (uint32_t i = 0; i < g_nobjs; i++) {
    struct ipc_obj *o = &g_objs[i];
    if (o->rec.kind == DMTCP_IPC_SHM && (o->rec.flags & DMTCP_IPCF_REMOVED) && shmctl(o->rec.id, IPC_RMID, NULL) != 0 &&
        errno != EINVAL && errno != EIDRM) {
      char num[24];
      rt_utoa(num, (unsigned long)o->rec.id);
      rt_log("restart: cannot mark a System V segment for removal again: id ", num);
    }
  }
}
