/* Pipes across a checkpoint: the bytes in flight are taken out of each pipe
 * before the image is written and put back after it, and after a restart,
 * so nothing is lost, duplicated or reordered.
 *
 * Barrier steps (docs/protocol.md 3.4), on the checkpoint thread while every
 * user thread of every member is parked:
 *   SUSPENDED           pipes_scan: list the pipe descriptors, remember each
 *                       read end's F_GETOWN;
 *   FD_LEADER_ELECTION  every holder of a read end makes itself its owner
 *                       (F_SETOWN); the open file is shared, so the last one
 *                       wins and, after the barrier, all agree who that is;
 *   DRAINED             the owner reads the pipe empty (through a new
 *                       non-blocking descriptor of the same pipe);
 *   REFILLED            the owner writes the bytes back, in order, and the
 *                       old owner is restored. After a restart the same step
 *                       fills the new pipe dmtcp_restart made (tree.c).
 * The drained bytes live in memory that is part of the image. No malloc,
 * no stdio: threads may be parked holding their locks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

#define MAX_PIPE_FDS 1024

struct pipe_fd {
  struct dmtcp_fd_record rec;
  int saved_owner;
  char *data;        /* drained bytes (rt_mmap), or NULL */
  size_t len, cap;
};

static struct pipe_fd g_pipes[MAX_PIPE_FDS];
static int g_npipes;

static void fd_path(char *buf, int fd) {
  size_t n = rt_strlcpy(buf, "/proc/self/fd/", 32);
  rt_utoa(buf + n, (unsigned long)fd);
}

static void release_data(struct pipe_fd *p) {
  if (p->data) rt_munmap(p->data, p->cap);
  p->data = NULL;
  p->len = p->cap = 0;
}

static int add_if_pipe(long number, void *arg) {
  (void)arg;
  int fd = (int)number;
  struct stat st;
  if (fd == g_coord_fd || fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return 0;
  char link[64], target[64];
  fd_path(link, fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  if (strncmp(target, "pipe:", 5) != 0) return 0;  /* a named FIFO: issue 6 */
  if (g_npipes == MAX_PIPE_FDS) {
    rt_log("too many pipe descriptors; the rest are not saved", NULL);
    return 1;
  }
  struct pipe_fd *p = &g_pipes[g_npipes++];
  memset(p, 0, sizeof *p);
  int fl = fcntl(fd, F_GETFL);
  p->rec.fd = fd;
  p->rec.kind = (fl & O_ACCMODE) == O_RDONLY ? DMTCP_FD_PIPE_READ : DMTCP_FD_PIPE_WRITE;
  p->rec.ino = (uint64_t)st.st_ino;
  p->rec.status_flags = (uint32_t)fl;
  p->rec.fd_flags = (uint32_t)fcntl(fd, F_GETFD);
  int size = fcntl(fd, F_GETPIPE_SZ);
  p->rec.pipe_size = size > 0 ? (uint32_t)size : 65536u;
  p->saved_owner = fcntl(fd, F_GETOWN);
  return 0;
}

void pipes_scan(void) {
  for (int i = 0; i < g_npipes; i++) release_data(&g_pipes[i]);
  g_npipes = 0;
  rt_each_numbered_entry("/proc/self/fd", 1, add_if_pipe, NULL);
}

void pipes_elect(void) {
  for (int i = 0; i < g_npipes; i++)
    if (g_pipes[i].rec.kind == DMTCP_FD_PIPE_READ) fcntl(g_pipes[i].rec.fd, F_SETOWN, getpid());
}

/* Owner of the pipe behind read end i, and the first such descriptor here. */
static int leads(int i) {
  struct pipe_fd *p = &g_pipes[i];
  if (p->rec.kind != DMTCP_FD_PIPE_READ || fcntl(p->rec.fd, F_GETOWN) != getpid()) return 0;
  for (int k = 0; k < i; k++)
    if (g_pipes[k].rec.ino == p->rec.ino && g_pipes[k].rec.kind == DMTCP_FD_PIPE_READ) return 0;
  return 1;
}

void pipes_drain(void) {
  for (int i = 0; i < g_npipes; i++) {
    struct pipe_fd *p = &g_pipes[i];
    if (!leads(i)) continue;
    char path[64];
    fd_path(path, p->rec.fd);
    int rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (rfd < 0) continue;
    p->cap = ((size_t)p->rec.pipe_size + 4095) & ~(size_t)4095;
    p->data = rt_mmap(p->cap);
    if (!p->data) {
      close(rfd);
      continue;
    }
    for (;;) {
      ssize_t got = read(rfd, p->data + p->len, p->cap - p->len);
      if (got > 0) {
        p->len += (size_t)got;
        if (p->len == p->cap) break;
      } else if (got < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    close(rfd);
  }
}

void pipes_refill(void) {
  for (int i = 0; i < g_npipes; i++) {
    struct pipe_fd *p = &g_pipes[i];
    struct stat st;
    if (p->data && p->len && (fstat(p->rec.fd, &st) != 0 || !S_ISFIFO(st.st_mode))) {
      /* restarted without its pipes (no pid namespace): never write them elsewhere */
      rt_log("a pipe was not restored; its bytes in flight are lost", NULL);
    } else if (p->data && p->len) {
      char path[64];
      fd_path(path, p->rec.fd);
      int wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      size_t done = 0;
      while (wfd >= 0 && done < p->len) {
        ssize_t put = write(wfd, p->data + done, p->len - done);
        if (put > 0) done += (size_t)put;
        else if (!(put < 0 && errno == EINTR)) break;
      }
      if (done < p->len) rt_log("a pipe could not take back all of its bytes in flight", NULL);
      if (wfd >= 0) close(wfd);
    }
    if (p->rec.kind == DMTCP_FD_PIPE_READ) fcntl(p->rec.fd, F_SETOWN, p->saved_owner);
    release_data(p);
  }
}

size_t pipes_records(struct dmtcp_fd_record *out, size_t cap) {
  size_t n = 0;
  for (int i = 0; i < g_npipes && n < cap; i++) out[n++] = g_pipes[i].rec;
  return n;
}
