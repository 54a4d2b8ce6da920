#include "restart/tree.h"

#include "common/coord_select.h"

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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = (ssize_t)strlen(text);
  int ok = write(fd, text, (size_t)len) == len;
  close(fd);
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
    if (write_file("/proc/self/uid_map", map) != 0 || write_file("/proc/self/setgroups", "deny") != 0) {
      snprintf(why, whylen, "cannot map uid %u into the user namespace: %s", (unsigned)uid, strerror(errno));
      return -1;
    }
    snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0) {
      snprintf(why, whylen, "cannot map gid %u into the user namespace: %s", (unsigned)gid, strerror(errno));
      return -1;
    }
  } else if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
    /* (in a new user namespace the kernel makes the copied mounts slaves itself) */
    snprintf(why, whylen, "cannot make the mount namespace private: %s", strerror(errno));
    return -1;
  }
  return 0;
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

/* ---- pipes ------------------------------------------------------------- */

/* Every pipe of the computation is made once, by process 1, and reaches the
 * processes that held it by inheritance, parked at descriptors above any the
 * images use; each process then takes its own ends to their old numbers and
 * closes the rest, so no process keeps an end it did not have (a stray write
 * end would keep its readers from ever seeing end-of-file). */
struct made_pipe { uint64_t ino; int rfd, wfd; };
static struct made_pipe g_made[1024];
static int g_nmade;

/* Above every descriptor number an image uses. */
static int parking_base(void) {
  int top = 2;
  for (int i = 0; i < g_n; i++)
    for (uint32_t k = 0; k < g_imgs[i].h->num_fds; k++)
      if (g_imgs[i].fds[k].fd > top) top = g_imgs[i].fds[k].fd;
  return top + 1;
}

static int make_pipes(void) {
  int base = parking_base();
  for (int i = 0; i < g_n; i++) {
    for (uint32_t k = 0; k < g_imgs[i].h->num_fds; k++) {
      const struct dmtcp_fd_record *r = &g_imgs[i].fds[k];
      int seen = 0;
      for (int m = 0; m < g_nmade && !seen; m++) seen = g_made[m].ino == r->ino;
      if (seen || g_nmade == 1024) continue;
      int p[2];
      if (pipe(p) != 0) return -1;
      if (r->pipe_size) fcntl(p[0], F_SETPIPE_SZ, (int)r->pipe_size);
      struct made_pipe *m = &g_made[g_nmade++];
      m->ino = r->ino;
      m->rfd = fcntl(p[0], F_DUPFD, base);
      m->wfd = fcntl(p[1], F_DUPFD, base);
      close(p[0]);
      close(p[1]);
      if (m->rfd < 0 || m->wfd < 0) return -1;
    }
  }
  return 0;
}

/* ---- shared memory -------------------------------------------------------
 * A MAP_SHARED region (anonymous shared memory, POSIX or System V shm, a
 * shared file mapping) is one object for all the processes that map it
 * (same device and inode at checkpoint). Process 1 recreates each object
 * once, as a memfd holding the checkpointed contents, and every process maps
 * that memfd where it had the object (restorer RS_SHARED), so a semaphore or
 * a counter in it is shared again after restart. */
struct shared_obj { uint64_t dev, ino, size; int fd; };
static struct shared_obj g_objs[512];
static int g_nobjs;

static int is_shared(const struct dmtcp_region *r) {
  return (r->kind == DMTCP_REGION_SHARED_ANON || r->kind == DMTCP_REGION_SHARED_FILE) &&
         (r->flags & DMTCP_RF_HAS_DATA) && r->object_ino != 0;
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
      }
      uint64_t end = r->file_offset + (r->end - r->start);
      if (end > o->size) o->size = end;
    }
  }
  for (int k = 0; k < g_nobjs; k++) {
    int fd = (int)syscall(SYS_memfd_create, "dmtcp-shared", 0);
    if (fd < 0 || ftruncate(fd, (off_t)g_objs[k].size) != 0 || (g_objs[k].fd = fcntl(fd, F_DUPFD, base)) < 0) {
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

static void take_own_pipes(int i) {
  for (uint32_t k = 0; k < g_imgs[i].h->num_fds; k++) {
    const struct dmtcp_fd_record *r = &g_imgs[i].fds[k];
    for (int m = 0; m < g_nmade; m++) {
      if (g_made[m].ino != r->ino) continue;
      int from = r->kind == DMTCP_FD_PIPE_READ ? g_made[m].rfd : g_made[m].wfd;
      if (dup2(from, r->fd) < 0) break;
      fcntl(r->fd, F_SETFD, (int)r->fd_flags);
      fcntl(r->fd, F_SETFL, (int)(r->status_flags & (O_NONBLOCK | O_ASYNC)));
    }
  }
  for (int m = 0; m < g_nmade; m++) {
    close(g_made[m].rfd);
    close(g_made[m].wfd);
  }
}

/* A new process with pid `want` (as the image had it), or any pid if the
 * namespace cannot give that one. */
static pid_t clone_with_pid(pid_t want) {
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.exit_signal = SIGCHLD;
  if (want > 1) {
    ca.set_tid = (uint64_t)(uintptr_t)&want;
    ca.set_tid_size = 1;
  }
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0 && want > 1) {
    if (!g_quiet)
      fprintf(stderr, "dmtcp_restart: cannot give a process its pid %d back (%s); it gets another\n", (int)want,
              strerror(errno));
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    pid = syscall(SYS_clone3, &ca, sizeof ca);
  }
  return (pid_t)pid;
}

/* Creates image i's process, which first creates its own children (so they
 * are its children again) and then restores itself. Returns its pid. */
static pid_t spawn(int i) {
  const struct dmtcp_image_header *h = g_imgs[i].h;
  pid_t pid = clone_with_pid((pid_t)h->vpid);
  if (pid != 0) {
    /* Parent and child both set the group, as shells do, so that a sibling
     * created next can join it whichever runs first. */
    if (pid > 0 && h->vsid != h->vpid && h->vpgid != 0) setpgid(pid, (pid_t)h->vpgid);
    return pid;
  }
  catch_forwarded(SIG_DFL);
  if (h->vsid == h->vpid) {
    setsid();
  } else if (h->vpgid != 0) {
    setpgid(0, h->vpgid == h->vpid ? 0 : (pid_t)h->vpgid);
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
  for (int k = 0; k < norder; k++) spawn(order[k]);
  take_own_pipes(i);
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

/* Process 1 of the namespace: mounts its /proc, creates the roots, reaps
 * every orphan, and ends with the first root's exit status. */
static _Noreturn void tree_init(void) {
  /* If dmtcp_restart is killed, so is the computation: process 1's death ends
   * its pid namespace. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0 && !g_quiet)
    fprintf(stderr, "dmtcp_restart: cannot mount /proc for the pid namespace (%s); /proc/<pid> shows other pids\n",
            strerror(errno));
  if (make_pipes() != 0) {
    fprintf(stderr, "dmtcp_restart: cannot recreate the computation's pipes: %s\n", strerror(errno));
    _exit(dmtcp_fail_rc());
  }
  if (make_shared_objects(parking_base()) != 0) _exit(dmtcp_fail_rc());
  catch_forwarded(remember);
  pid_t roots[4096];
  int nroots = 0, first = -1;
  /* images[0]'s root first: it is the foreground process whose status we return */
  int top = 0;
  for (int guard = 0; guard < g_n && !is_root(top); guard++)
    for (int j = 0; j < g_n; j++)
      if (g_imgs[j].h->vpid == g_imgs[top].h->vppid) {
        top = j;
        break;
      }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < g_n && nroots < 4096; i++) {
      if (!is_root(i) || (pass == 0) != (i == top)) continue;
      roots[nroots] = spawn(i);
      if (i == top) first = nroots;
      nroots++;
    }
  for (int m = 0; m < g_nmade; m++) { /* process 1 keeps no end open */
    close(g_made[m].rfd);
    close(g_made[m].wfd);
  }
  for (int k = 0; k < g_nobjs; k++) close(g_objs[k].fd);
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
