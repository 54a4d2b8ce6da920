/* Planning and placing descriptors at restart (fdrestore.h); the making of
 * each kind is in create.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "restart/fds/fdr_internal.h"

struct fdr_state g_fdr;

static int by_key(const void *a, const void *b) {
  const struct fdr_desc *x = a, *y = b;
  if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
  return x->fd < y->fd ? -1 : x->fd > y->fd;
}

struct fdr_desc *fdr_find(uint32_t pid, int32_t fd) {
  struct fdr_desc key = {.pid = pid, .fd = fd};
  return bsearch(&key, g_fdr.descs, (size_t)g_fdr.ndescs, sizeof key, by_key);
}

struct fdr_desc *fdr_desc_of(const struct dmtcp_fd_record *r) { return fdr_find(r->desc_pid, r->desc_fd); }

const char *fdr_path(const struct image *img, const struct dmtcp_fd_record *r) {
  return r->path_len ? image_string(img, r->path_off) : "";
}

/* A path under /proc/<pid>/ of a member (a program reading its own /proc
 * directory): it names the process only once that process exists again, so
 * it is opened in place (fdr_take), not made in advance. Sets *pid and *rest
 * (what follows /proc/<pid>, "" or "/..."). */
int fdr_member_proc_path(const char *path, uint32_t *pid, const char **rest) {
  if (strncmp(path, "/proc/", 6) != 0 || path[6] < '1' || path[6] > '9') return 0;
  uint64_t v = 0;
  const char *p = path + 6;
  while (*p >= '0' && *p <= '9' && v <= UINT32_MAX) v = v * 10 + (uint64_t)(*p++ - '0');
  if ((*p != '\0' && *p != '/') || v > UINT32_MAX) return 0;
  for (int i = 0; i < g_fdr.n; i++) {
    if (g_fdr.images[i].h->vpid != v) continue;
    *pid = (uint32_t)v;
    *rest = p;
    return 1;
  }
  return 0;
}

/* Whether both ends of pipe ino are held inside the computation. */
static int pipe_inside(uint64_t ino) {
  int r = 0, w = 0;
  for (int i = 0; i < g_fdr.n; i++) {
    const struct image *img = &g_fdr.images[i];
    for (uint32_t k = 0; k < img->h->num_fds; k++) {
      if (img->fds[k].ino != ino) continue;
      r |= img->fds[k].kind == DMTCP_FD_PIPE_READ;
      w |= img->fds[k].kind == DMTCP_FD_PIPE_WRITE;
    }
  }
  return r && w;
}

/* A pty whose master is in the computation (a pair the program made), as
 * opposed to the terminal the computation runs in. */
int fdr_pty_pair_inside(uint64_t index) {
  for (int i = 0; i < g_fdr.n; i++) {
    const struct image *img = &g_fdr.images[i];
    for (uint32_t k = 0; k < img->h->num_fds; k++)
      if (img->fds[k].kind == DMTCP_FD_PTY_MASTER && img->fds[k].u[9] == index) return 1;
  }
  return 0;
}

/* Descriptors 0, 1 and 2 stay dmtcp_restart's (the terminal, the files or
 * pipes the restart runs with), unless they led to something inside the
 * computation (a pipe between its processes, a pty pair it made, a FIFO, a
 * socket to a member) or to a device such as /dev/null (a daemon's). */
static int stdio_from_restart(const struct dmtcp_fd_record *r) {
  if (r->fd > 2) return 0;
  switch (r->kind) {
    case DMTCP_FD_PIPE_READ:
    case DMTCP_FD_PIPE_WRITE: return !pipe_inside(r->ino);
    case DMTCP_FD_PTY_MASTER: return 0;
    case DMTCP_FD_PTY_SLAVE: return !fdr_pty_pair_inside(r->u[9]);
    case DMTCP_FD_FIFO: return 0;
    case DMTCP_FD_DEVICE: return 0; /* /dev/null and the like: as they were */
    case DMTCP_FD_SOCKET: return !(r->u[3] & DMTCP_SK_INSIDE);
    default: return 1;
  }
}

/* The terminal the computation runs in (not a pty pair it made itself). */
static int outside_terminal(const struct dmtcp_fd_record *r) {
  return r->kind == DMTCP_FD_TTY || (r->kind == DMTCP_FD_PTY_SLAVE && !fdr_pty_pair_inside(r->u[9]));
}

int fdr_is_restart_stdio(int i, int fd) {
  const struct image *img = &g_fdr.images[i];
  for (uint32_t k = 0; k < img->h->num_fds; k++)
    if (img->fds[k].fd == fd) return stdio_from_restart(&img->fds[k]);
  return fd <= 2;
}

static int restorable(uint32_t kind) { return kind != DMTCP_FD_OTHER; }

int fdr_plan(const struct image *images, int n, int quiet) {
  memset(&g_fdr, 0, sizeof g_fdr);
  g_fdr.images = images;
  g_fdr.n = n;
  g_fdr.quiet = quiet;
  g_fdr.terminal = -1;
  for (int fd = 0; fd <= 2 && g_fdr.terminal < 0; fd++)
    if (isatty(fd)) g_fdr.terminal = fd;
  size_t total = 0;
  int top = 2;
  for (int i = 0; i < n; i++) {
    total += images[i].h->num_fds;
    for (uint32_t k = 0; k < images[i].h->num_fds; k++)
      if (images[i].fds[k].fd > top) top = images[i].fds[k].fd;
  }
  g_fdr.base = top + 1;
  g_fdr.descs = calloc(total ? total : 1, sizeof *g_fdr.descs);
  if (!g_fdr.descs) {
    fprintf(stderr, "dmtcp_restart: out of memory planning the descriptors\n");
    return -1;
  }
  /* one entry per record, sorted by identity, then one per identity */
  for (int i = 0; i < n; i++) {
    const struct image *img = &images[i];
    char lost[512] = "";
    size_t lostlen = 0;
    for (uint32_t k = 0; k < img->h->num_fds; k++) {
      const struct dmtcp_fd_record *r = &img->fds[k];
      if (!restorable(r->kind)) {
        if (lostlen < sizeof lost - 64)
          lostlen += (size_t)snprintf(lost + lostlen, sizeof lost - lostlen, "%s%d (%s)", lostlen ? ", " : "", r->fd,
                                      fdr_path(img, r));
        continue;
      }
      if (stdio_from_restart(r) && !outside_terminal(r)) continue; /* (a terminal: its modes are restored) */
      struct fdr_desc *d = &g_fdr.descs[g_fdr.ndescs++];
      d->pid = r->desc_pid;
      d->fd = r->desc_fd;
      d->parked = -1;
      d->rec = r;
      d->img = img;
    }
    if (lostlen && !quiet)
      fprintf(stderr, "dmtcp_restart: note: %s: descriptors not restored (they are closed): %s\n", img->path, lost);
  }
  qsort(g_fdr.descs, (size_t)g_fdr.ndescs, sizeof *g_fdr.descs, by_key);
  int out = 0;
  for (int m = 0; m < g_fdr.ndescs; m++) {
    struct fdr_desc *d = &g_fdr.descs[m];
    if (out > 0 && by_key(&g_fdr.descs[out - 1], d) == 0) {
      /* the leader's record describes it best (it drained, it saved contents) */
      if (d->rec->flags & DMTCP_FDF_LEADER) g_fdr.descs[out - 1] = *d;
      continue;
    }
    g_fdr.descs[out++] = *d;
  }
  g_fdr.ndescs = out;
  return 0;
}

int fdr_parking_base(void) { return g_fdr.base; }

void fdr_close_parked(void) {
  for (int m = 0; m < g_fdr.ndescs; m++) {
    if (g_fdr.descs[m].parked >= 0) close(g_fdr.descs[m].parked);
    g_fdr.descs[m].parked = -1;
  }
  for (int m = 0; m < g_fdr.nextra_fds; m++) close(g_fdr.extra_fds[m]);
  g_fdr.nextra_fds = 0;
}

/* ---- in the restarted process ------------------------------------------- */

static void take_locks(const struct image *img, const struct dmtcp_fd_record *r) {
  for (uint32_t x = 0; x < r->num_extras; x++) {
    const struct dmtcp_fd_extra *e = &img->extras[r->first_extra + x];
    if (e->kind != DMTCP_FX_LOCK || e->a != DMTCP_LOCK_POSIX) continue;
    struct flock fl = {.l_type = (short)e->b, .l_whence = SEEK_SET, .l_start = (off_t)e->c, .l_len = (off_t)e->d};
    if (fcntl(r->fd, F_SETLK, &fl) != 0 && !g_fdr.quiet)
      fprintf(stderr, "dmtcp_restart: note: %s: the lock on %s (fd %d) is held by someone else now; it is lost\n",
              img->path, fdr_path(img, r), r->fd);
  }
}

/* Registrations made through this process's descriptor numbers; a target
 * that is not the file it was (another process's registration) is skipped. */
static void take_epoll(const struct image *img, const struct dmtcp_fd_record *r) {
  if (!(r->flags & DMTCP_FDF_LEADER)) return;
  for (uint32_t x = 0; x < r->num_extras; x++) {
    const struct dmtcp_fd_extra *e = &img->extras[r->first_extra + x];
    if (e->kind != DMTCP_FX_EPOLL) continue;
    /* the target was this process's descriptor e->a if the image has it with that inode */
    const struct dmtcp_fd_record *t = NULL;
    for (uint32_t k = 0; k < img->h->num_fds && !t; k++)
      if (img->fds[k].fd == (int32_t)e->a) t = &img->fds[k];
    struct stat st;
    if (!t || (e->d && t->ino != e->d) || fstat((int)e->a, &st) != 0) {
      if (!g_fdr.quiet)
        fprintf(stderr, "dmtcp_restart: note: %s: an epoll registration of descriptor %u is not restored\n", img->path, e->a);
      continue;
    }
    struct epoll_event ev = {.events = (uint32_t)e->b, .data.u64 = e->c};
    if (epoll_ctl(r->fd, EPOLL_CTL_ADD, (int)e->a, &ev) != 0 && !g_fdr.quiet)
      fprintf(stderr, "dmtcp_restart: note: %s: cannot restore the epoll registration of descriptor %u: %s\n",
              img->path, e->a, strerror(errno));
  }
}

/* The controlling terminal and its foreground group, as they were: a session
 * leader takes back the pty it controlled; the group that was in the
 * foreground of the terminal is put there again. */
static void take_terminal(const struct image *img, const struct dmtcp_fd_record *r, int fd) {
  const struct dmtcp_image_header *h = img->h;
  if (!(r->flags & DMTCP_FDF_CTTY)) return;
  if (r->kind == DMTCP_FD_PTY_SLAVE && h->vsid == h->vpid) ioctl(fd, TIOCSCTTY, 0);
  if (r->u[10] && r->u[10] == h->vpgid && h->vpgid == h->vpid) {
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &old);
    tcsetpgrp(fd, (pid_t)h->vpgid);
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
}

/* A member's /proc file or directory, opened by the process that holds it:
 * its own as /proc/self (its pid is its original one only in the pid namespace). */
static void open_proc_in_place(const struct image *img, const struct dmtcp_fd_record *r) {
  uint32_t pid;
  const char *rest, *path = fdr_path(img, r);
  if (!fdr_member_proc_path(path, &pid, &rest)) return;
  char here[PATH_MAX];
  if (pid == img->h->vpid) snprintf(here, sizeof here, "/proc/self%s", rest);
  else snprintf(here, sizeof here, "%s", path);
  int fd = open(here, OPEN_FLAGS(r));
  if (fd < 0) {
    if (!g_fdr.quiet)
      fprintf(stderr, "dmtcp_restart: note: %s: cannot reopen %s (fd %d): %s; it is closed\n", img->path, path, r->fd,
              strerror(errno));
    return;
  }
  lseek(fd, r->offset, SEEK_SET);
  if (fd != r->fd) {
    dup2(fd, r->fd);
    close(fd);
  }
}

void fdr_take(int i) {
  const struct image *img = &g_fdr.images[i];
  for (uint32_t k = 0; k < img->h->num_fds; k++) {
    const struct dmtcp_fd_record *r = &img->fds[k];
    if (!restorable(r->kind)) continue;
    int fd = r->fd;
    if (!stdio_from_restart(r)) {
      struct fdr_desc *d = fdr_desc_of(r);
      if (d && d->parked < 0 && (r->kind == DMTCP_FD_FILE || r->kind == DMTCP_FD_DIR)) {
        open_proc_in_place(img, r);
        fcntl(r->fd, F_SETFD, (int)r->fd_flags);
        continue;
      }
      if (!d || d->parked < 0 || dup2(d->parked, r->fd) < 0) continue;
      fcntl(r->fd, F_SETFD, (int)r->fd_flags);
    } else if (outside_terminal(r) && g_fdr.terminal >= 0) {
      fd = g_fdr.terminal;
    } else {
      continue;
    }
    take_terminal(img, r, fd);
  }
  /* every descriptor is in place: now the registrations that name them */
  for (uint32_t k = 0; k < img->h->num_fds; k++)
    if (img->fds[k].kind == DMTCP_FD_EPOLL) take_epoll(img, &img->fds[k]);
  /* POSIX locks last: closing any descriptor of a file (a parked one) drops
   * the process's locks on it */
  fdr_close_parked();
  for (uint32_t k = 0; k < img->h->num_fds; k++)
    if (img->fds[k].num_extras && !stdio_from_restart(&img->fds[k])) take_locks(img, &img->fds[k]);
}
