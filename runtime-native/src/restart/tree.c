#include "restart/tree.h"

#include "common/coord_select.h"
#include "restart/fds/fdrestore.h"
#include "restart/idgap.h"
#include "restart/sysv_restore.h"
#include "restart/zombies.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int tree_write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = (ssize_t)strlen(text);
  int ok = write(fd, text, (size_t)len) == len;
  int saved = errno;
  close(fd);
  errno = saved;
  return ok ? 0 : -1;
}

int tree_enter_namespaces(char *why, size_t whylen) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  int user = geteuid() != 0;
  if (unshare(CLONE_NEWPID | CLONE_NEWNS | (user ? CLONE_NEWUSER : 0)) != 0) {
    snprintf(why, whylen, "cannot create a %spid namespace: %s", user ? "user and " : "", strerror(errno));
    return -1;
  }
  if (user) {
    /* Only our own ids, mapped to themselves: the program keeps its uid and gid. */
    char map[64];
    snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
    if (tree_write_file("/proc/self/uid_map", map) != 0 || tree_write_file("/proc/self/setgroups", "deny") != 0) {
      snprintf(why, whylen, "cannot map uid %u into the user namespace: %s", (unsigned)uid, strerror(errno));
      return -1;
    }
    snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
    if (tree_write_file("/proc/self/gid_map", map) != 0) {
      snprintf(why, whylen, "cannot map gid %u into the user namespace: %s", (unsigned)gid, strerror(errno));
      return -1;
    }
  } else if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
    /* (in a new user namespace the kernel makes the copied mounts slaves itself) */
    snprintf(why, whylen, "cannot make the mount namespace private: %s", strerror(errno));
    return -1;
  }
  return user;
}

/* ---- inside the namespace ------------------------------------------------ */

static const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCONT, SIGWINCH};
#define NFORWARDED (int)(sizeof FORWARDED / sizeof FORWARDED[0])
static volatile sig_atomic_t g_pending[65];

static void remember(int sig) { g_pending[sig] = 1; } /* async-signal-safe */

static void catch_forwarded(void (*handler)(int)) {
  for (int i = 0; i < NFORWARDED; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(FORWARDED[i], &sa, NULL);
  }
}

static void forward_pending(const pid_t *to, int nto) {
  for (int i = 0; i < NFORWARDED; i++) {
    int sig = FORWARDED[i];
    if (!g_pending[sig]) continue;
    g_pending[sig] = 0;
    for (int k = 0; k < nto; k++)
      if (to[k] > 0) kill(to[k], sig);
  }
}

static const struct image *g_imgs;
static int g_n;
static void (*g_restore_one)(int);
static int g_quiet;

/* ---- shared memory -------------------------------------------------------
 * A MAP_SHARED region (anonymous shared memory, POSIX or System V shm, a
 * shared file mapping) is one object for all the processes that map it
 * (same device and inode at checkpoint). Process 1 recreates each object
 * once, as a memfd holding the checkpointed contents, and every process maps
 * that memfd where it had the object (restorer RS_SHARED), so a semaphore or
 * a counter in it is shared again after restart. */
struct shared_obj { uint64_t dev, ino, size; int fd; const char *path; };
static struct shared_obj g_objs[512];
static int g_nobjs;

static int is_shared(const struct dmtcp_region *r) {
  return (r->kind == DMTCP_REGION_SHARED_ANON || r->kind == DMTCP_REGION_SHARED_FILE) &&
         (r->flags & DMTCP_RF_HAS_DATA) && r->object_ino != 0 &&
         !(r->flags & DMTCP_RF_CONTENT_ONLY) && !sysv_by_shmat(r); /* System V: sysv_restore.c */
}

static struct shared_obj *object_of(const struct dmtcp_region *r) {
  for (int k = 0; k < g_nobjs; k++)
    if (g_objs[k].dev == r->object_dev && g_objs[k].ino == r->object_ino) return &g_objs[k];
  return NULL;
}

int tree_shared_fd(const struct dmtcp_region *r) {
  struct shared_obj *o = is_shared(r) ? object_of(r) : NULL;
  return o ? o->fd : -1;
}

/* The recreated object of device dev, inode ino (a memfd descriptor of the program
 * that also maps it), or -1. */
static int shared_object_fd(uint64_t dev, uint64_t ino) {
  for (int k = 0; k < g_nobjs; k++)
    if (g_objs[k].dev == dev && g_objs[k].ino == ino) return g_objs[k].fd;
  return -1;
}

/* Reports its own failure in one line. */
static int make_shared_objects(int base) {
  for (int i = 0; i < g_n; i++) {
    for (uint32_t k = 0; k < g_imgs[i].h->num_regions; k++) {
      const struct dmtcp_region *r = &g_imgs[i].regions[k];
      if (!is_shared(r)) continue;
      struct shared_obj *o = object_of(r);
      if (!o) {
        if (g_nobjs == 512) {
          fprintf(stderr, "dmtcp_restart: more than 512 shared memory objects\n");
          return -1;
        }
        o = &g_objs[g_nobjs++];
        o->dev = r->object_dev;
        o->ino = r->object_ino;
        o->fd = -1;
        o->size = 0;
        o->path = r->kind == DMTCP_REGION_SHARED_FILE ? r->path : NULL;
      }
      uint64_t end = r->file_offset + (r->end - r->start);
      if (end > o->size) o->size = end;
    }
  }
  for (int k = 0; k < g_nobjs; k++) {
    /* A file that is still there is the object again (QUICK-START's heuristic: a
     * file the user may write gets the checkpointed contents, and stays linked to
     * the mapping); an unlinked one, or anonymous shared memory, is a memfd (which
     * may carry seals, as a memfd of the program). */
    struct stat st;
    const char *path = g_objs[k].path;
    int fd = -1;
    int real = 0;
    /* (never a file that is shorter than the mappings: it is not resized) */
    if (path && !strstr(path, " (deleted)") && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size >= g_objs[k].size) {
      fd = open(path, O_RDWR | O_CLOEXEC);
      real = fd >= 0;
    }
    if (fd < 0) fd = (int)syscall(SYS_memfd_create, "dmtcp-shared", MFD_ALLOW_SEALING);
    if (fd < 0 || (!real && ftruncate(fd, (off_t)g_objs[k].size) != 0) || (g_objs[k].fd = fcntl(fd, F_DUPFD, base)) < 0) {
      fprintf(stderr, "dmtcp_restart: cannot recreate a shared memory object of %llu bytes: %s\n",
              (unsigned long long)g_objs[k].size, strerror(errno));
      return -1;
    }
    close(fd);
  }
  /* contents: every region's chunks, checked as they are decoded */
  char *scratch = mmap(NULL, DMTCP_CHUNK_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (scratch == MAP_FAILED) {
    fprintf(stderr, "dmtcp_restart: out of memory recreating shared memory\n");
    return -1;
  }
  for (int i = 0; i < g_n; i++) {
    struct chunk_ref *refs = NULL;
    char err[256];
    long n = image_chunks(&g_imgs[i], &refs, err, sizeof err);
    if (n < 0) {
      fprintf(stderr, "dmtcp_restart: %s: %s\n", g_imgs[i].path, err);
      return -1;
    }
    for (uint32_t k = 0; k < g_imgs[i].h->num_regions; k++) {
      const struct dmtcp_region *r = &g_imgs[i].regions[k];
      struct shared_obj *o = is_shared(r) ? object_of(r) : NULL;
      if (!o) continue;
      char *view = mmap(NULL, r->end - r->start, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, (off_t)r->file_offset);
      if (view == MAP_FAILED) {
        fprintf(stderr, "dmtcp_restart: cannot map a recreated shared memory object: %s\n", strerror(errno));
        return -1;
      }
      for (long c = 0; c < n; c++) {
        if (refs[c].region != k) continue;
        if (chunk_decode(&refs[c], view + (refs[c].addr - r->start), scratch, err, sizeof err) != 0) {
          fprintf(stderr, "dmtcp_restart: %s: %s\n", g_imgs[i].path, err);
          return -1;
        }
      }
      munmap(view, r->end - r->start);
    }
    free(refs);
  }
  munmap(scratch, DMTCP_CHUNK_PAGES * 4096);
  return 0;
}

/* A new process with pid `want` (as the image had it), or any pid if the
 * namespace cannot give that one (or none at all with exact). With
 * CLONE_PARENT in flags the new process is the caller's sibling: its parent
 * is the caller's parent, its session and group the caller's. */
static pid_t clone_with_pid(pid_t want, uint64_t flags, int exact) {
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = flags;
  ca.exit_signal = flags & CLONE_PARENT ? 0 : SIGCHLD; /* (CLONE_PARENT: the caller's own) */
  if (want > 1) {
    ca.set_tid = (uint64_t)(uintptr_t)&want;
    ca.set_tid_size = 1;
  }
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0 && want > 1 && !exact) {
    if (!g_quiet)
      fprintf(stderr, "dmtcp_restart: cannot give a process its pid %d back (%s); it gets another\n", (int)want,
              strerror(errno));
    ca.set_tid = 0;
    ca.set_tid_size = 0;
    pid = syscall(SYS_clone3, &ca, sizeof ca);
  }
  return (pid_t)pid;
}

static int g_report_fd = -1;

/* Creates image i's process, which first creates its own children (so they
 * are its children again) and then restores itself. Returns its pid. With
 * CLONE_PARENT in flags (a ghost creating a root of its session, see below)
 * the caller cannot set the new process's group, so it waits until the
 * process has done it itself. */
static pid_t spawn(int i, uint64_t flags) {
  const struct dmtcp_image_header *h = g_imgs[i].h;
  int placed[2] = {-1, -1};
  if ((flags & CLONE_PARENT) && pipe2(placed, O_CLOEXEC) != 0) placed[0] = placed[1] = -1;
  pid_t pid = clone_with_pid((pid_t)h->vpid, flags, 0);
  if (pid != 0) {
    /* Parent and child both set the group, as shells do, so that a sibling
     * created next can join it whichever runs first. */
    if (pid > 0 && !(flags & CLONE_PARENT) && h->vsid != h->vpid && h->vpgid != 0) setpgid(pid, (pid_t)h->vpgid);
    if (placed[0] >= 0) {
      close(placed[1]);
      char c;
      while (read(placed[0], &c, 1) < 0 && errno == EINTR) {
      }
      close(placed[0]);
    }
    return pid;
  }
  catch_forwarded(SIG_DFL);
  if (g_report_fd >= 0) close(g_report_fd); /* a session ghost's, to process 1 */
  g_report_fd = -1;
  if (h->vsid == h->vpid) {
    setsid();
  } else if (h->vpgid != 0) {
    setpgid(0, h->vpgid == h->vpid ? 0 : (pid_t)h->vpgid);
  }
  if (placed[0] >= 0) {
    close(placed[0]);
    close(placed[1]); /* the creator reads end-of-file: placed */
  }
  /* its children, in pid order: a group's leader usually has the lowest pid */
  int order[4096];
  int norder = 0;
  for (int c = 0; c < g_n && norder < 4096; c++)
    if (c != i && h->vpid != 0 && g_imgs[c].h->vppid == h->vpid) order[norder++] = c;
  for (int a = 1; a < norder; a++)
    for (int b = a; b > 0 && g_imgs[order[b]].h->vpid < g_imgs[order[b - 1]].h->vpid; b--) {
      int t = order[b];
      order[b] = order[b - 1];
      order[b - 1] = t;
    }
  for (int k = 0; k < norder; k++) spawn(order[k], 0);
  zombies_recreate(&g_imgs[i], g_quiet); /* its children that had ended and were not reaped */
  fdr_take(i);
  g_restore_one(i);
  _exit(dmtcp_fail_rc()); /* not reached */
}

static int is_root(int i) {
  uint32_t ppid = g_imgs[i].h->vppid;
  if (ppid == 0) return 1;
  for (int j = 0; j < g_n; j++)
    if (j != i && g_imgs[j].h->vpid == ppid) return 0;
  return 1;
}

/* ---- ghosts --------------------------------------------------------------
 * A session or process group whose leader was outside the computation (the
 * shell or the harness that ran dmtcp_launch) has no process with its id in
 * the namespace: getsid() and getpgrp() would say 0. So a placeholder, a
 * ghost, stands in for each leader, with its pid: a session ghost (pid = the
 * session id) calls setsid() and creates the roots of its session, so they
 * inherit the session; a group ghost (pid = the group id), created by its
 * session's ghost, calls setpgid(0, 0), and the processes of that group join
 * it. The roots are created with CLONE_PARENT: their parent is process 1, as
 * for every other root, so a ghost is nobody's parent and never shows in the
 * program's children, and process 1 still reaps the roots and sees the first
 * one's exit status. Ghosts run no program code, ignore every signal they
 * can, and are killed by process 1 once no other process is left.
 * When the session's leader was not even in the pid namespace the program
 * ran in (a container's shell, a CI runner: getsid() said 0), process 1 is
 * in dmtcp_restart's session, which the namespace cannot see either, so the
 * session needs no ghost; the group still does, and process 1 creates it. */
struct ghost { pid_t pid, sid; }; /* sid == pid: a session ghost; sid 0: a group ghost of process 1 */
static struct ghost g_ghosts[256];
static int g_nghosts;

static int is_member_pid(uint32_t pid) {
  for (int j = 0; j < g_n; j++)
    if (g_imgs[j].h->vpid == pid) return 1;
  return 0;
}

static int has_ghost(pid_t pid) {
  for (int k = 0; k < g_nghosts; k++)
    if (g_ghosts[k].pid == pid) return 1;
  return 0;
}

/* The session of image i needs a ghost: its leader is not in the computation. */
static int outside_session(int i) {
  const struct dmtcp_image_header *h = g_imgs[i].h;
  return h->vsid > 1 && h->vsid != h->vpid && !is_member_pid(h->vsid);
}

static void plan_ghosts(void) {
  for (int i = 0; i < g_n; i++) {
    const struct dmtcp_image_header *h = g_imgs[i].h;
    if (h->vsid == 0 && h->vpgid > 1 && !is_member_pid(h->vpgid) && !has_ghost((pid_t)h->vpgid) &&
        g_nghosts < 256)
      g_ghosts[g_nghosts++] = (struct ghost){(pid_t)h->vpgid, 0}; /* a group ghost of process 1's */
    if (!outside_session(i)) continue;
    if (!has_ghost((pid_t)h->vsid) && g_nghosts < 256)
      g_ghosts[g_nghosts++] = (struct ghost){(pid_t)h->vsid, (pid_t)h->vsid};
    if (h->vpgid > 1 && h->vpgid != h->vsid && !is_member_pid(h->vpgid) && !has_ghost((pid_t)h->vpgid) &&
        g_nghosts < 256)
      g_ghosts[g_nghosts++] = (struct ghost){(pid_t)h->vpgid, (pid_t)h->vsid};
  }
}

static void close_inherited(void) {
  fdr_close_parked();
  for (int k = 0; k < g_nobjs; k++) close(g_objs[k].fd);
  for (int i = 0; i < g_n; i++) image_close((struct image *)&g_imgs[i]);
}

/* What a ghost does once it is in place: nothing, holding no descriptor
 * (process 1 reads its report to the end) nor image of the computation. */
static _Noreturn void ghost_rest(void) {
  close_inherited();
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0) /* a ghost writes nothing */
    for (int fd = 0; fd < 1024; fd++) close(fd);
  for (int sig = 1; sig < 65; sig++) signal(sig, SIG_IGN); /* SIGCHLD ignored: children reaped */
  prctl(PR_SET_NAME, (unsigned long)"dmtcp-ghost", 0, 0, 0);
  for (;;) pause();
}

struct ghost_report { int index; pid_t pid; }; /* index -1: a group ghost */

/* Creates group ghost g, leading its group; its pid, or -1 (said). */
static pid_t group_ghost(int g) {
  pid_t pid = clone_with_pid(g_ghosts[g].pid, 0, 1);
  if (pid == 0) {
    setpgid(0, 0);
    ghost_rest();
  }
  if (pid < 0) {
    if (!g_quiet)
      fprintf(stderr, "dmtcp_restart: cannot recreate process group %d (%s); its processes restart in another\n",
              (int)g_ghosts[g].pid, strerror(errno));
    return -1;
  }
  setpgid(pid, pid); /* both, so that a root created next finds the group */
  return pid;
}

/* In session ghost k: create the session's group ghosts, then its roots, and
 * tell process 1 (report) each one's pid. */
static _Noreturn void session_ghost(int k, int report) {
  pid_t sid = g_ghosts[k].pid;
  g_report_fd = report;
  if (setsid() < 0) _exit(dmtcp_fail_rc());
  for (int g = 0; g < g_nghosts; g++) {
    if (g_ghosts[g].sid != sid || g_ghosts[g].pid == sid) continue;
    pid_t pid = group_ghost(g);
    if (pid < 0) continue;
    struct ghost_report r = {-1, pid};
    if (write(report, &r, sizeof r) != (ssize_t)sizeof r) _exit(dmtcp_fail_rc());
  }
  for (int i = 0; i < g_n; i++) {
    if (!is_root(i) || !outside_session(i) || (pid_t)g_imgs[i].h->vsid != sid) continue;
    struct ghost_report r = {i, spawn(i, CLONE_PARENT)};
    if (write(report, &r, sizeof r) != (ssize_t)sizeof r) _exit(dmtcp_fail_rc());
  }
  close(report);
  ghost_rest();
}

static pid_t g_live_ghosts[256];
static int g_nlive_ghosts;

static int is_live_ghost(pid_t pid) {
  for (int k = 0; k < g_nlive_ghosts; k++)
    if (g_live_ghosts[k] == pid) return 1;
  return 0;
}

/* 1 while a process other than process 1 and the ghosts is in the namespace
 * (in its own /proc), zombies included. */
static int members_left(void) {
  DIR *d = opendir("/proc");
  if (!d) return 1;
  int left = 0;
  struct dirent *e;
  while (!left && (e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    left = *end == '\0' && pid > 1 && !is_live_ghost((pid_t)pid);
  }
  closedir(d);
  return left;
}

static int by_id(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Every id a restored process, thread (the checkpoint thread included: the
 * images list it), zombie or ghost will ask for, sorted; *n of them. NULL when
 * out of memory. */
static uint32_t *ids_of_the_images(size_t *n) {
  size_t cap = 0;
  for (int i = 0; i < g_n; i++) cap += 3 + g_imgs[i].h->num_threads + g_imgs[i].h->num_zombies;
  uint32_t *ids = malloc((cap + 1) * sizeof *ids);
  if (!ids) return NULL;
  *n = 0;
  for (int i = 0; i < g_n; i++) {
    const struct dmtcp_image_header *h = g_imgs[i].h;
    ids[(*n)++] = h->vpid;
    ids[(*n)++] = h->vpgid; /* a group or session led from outside: its ghost */
    ids[(*n)++] = h->vsid;
    for (uint32_t t = 0; t < h->num_threads; t++) ids[(*n)++] = g_imgs[i].threads[t].tid;
    for (uint32_t z = 0; z < h->num_zombies; z++) ids[(*n)++] = g_imgs[i].zombies[z].pid;
  }
  qsort(ids, *n, sizeof *ids, by_id);
  return ids;
}

/* Until every id of the images is taken by its owner, the namespace also
 * numbers tasks of its own: a staging thread in each process (dmtcp_restart.c),
 * and a process or thread whose id is refused after all. The kernel numbers
 * them upwards from ns_last_pid, whatever the order the owners come back in,
 * so ns_last_pid goes where room for all of them is free of the images' ids.
 * Without such room the restart fails here, in one line, before any process
 * is created; a namespace whose counter cannot be set is said, and a thread
 * that then loses its id gets a new one (suspend.c). */
static void keep_the_images_ids_free(void) {
  size_t n = 0;
  uint32_t *ids = ids_of_the_images(&n);
  if (!ids) {
    fprintf(stderr, "dmtcp_restart: out of memory listing the images' ids\n");
    _exit(dmtcp_fail_rc());
  }
  unsigned long pid_max = 32768; /* the kernel's default, if unreadable */
  FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
  if (f) {
    if (fscanf(f, "%lu", &pid_max) != 1) pid_max = 32768;
    fclose(f);
  }
  uint32_t room = (uint32_t)n + 2 * (uint32_t)g_n + 64, last;
  if (idgap_last_pid(ids, n, (uint32_t)pid_max, room, &last) != 0) {
    fprintf(stderr, "dmtcp_restart: the pid namespace has no %u free ids in a row (pid_max %lu) for its own tasks: "
                    "they could take the images' %zu ids\n", room, pid_max, n);
    _exit(dmtcp_fail_rc());
  }
  free(ids);
  char text[16];
  snprintf(text, sizeof text, "%u", last);
  if (tree_write_file("/proc/sys/kernel/ns_last_pid", text) != 0 && !g_quiet)
    fprintf(stderr, "dmtcp_restart: cannot set the pid namespace's ns_last_pid (%s); a thread may not get its tid back\n",
            strerror(errno));
}

/* Process 1 of the namespace: mounts its /proc, creates the roots (and the
 * ghosts), reaps every orphan, and ends with the first root's exit status. */
static _Noreturn void tree_init(void) {
  /* If dmtcp_restart is killed, so is the computation: process 1's death ends
   * its pid namespace. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int own_proc = mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0;
  if (!own_proc && !g_quiet)
    fprintf(stderr, "dmtcp_restart: cannot mount /proc for the pid namespace (%s); /proc/<pid> shows other pids\n",
            strerror(errno));
  keep_the_images_ids_free(); /* first: nothing else is in the namespace yet */
  if (make_shared_objects(fdr_parking_base()) != 0) _exit(dmtcp_fail_rc());
  /* every descriptor the processes had, made once, parked for them to take */
  if (fdr_create(shared_object_fd) != 0) _exit(dmtcp_fail_rc());
  if (sysv_create_objects() != 0) _exit(dmtcp_fail_rc()); /* IPC objects with their ids */
  catch_forwarded(remember);
  /* Without our own /proc we could not tell when only ghosts are left. */
  if (own_proc) plan_ghosts();
  pid_t roots[4096];
  int root_index[4096];
  int nroots = 0, first = -1;
  int by_ghost[4096] = {0}; /* image index: its root was created by a session ghost */
  for (int k = 0; k < g_nghosts; k++) { /* the groups of the invisible session, before their roots */
    if (g_ghosts[k].sid != 0) continue;
    pid_t pid = group_ghost(k);
    if (pid > 0) g_live_ghosts[g_nlive_ghosts++] = pid;
  }
  for (int k = 0; k < g_nghosts; k++) {
    if (g_ghosts[k].pid != g_ghosts[k].sid) continue;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) break;
    pid_t pid = clone_with_pid(g_ghosts[k].pid, 0, 1);
    if (pid == 0) {
      close(report[0]);
      session_ghost(k, report[1]);
    }
    close(report[1]);
    if (pid < 0) {
      if (!g_quiet)
        fprintf(stderr, "dmtcp_restart: cannot recreate session %d (%s); its processes restart in another\n",
                (int)g_ghosts[k].pid, strerror(errno));
      close(report[0]);
      continue;
    }
    g_live_ghosts[g_nlive_ghosts++] = pid;
    struct ghost_report r;
    ssize_t got;
    while ((got = read(report[0], &r, sizeof r)) == (ssize_t)sizeof r || (got < 0 && errno == EINTR)) {
      if (got < 0) continue;
      if (r.index < 0) {
        if (g_nlive_ghosts < 256) g_live_ghosts[g_nlive_ghosts++] = r.pid;
      } else if (r.index < g_n && r.index < 4096 && nroots < 4096) {
        by_ghost[r.index] = 1;
        root_index[nroots] = r.index;
        roots[nroots++] = r.pid;
      }
    }
    close(report[0]);
  }
  /* images[0]'s root: the foreground process whose status we return */
  int top = 0;
  for (int guard = 0; guard < g_n && !is_root(top); guard++)
    for (int j = 0; j < g_n; j++)
      if (g_imgs[j].h->vpid == g_imgs[top].h->vppid) {
        top = j;
        break;
      }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < g_n && nroots < 4096; i++) {
      if (!is_root(i) || (i < 4096 && by_ghost[i]) || (pass == 0) != (i == top)) continue;
      root_index[nroots] = i;
      roots[nroots++] = spawn(i, 0);
    }
  for (int k = 0; k < nroots; k++)
    if (root_index[k] == top) first = k;
  close_inherited(); /* process 1 keeps no descriptor of theirs, nor the images (deleted at the next checkpoint) */
  forward_pending(roots, nroots); /* what came while they were being created */
  int code = 0;
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) {
        forward_pending(roots, nroots);
        continue;
      }
      break; /* ECHILD: everyone is gone */
    }
    for (int k = 0; k < nroots; k++) {
      if (roots[k] != pid) continue;
      roots[k] = 0;
      if (k == first) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (g_nlive_ghosts && !members_left()) { /* the computation has ended: so do the ghosts */
      for (int k = 0; k < g_nlive_ghosts; k++) kill(g_live_ghosts[k], SIGKILL);
      g_nlive_ghosts = 0;
    }
  }
  _exit(code);
}

int tree_run(int n, struct image *imgs, void (*restore_one)(int index), int quiet) {
  g_imgs = imgs;
  g_n = n;
  g_restore_one = restore_one;
  g_quiet = quiet;
  pid_t init = fork();
  if (init < 0) return -1;
  if (init == 0) tree_init();
  for (int i = 0; i < n; i++) image_close(&imgs[i]); /* the namespace's processes have their own mappings */
  catch_forwarded(remember);
  for (;;) {
    int status;
    pid_t pid = waitpid(init, &status, 0);
    if (pid == init) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (errno != EINTR) return -1;
    forward_pending(&init, 1);
  }
}
