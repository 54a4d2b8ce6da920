/* What each kind of descriptor is, and the state the kernel shows of it: the
 * fdinfo lines of eventfd, timerfd, signalfd, epoll and inotify descriptors,
 * the locks held through a file, the termios and window size of terminals.
 * No malloc, no stdio. */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

#define PTY_MASTER_MAJOR 5    /* /dev/ptmx is 5:2 */
#define PTY_SLAVE_MAJOR_LO 136 /* /dev/pts/N: majors 136-143 */
#define PTY_SLAVE_MAJOR_HI 143

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

uint32_t fd_classify(int fd, const char *link, const struct stat *st) {
  (void)fd;
  if (S_ISREG(st->st_mode)) return starts(link, "/memfd:") ? DMTCP_FD_MEMFD : DMTCP_FD_FILE;
  if (S_ISDIR(st->st_mode)) return DMTCP_FD_DIR;
  if (S_ISFIFO(st->st_mode)) {
    if (!starts(link, "pipe:")) return DMTCP_FD_FIFO;
    int fl = fcntl(fd, F_GETFL);
    return (fl & O_ACCMODE) == O_RDONLY ? DMTCP_FD_PIPE_READ : DMTCP_FD_PIPE_WRITE;
  }
  if (S_ISSOCK(st->st_mode)) return DMTCP_FD_SOCKET;
  if (S_ISCHR(st->st_mode)) {
    unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);
    if (maj == PTY_MASTER_MAJOR && min == 2) return DMTCP_FD_PTY_MASTER;
    if (maj >= PTY_SLAVE_MAJOR_LO && maj <= PTY_SLAVE_MAJOR_HI) return DMTCP_FD_PTY_SLAVE;
    if (isatty(fd)) return DMTCP_FD_TTY;
    return DMTCP_FD_DEVICE;
  }
  if (S_ISBLK(st->st_mode)) return DMTCP_FD_DEVICE;
  if (!strcmp(link, "anon_inode:[eventfd]")) return DMTCP_FD_EVENTFD;
  if (!strcmp(link, "anon_inode:[timerfd]")) return DMTCP_FD_TIMERFD;
  if (!strcmp(link, "anon_inode:[signalfd]")) return DMTCP_FD_SIGNALFD;
  if (!strcmp(link, "anon_inode:[eventpoll]")) return DMTCP_FD_EPOLL;
  if (!strcmp(link, "anon_inode:inotify")) return DMTCP_FD_INOTIFY;
  return DMTCP_FD_OTHER;
}

/* ---- fdinfo ---------------------------------------------------------------- */

static ssize_t read_fdinfo(int fd, char *buf, size_t cap) {
  char path[64];
  size_t n = rt_strlcpy(path, "/proc/self/fdinfo/", sizeof path);
  rt_utoa(path + n, (unsigned long)fd);
  int f = open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return -1;
  size_t len = 0;
  ssize_t got;
  while (len < cap - 1 && (got = read(f, buf + len, cap - 1 - len)) > 0) len += (size_t)got;
  close(f);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* The value after "key" on the line starting with it, base 8, 10 or 16; 0 if absent. */
static const char *after(const char *text, const char *key) {
  for (const char *p = text; p && *p;) {
    if (starts(p, key)) return p + strlen(key);
    p = strchr(p, '\n');
    if (p) p++;
  }
  return NULL;
}

static const char *skip_space(const char *p) {
  while (p && (*p == ' ' || *p == '\t' || *p == '(' || *p == ',')) p++;
  return p;
}

static uint64_t num(const char **pp, int base) {
  const char *p = skip_space(*pp);
  uint64_t v = 0;
  int neg = 0;
  if (p && *p == '-') {
    neg = 1;
    p++;
  }
  for (; p && *p; p++) {
    int d;
    if (*p >= '0' && *p <= '9') d = *p - '0';
    else if (base == 16 && *p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
    else if (base == 16 && *p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
    else break;
    if (d >= base) break;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  *pp = p;
  return neg ? (uint64_t)(-(int64_t)v) : v;
}

static uint64_t field(const char *text, const char *key, int base) {
  const char *p = after(text, key);
  return p ? num(&p, base) : 0;
}

static char g_info[1u << 20]; /* one fdinfo at a time; epoll sets can be long */

static void describe_timerfd(struct dmtcp_fd_record *r, const char *t) {
  r->u[0] = field(t, "clockid:", 10);
  r->u[5] = field(t, "ticks:", 10);
  r->u[1] = field(t, "settime flags:", 8);
  const char *p = after(t, "it_value:");
  if (p) {
    uint64_t s = num(&p, 10), ns = num(&p, 10);
    r->u[2] = s * 1000000000ull + ns; /* remaining, whatever the clock */
  }
  p = after(t, "it_interval:");
  if (p) {
    uint64_t s = num(&p, 10), ns = num(&p, 10);
    r->u[4] = s * 1000000000ull + ns;
  }
}

static void describe_epoll(struct fd_entry *e, const char *t) {
  for (const char *p = t; p && *p;) {
    if (starts(p, "tfd:")) {
      const char *q = p + 4;
      uint32_t tfd = (uint32_t)num(&q, 10);
      q = strstr(q, "events:");
      if (!q) break;
      q += 7;
      uint64_t events = num(&q, 16);
      q = strstr(q, "data:");
      if (!q) break;
      q += 5;
      uint64_t data = num(&q, 16);
      q = strstr(q, "ino:");
      uint64_t ino = q ? (q += 4, num(&q, 16)) : 0;
      struct dmtcp_fd_extra *x = fds_add_extra(e);
      if (!x) {
        rt_log("too many epoll registrations; the rest are not saved", NULL);
        return;
      }
      x->kind = DMTCP_FX_EPOLL;
      x->a = tfd;
      x->b = events;
      x->c = data;
      x->d = ino;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
}

/* Watches: the kernel keeps the inode, the wrapper of inotify_add_watch the path. */
static void describe_inotify(struct fd_entry *e, const char *t) {
  for (const char *p = t; p && *p;) {
    if (starts(p, "inotify wd:")) {
      const char *q = p + 11;
      uint32_t wd = (uint32_t)num(&q, 10);
      q = strstr(q, "ino:");
      uint64_t ino = q ? (q += 4, num(&q, 16)) : 0;
      q = q ? strstr(q, "sdev:") : NULL;
      uint64_t kdev = q ? (q += 5, num(&q, 16)) : 0;
      q = q ? strstr(q, "mask:") : NULL;
      uint64_t mask = q ? (q += 5, num(&q, 16)) : 0;
      /* the kernel's dev_t: major in the bits above 20 */
      uint64_t dev = makedev((unsigned)(kdev >> 20), (unsigned)(kdev & 0xfffff));
      char path[1024];
      struct dmtcp_fd_extra *x = fds_add_extra(e);
      if (!x) return;
      x->kind = DMTCP_FX_INOTIFY;
      x->a = wd;
      x->b = mask;
      x->c = dev;
      x->d = ino;
      if (inotify_path_of(dev, ino, path, sizeof path) == 0) fds_add_string(path, &x->path_off, &x->path_len);
      else rt_log("an inotify watch was added by a path not recorded; it is not saved", NULL);
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
}

static void describe_terminal(struct dmtcp_fd_record *r) {
  struct termios tio;
  struct winsize ws;
  _Static_assert(sizeof tio <= 8 * 8, "termios fits in u[0..7]");
  if (tcgetattr(r->fd, &tio) == 0) {
    memcpy(&r->u[0], &tio, sizeof tio);
    r->u[11] |= 1;
  }
  if (ioctl(r->fd, TIOCGWINSZ, &ws) == 0) memcpy(&r->u[8], &ws, sizeof ws);
  unsigned int idx = 0;
  if (r->kind == DMTCP_FD_PTY_MASTER && ioctl(r->fd, TIOCGPTN, &idx) == 0) r->u[9] = idx;
  pid_t fg = tcgetpgrp(r->fd);
  r->u[10] = fg > 0 ? (uint64_t)fg : 0;
  /* the controlling terminal: the tty number of /proc/self/stat field 7 */
  char st[1024];
  int f = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = f >= 0 ? read(f, st, sizeof st - 1) : -1;
  if (f >= 0) close(f);
  if (n > 0) {
    st[n] = '\0';
    const char *p = strrchr(st, ')');
    for (int fieldno = 2; p && fieldno < 7; fieldno++) p = strchr(p + 1, ' ');
    if (p) {
      p++;
      uint64_t tty_nr = num(&p, 10);
      struct stat fs;
      if (fstat(r->fd, &fs) == 0 && tty_nr != 0 &&
          major(fs.st_rdev) == ((tty_nr >> 8) & 0xfff) &&
          minor(fs.st_rdev) == ((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00)))
        r->flags |= DMTCP_FDF_CTTY;
    }
  }
  if (r->kind == DMTCP_FD_PTY_SLAVE) {
    struct stat fs;
    if (fstat(r->fd, &fs) == 0) r->u[9] = minor(fs.st_rdev) + (uint64_t)(major(fs.st_rdev) - PTY_SLAVE_MAJOR_LO) * 256;
  }
}

void fd_describe_kind(struct fd_entry *e) {
  struct dmtcp_fd_record *r = &e->rec;
  switch (r->kind) {
    case DMTCP_FD_PIPE_READ:
    case DMTCP_FD_PIPE_WRITE:
    case DMTCP_FD_FIFO: {
      int size = fcntl(r->fd, F_GETPIPE_SZ);
      r->size = size > 0 ? (uint64_t)size : 65536u;
      return;
    }
    case DMTCP_FD_TTY:
    case DMTCP_FD_PTY_MASTER:
    case DMTCP_FD_PTY_SLAVE:
      describe_terminal(r);
      return;
    case DMTCP_FD_MEMFD: {
      int seals = fcntl(r->fd, F_GET_SEALS);
      r->u[0] = seals > 0 ? (uint64_t)seals : 0;
      return;
    }
    case DMTCP_FD_FILE: {
      struct stat st;
      if (fstat(r->fd, &st) == 0 && st.st_nlink == 0) r->flags |= DMTCP_FDF_DELETED;
      return;
    }
    case DMTCP_FD_EVENTFD:
    case DMTCP_FD_TIMERFD:
    case DMTCP_FD_SIGNALFD:
    case DMTCP_FD_EPOLL:
    case DMTCP_FD_INOTIFY:
      break;
    default:
      return;
  }
  if (read_fdinfo(r->fd, g_info, sizeof g_info) < 0) return;
  switch (r->kind) {
    case DMTCP_FD_EVENTFD:
      r->u[0] = field(g_info, "eventfd-count:", 16);
      r->u[1] = field(g_info, "eventfd-semaphore:", 10);
      break;
    case DMTCP_FD_TIMERFD: describe_timerfd(r, g_info); break;
    case DMTCP_FD_SIGNALFD: r->u[0] = field(g_info, "sigmask:", 16); break;
    case DMTCP_FD_EPOLL: describe_epoll(e, g_info); break;
    case DMTCP_FD_INOTIFY: describe_inotify(e, g_info); break;
    default: break;
  }
}

/* "lock:\t1: POSIX  ADVISORY  WRITE 14251 fe:00:2146444 10 14" */
void fd_describe_locks(struct fd_entry *e) {
  struct dmtcp_fd_record *r = &e->rec;
  if (r->kind != DMTCP_FD_FILE && r->kind != DMTCP_FD_DIR) return;
  if (read_fdinfo(r->fd, g_info, sizeof g_info) < 0) return;
  for (const char *p = g_info; p && *p;) {
    if (starts(p, "lock:")) {
      const char *q = strchr(p, ':');
      q = q ? strchr(q + 1, ':') : NULL; /* after the lock number */
      if (!q) break;
      q = skip_space(q + 1);
      uint32_t kind = starts(q, "FLOCK") ? DMTCP_LOCK_FLOCK : starts(q, "POSIX") ? DMTCP_LOCK_POSIX
                    : starts(q, "OFDLCK") ? DMTCP_LOCK_OFD : 0;
      const char *eol = strchr(q, '\n');
      const char *w = strstr(q, "WRITE"), *rd = strstr(q, " READ");
      int is_write = w && (!eol || w < eol);
      int is_read = rd && (!eol || rd < eol);
      /* start and end: the last two fields */
      const char *dev = q;
      for (int k = 0; k < 4 && dev; k++) dev = strchr(skip_space(dev), ' ');
      if (kind && (is_write || is_read) && dev) {
        dev = skip_space(dev);
        const char *sp = strchr(dev, ' ');
        if (sp) {
          const char *s = sp;
          uint64_t start = num(&s, 10);
          s = skip_space(s);
          uint64_t len = 0;
          if (!starts(s, "EOF")) {
            uint64_t end = num(&s, 10);
            len = end >= start ? end - start + 1 : 0;
          }
          struct dmtcp_fd_extra *x = fds_add_extra(e);
          if (!x) return;
          x->kind = DMTCP_FX_LOCK;
          x->a = kind;
          x->b = is_write ? F_WRLCK : F_RDLCK;
          x->c = start;
          x->d = len;
        }
      }
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
}
