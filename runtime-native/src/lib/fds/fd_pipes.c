/* Pipes and FIFOs across a checkpoint: the bytes in flight are taken out of
 * the pipe by the leader of its read end before the image is written and put
 * back after it, and after a restart (into the pipe dmtcp_restart recreated,
 * or the FIFO reopened by its path), so nothing is lost, duplicated or
 * reordered. The drained bytes live in memory that is part of the image.
 * No malloc, no stdio: threads are parked and may hold their locks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

static void fd_path(char *buf, int fd) {
  size_t n = rt_strlcpy(buf, "/proc/self/fd/", 32);
  rt_utoa(buf + n, (unsigned long)fd);
}

void fd_pipe_release(struct fd_entry *e) {
  if (e->data) rt_munmap(e->data, e->cap);
  e->data = NULL;
  e->len = e->cap = 0;
}

/* Reads the pipe empty through a new non-blocking descriptor of the same pipe
 * (the program's own descriptor keeps its flags). */
void fd_pipe_drain(struct fd_entry *e) {
  char path[64];
  fd_path(path, e->rec.fd);
  int rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rfd < 0) return;
  int size = fcntl(rfd, F_GETPIPE_SZ);
  e->cap = ((size_t)(size > 0 ? size : 65536) + 4095) & ~(size_t)4095;
  e->data = rt_mmap(e->cap);
  if (!e->data) {
    e->cap = 0;
    close(rfd);
    return;
  }
  for (;;) {
    ssize_t got = read(rfd, e->data + e->len, e->cap - e->len);
    if (got > 0) {
      e->len += (size_t)got;
      if (e->len == e->cap) break;
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(rfd);
}

void fd_pipe_refill(struct fd_entry *e) {
  if (!e->data || !e->len) {
    fd_pipe_release(e);
    return;
  }
  struct stat st;
  if (fstat(e->rec.fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    /* restarted without its pipes: never write the bytes elsewhere */
    rt_log("a pipe was not restored; its bytes in flight are lost", NULL);
  } else {
    char path[64];
    fd_path(path, e->rec.fd);
    int wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    size_t done = 0;
    while (wfd >= 0 && done < e->len) {
      ssize_t put = write(wfd, e->data + done, e->len - done);
      if (put > 0) done += (size_t)put;
      else if (!(put < 0 && errno == EINTR)) break;
    }
    if (done < e->len) rt_log("a pipe could not take back all of its bytes in flight", NULL);
    if (wfd >= 0) close(wfd);
  }
  fd_pipe_release(e);
}
