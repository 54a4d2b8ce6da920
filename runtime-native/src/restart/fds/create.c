/* Making each open file description again, by kind (fdrestore.h). Each is
 * made from the record of its leader: a file reopened by path at its offset,
 * a pipe made once for both its ends, an unlinked file or a memfd recreated
 * with its saved contents, an eventfd with its counter, a timer still armed,
 * a terminal replaced by dmtcp_restart's own with the modes it had. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "restart/fds/fdr_internal.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static int (*g_shared_fd)(uint64_t dev, uint64_t ino);

/* One line on stderr: "dmtcp_restart: <kind><image>: <message>". */
static void say(const struct fdr_desc *d, const char *kind, const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  fprintf(stderr, "dmtcp_restart: %s%s: %s\n", kind, d->img->path, msg);
}

static int fail(const struct fdr_desc *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say(d, "", fmt, ap);
  va_end(ap);
  return -1;
}

static void note(const struct fdr_desc *d, const char *fmt, ...) {
  if (g_fdr.quiet) return;
  va_list ap;
  va_start(ap, fmt);
  say(d, "note: ", fmt, ap);
  va_end(ap);
}

#define SETTABLE (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

static void set_status(int fd, const struct dmtcp_fd_record *r) {
  fcntl(fd, F_SETFL, (int)(r->status_flags & SETTABLE));
}

/* A new description of the object fd refers to, with r's access mode. */
static int reopen(int fd, const struct dmtcp_fd_record *r) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  return open(link, (int)(r->status_flags & (O_ACCMODE | SETTABLE)) | O_CLOEXEC);
}

static void take_description_locks(const struct fdr_desc *d, int fd) {
  const struct dmtcp_fd_record *r = d->rec;
  for (uint32_t x = 0; x < r->num_extras; x++) {
    const struct dmtcp_fd_extra *e = &d->img->extras[r->first_extra + x];
    if (e->kind != DMTCP_FX_LOCK) continue;
    int ok = 1;
    if (e->a == DMTCP_LOCK_FLOCK) {
      ok = flock(fd, (e->b == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0;
    } else if (e->a == DMTCP_LOCK_OFD) {
      struct flock fl = {.l_type = (short)e->b, .l_whence = SEEK_SET, .l_start = (off_t)e->c, .l_len = (off_t)e->d};
      ok = fcntl(fd, F_OFD_SETLK, &fl) == 0;
    }
    if (!ok) note(d, "the lock on %s is held by someone else now; it is lost", fdr_path(d->img, r));
  }
}

/* ---- objects several descriptions can share: pipes, unlinked files, ptys -- */

struct made_pipe { uint64_t ino; int rfd, wfd, rused, wused; };
static struct made_pipe *g_pipes;
static int g_npipes;

static int make_pipe(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  struct made_pipe *p = NULL;
  for (int k = 0; k < g_npipes && !p; k++)
    if (g_pipes[k].ino == r->ino) p = &g_pipes[k];
  if (!p) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return fail(d, "cannot recreate a pipe: %s", strerror(errno));
    if (r->size) fcntl(fds[0], F_SETPIPE_SZ, (int)r->size);
    p = &g_pipes[g_npipes++];
    *p = (struct made_pipe){r->ino, fds[0], fds[1], 0, 0};
  }
  int reading = r->kind == DMTCP_FD_PIPE_READ;
  int *used = reading ? &p->rused : &p->wused;
  int end = reading ? p->rfd : p->wfd;
  int fd = *used ? reopen(end, r) : dup(end); /* a second description of the same end */
  *used = 1;
  if (fd >= 0) set_status(fd, r);
  return fd;
}

struct made_obj { uint64_t dev, ino; int fd; };
static struct made_obj *g_objs;
static int g_nobjs;

static struct made_obj *object_of(uint64_t dev, uint64_t ino) {
  for (int k = 0; k < g_nobjs; k++)
    if (g_objs[k].dev == dev && g_objs[k].ino == ino) return &g_objs[k];
  return NULL;
}

/* An unlinked file (O_TMPFILE in its old directory, so it stays on the same
 * filesystem, or a memfd) or a memfd, with the contents it had. */
static int make_anonymous_file(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  struct made_obj *o = object_of(r->dev, r->ino);
  if (!o) {
    char path[PATH_MAX], name[256] = "dmtcp-restored";
    snprintf(path, sizeof path, "%s", fdr_path(d->img, r));
    char *del = strstr(path, " (deleted)");
    if (del) *del = '\0';
    /* mappings name their device major << 32 | minor (maps.c) */
    uint64_t map_dev = (uint64_t)major((dev_t)r->dev) << 32 | minor((dev_t)r->dev);
    int fd = g_shared_fd ? g_shared_fd(map_dev, r->ino) : -1;
    if (fd >= 0) {
      fd = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* the memfd its MAP_SHARED mappings use */
    } else if (r->kind == DMTCP_FD_MEMFD) {
      snprintf(name, sizeof name, "%.240s", strncmp(path, "/memfd:", 7) == 0 ? path + 7 : path);
      fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    } else {
      char dir[PATH_MAX];
      snprintf(dir, sizeof dir, "%s", path);
      fd = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)(r->mode & 07777));
      if (fd < 0) {
        snprintf(name, sizeof name, "%.240s", basename(path));
        fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
      }
    }
    if (fd < 0) return fail(d, "cannot recreate %s (fd %d): %s", path, r->fd, strerror(errno));
    char err[512];
    if (fdr_write_contents(d->img, r->data_region, fd, r->size, err, sizeof err) != 0) {
      close(fd);
      return fail(d, "%s (fd %d): %s", path, r->fd, err);
    }
    if (r->kind == DMTCP_FD_MEMFD && r->u[0]) fcntl(fd, F_ADD_SEALS, (int)r->u[0]);
    o = &g_objs[g_nobjs++];
    *o = (struct made_obj){r->dev, r->ino, fd};
  }
  int fd = reopen(o->fd, r);
  if (fd < 0) return fail(d, "cannot reopen a recreated file (fd %d): %s", r->fd, strerror(errno));
  lseek(fd, r->offset, SEEK_SET);
  return fd;
}

/* ---- files, directories, devices, FIFOs ----------------------------------- */

/* --ckpt-open-files: a file that is gone comes back from the image; one that
 * is there is kept, unless it was launched with --allow-file-overwrite. */
static int put_back_saved(const struct fdr_desc *d, const char *path) {
  const struct dmtcp_fd_record *r = d->rec;
  struct stat st;
  int exists = stat(path, &st) == 0;
  if (exists && !(r->flags & DMTCP_FDF_OVERWRITE)) return 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exists ? 0 : O_EXCL), (mode_t)(r->mode & 07777));
  if (fd < 0) return fail(d, "cannot put back the saved file %s: %s", path, strerror(errno));
  char err[512];
  int rc = fdr_write_contents(d->img, r->data_region, fd, r->size, err, sizeof err);
  close(fd);
  if (rc != 0) return fail(d, "%s: %s", path, err);
  note(d, "%s %s from the image", exists ? "overwrote" : "recreated", path);
  return 0;
}

static int make_file(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  if (r->flags & DMTCP_FDF_DELETED) return make_anonymous_file(d);
  const char *path = fdr_path(d->img, r), *rest;
  uint32_t pid;
  if (r->kind != DMTCP_FD_DEVICE && fdr_member_proc_path(path, &pid, &rest)) return -2; /* opened in place */
  if ((r->flags & DMTCP_FDF_SAVED) && put_back_saved(d, path) != 0) return -1;
  int fd = open(path, OPEN_FLAGS(r));
  if (fd < 0 && errno == ENOENT)
    return fail(d, "the open file %s (fd %d) is gone; put it back, or checkpoint with --ckpt-open-files", path, r->fd);
  if (fd < 0) return fail(d, "cannot reopen %s (fd %d): %s", path, r->fd, strerror(errno));
  struct stat st;
  if (r->kind == DMTCP_FD_FILE && fstat(fd, &st) == 0 && (uint64_t)st.st_size < (uint64_t)r->offset)
    note(d, "%s is shorter than at the checkpoint (%lld bytes, the program was at %lld)", path,
         (long long)st.st_size, (long long)r->offset);
  if (r->kind == DMTCP_FD_FILE || r->kind == DMTCP_FD_DIR) lseek(fd, r->offset, SEEK_SET);
  take_description_locks(d, fd);
  return fd;
}

/* A FIFO opens without blocking once someone holds it open for reading and
 * writing: process 1 does, until every process has its descriptors. */
static int make_fifo(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  const char *path = fdr_path(d->img, r);
  struct stat st;
  if (stat(path, &st) != 0) {
    if (mkfifo(path, (mode_t)(r->mode & 07777)) != 0)
      return fail(d, "the FIFO %s (fd %d) is gone and cannot be made again: %s", path, r->fd, strerror(errno));
    note(d, "the FIFO %s was gone; made it again", path);
  } else if (!S_ISFIFO(st.st_mode)) {
    return fail(d, "%s (fd %d) is no longer a FIFO", path, r->fd);
  }
  int keeper = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (keeper < 0) return fail(d, "cannot open the FIFO %s: %s", path, strerror(errno));
  if (g_fdr.nextra_fds < (int)(sizeof g_fdr.extra_fds / sizeof g_fdr.extra_fds[0]))
    g_fdr.extra_fds[g_fdr.nextra_fds++] = fcntl(keeper, F_DUPFD_CLOEXEC, g_fdr.base);
  close(keeper);
  int fd = open(path, OPEN_FLAGS(r) | O_NONBLOCK);
  if (fd < 0) return fail(d, "cannot reopen the FIFO %s (fd %d): %s", path, r->fd, strerror(errno));
  set_status(fd, r);
  return fd;
}

/* ---- terminals -------------------------------------------------------------- */

static int g_termios_done;

static void apply_termios(int fd, const struct dmtcp_fd_record *r) {
  if (!(r->u[11] & 1)) return;
  struct termios tio;
  memcpy(&tio, &r->u[0], sizeof tio);
  tcsetattr(fd, TCSANOW, &tio);
}

/* The terminal the computation ran in: dmtcp_restart's terminal now, with
 * the modes the program had set (vim's raw mode); without one, /dev/null. */
static int make_tty(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  if (g_fdr.terminal < 0) {
    note(d, "descriptor %d was the terminal %s; restarted without a terminal, it is /dev/null", r->fd, fdr_path(d->img, r));
    return open("/dev/null", (int)(r->status_flags & O_ACCMODE) | O_CLOEXEC);
  }
  if (!g_termios_done || (r->flags & DMTCP_FDF_CTTY)) {
    apply_termios(g_fdr.terminal, r);
    g_termios_done = 1;
  }
  return fcntl(g_fdr.terminal, F_DUPFD_CLOEXEC, 0);
}

struct made_pty { uint64_t index; int master; };
static struct made_pty *g_ptys;
static int g_nptys;

static int make_pty_master(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0)
    return fail(d, "cannot make a pseudo-terminal again (fd %d): %s", r->fd, strerror(errno));
  struct winsize ws;
  memcpy(&ws, &r->u[8], sizeof ws);
  if (ws.ws_row || ws.ws_col) ioctl(fd, TIOCSWINSZ, &ws);
  apply_termios(fd, r);
  set_status(fd, r);
  g_ptys[g_nptys++] = (struct made_pty){r->u[9], fcntl(fd, F_DUPFD_CLOEXEC, 0)}; /* for its slaves */
  return fd;
}

static int make_pty_slave(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  int master = -1;
  for (int k = 0; k < g_nptys && master < 0; k++)
    if (g_ptys[k].index == r->u[9]) master = g_ptys[k].master;
  if (master < 0) return make_tty(d); /* not a pair of ours: the terminal we run in */
  char name[64];
  if (ptsname_r(master, name, sizeof name) != 0) return fail(d, "cannot name a recreated pseudo-terminal");
  int fd = open(name, OPEN_FLAGS(r));
  if (fd < 0) return fail(d, "cannot open the recreated pseudo-terminal %s: %s", name, strerror(errno));
  apply_termios(fd, r);
  return fd;
}

/* ---- event descriptors -------------------------------------------------------- */

static int make_eventfd(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  int fd = eventfd(0, EFD_CLOEXEC | (r->u[1] ? EFD_SEMAPHORE : 0));
  uint64_t count = r->u[0];
  if (fd < 0 || (count && write(fd, &count, sizeof count) != (ssize_t)sizeof count))
    return fail(d, "cannot recreate an eventfd (fd %d): %s", r->fd, strerror(errno));
  set_status(fd, r);
  return fd;
}

/* Armed with the time it had left at the checkpoint, and its period. */
static int make_timerfd(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  int clock = (int)r->u[0];
  int fd = timerfd_create(clock, TFD_CLOEXEC);
  if (fd < 0 && (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM)) {
    note(d, "timerfd %d: no permission for its alarm clock; it runs on the plain clock", r->fd);
    clock = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
    fd = timerfd_create(clock, TFD_CLOEXEC);
  }
  if (fd < 0) return fail(d, "cannot recreate a timerfd (fd %d): %s", r->fd, strerror(errno));
  struct itimerspec its = {
      .it_interval = {(time_t)(r->u[4] / 1000000000ull), (long)(r->u[4] % 1000000000ull)},
      .it_value = {(time_t)(r->u[2] / 1000000000ull), (long)(r->u[2] % 1000000000ull)}};
  if (r->u[2] == 0 && r->u[4] != 0) its.it_value.tv_nsec = 1; /* expired meanwhile: fire at once */
  if (timerfd_settime(fd, 0, &its, NULL) != 0)
    return fail(d, "cannot arm the recreated timerfd %d: %s", r->fd, strerror(errno));
  uint64_t ticks = r->u[5];
  if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks) != 0)
    note(d, "timerfd %d: %llu expirations not yet read are lost", r->fd, (unsigned long long)ticks);
  set_status(fd, r);
  return fd;
}

static int make_signalfd(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  uint64_t mask = r->u[0];
  /* the raw call: glibc's sigaddset refuses the signals it keeps for itself */
  int fd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof mask, O_CLOEXEC);
  if (fd < 0) return fail(d, "cannot recreate a signalfd (fd %d): %s", r->fd, strerror(errno));
  set_status(fd, r);
  return fd;
}

static int make_epoll(const struct fdr_desc *d) {
  int fd = epoll_create1(EPOLL_CLOEXEC); /* its registrations: fdr_take, in the process */
  if (fd < 0) return fail(d, "cannot recreate an epoll set (fd %d): %s", d->rec->fd, strerror(errno));
  set_status(fd, d->rec);
  return fd;
}

static int by_wd(const void *a, const void *b) {
  const struct dmtcp_fd_extra *x = *(const struct dmtcp_fd_extra *const *)a, *y = *(const struct dmtcp_fd_extra *const *)b;
  return x->a < y->a ? -1 : x->a > y->a;
}

/* The watches again, with the watch descriptors the program knows: the
 * kernel hands them out in increasing order, so holes are filled with
 * watches that are removed at once (their IN_IGNORED events are read away). */
static int make_inotify(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return fail(d, "cannot recreate an inotify instance (fd %d): %s", r->fd, strerror(errno));
  const struct dmtcp_fd_extra *w[4096];
  uint32_t n = 0;
  for (uint32_t x = 0; x < r->num_extras && n < 4096; x++)
    if (d->img->extras[r->first_extra + x].kind == DMTCP_FX_INOTIFY) w[n++] = &d->img->extras[r->first_extra + x];
  qsort(w, n, sizeof w[0], by_wd);
  const char *filler = "/";
  static const char *const candidates[] = {"/", "/dev", "/proc", "/sys"};
  for (size_t c = 0; c < sizeof candidates / sizeof candidates[0]; c++) {
    struct stat st;
    int used = stat(candidates[c], &st) != 0;
    for (uint32_t k = 0; k < n && !used; k++) used = w[k]->d == (uint64_t)st.st_ino && w[k]->c == (uint64_t)st.st_dev;
    if (!used) {
      filler = candidates[c];
      break;
    }
  }
  int next = 1;
  for (uint32_t k = 0; k < n; k++) {
    int want = (int)w[k]->a;
    while (next < want) {
      int hole = inotify_add_watch(fd, filler, IN_ATTRIB);
      if (hole < 0) break;
      inotify_rm_watch(fd, hole);
      next = hole + 1;
    }
    const char *path = w[k]->path_len ? image_string(d->img, w[k]->path_off) : NULL;
    int got = path ? inotify_add_watch(fd, path, (uint32_t)w[k]->b & ~(uint32_t)IN_MASK_ADD) : -1;
    if (got != want) note(d, "inotify watch %d (%s) could not be restored as it was", want, path ? path : "path not recorded");
    if (got >= 0) next = got + 1;
  }
  char ev[4096];
  while (read(fd, ev, sizeof ev) > 0) {
  }
  set_status(fd, r);
  return fd;
}

/* ---- all of them -------------------------------------------------------------- */

static int make(const struct fdr_desc *d) {
  switch (d->rec->kind) {
    case DMTCP_FD_PIPE_READ:
    case DMTCP_FD_PIPE_WRITE: return make_pipe(d);
    case DMTCP_FD_FILE:
    case DMTCP_FD_DIR:
    case DMTCP_FD_DEVICE: return make_file(d);
    case DMTCP_FD_MEMFD: return make_anonymous_file(d);
    case DMTCP_FD_FIFO: return make_fifo(d);
    case DMTCP_FD_TTY: return make_tty(d);
    case DMTCP_FD_PTY_MASTER: return make_pty_master(d);
    case DMTCP_FD_PTY_SLAVE: return make_pty_slave(d);
    case DMTCP_FD_EVENTFD: return make_eventfd(d);
    case DMTCP_FD_TIMERFD: return make_timerfd(d);
    case DMTCP_FD_SIGNALFD: return make_signalfd(d);
    case DMTCP_FD_EPOLL: return make_epoll(d);
    case DMTCP_FD_INOTIFY: return make_inotify(d);
    default: return -2; /* not restored */
  }
}

int fdr_create(int (*shared_fd)(uint64_t dev, uint64_t ino)) {
  g_shared_fd = shared_fd;
  size_t n = (size_t)g_fdr.ndescs + 1;
  g_pipes = calloc(n, sizeof *g_pipes);
  g_objs = calloc(n, sizeof *g_objs);
  g_ptys = calloc(n, sizeof *g_ptys);
  if (!g_pipes || !g_objs || !g_ptys) {
    fprintf(stderr, "dmtcp_restart: out of memory recreating descriptors\n");
    return -1;
  }
  /* masters before slaves: a slave is opened through its new master; listeners
   * before the sockets that connect to them */
  if (fdr_sockets_begin() != 0) return -1;
  for (int pass = 0; pass < 4; pass++) {
    for (int m = 0; m < g_fdr.ndescs; m++) {
      struct fdr_desc *d = &g_fdr.descs[m];
      int sp = fdr_socket_pass(d);
      int want = d->rec->kind == DMTCP_FD_PTY_SLAVE ? 3 : sp == 0 ? 1 : sp == 1 ? 2 : 0;
      if (want != pass) continue;
      int fd = sp < 2 ? fdr_make_socket(d) : make(d);
      if (fd == -2) continue;
      if (fd < 0 && sp < 2) {
        fprintf(stderr, "dmtcp_restart: %s: cannot recreate socket %d: %s\n", d->img->path, d->rec->fd, strerror(errno));
        return -1;
      }
      if (fd < 0) return -1;
      if (sp == 0) fdr_sockets_keep(d, fcntl(fd, F_DUPFD_CLOEXEC, 0)); /* to accept from */
      d->parked = fcntl(fd, F_DUPFD_CLOEXEC, g_fdr.base);
      close(fd);
      if (d->parked < 0) {
        fprintf(stderr, "dmtcp_restart: cannot keep a recreated descriptor: %s\n", strerror(errno));
        return -1;
      }
    }
  }
  /* what only served to make the descriptions */
  for (int k = 0; k < g_npipes; k++) {
    close(g_pipes[k].rfd);
    close(g_pipes[k].wfd);
  }
  for (int k = 0; k < g_nobjs; k++) close(g_objs[k].fd);
  for (int k = 0; k < g_nptys; k++) close(g_ptys[k].master);
  fdr_sockets_end();
  g_npipes = g_nobjs = g_nptys = 0;
  return 0;
}
