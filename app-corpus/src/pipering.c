/* A ring of pipes through three processes: the parent writes sequence
 * numbers into pipe A, child 1 passes them from A to B, child 2 from B to C,
 * and the parent reads them back from C. Up to 4096 numbers (32 KiB) are in
 * flight, so a checkpoint always finds bytes inside the pipes. Every process
 * checks that the numbers arrive in order, each exactly once; the parent
 * reports PROGRESS every 1000 numbers back. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "progress.h"

/* 0, or 1 at end of file (the writer is gone: the computation is being
 * killed, and a neighbour died first), or -1 on an error (a lost pipe). */
static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len) {
    ssize_t got = read(fd, p, len);
    if (got < 0 && errno == EINTR) continue;
    if (got == 0) return 1;
    if (got < 0) return -1;
    p += got;
    len -= (size_t)got;
  }
  return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t put = write(fd, p, len);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return -1;
    p += put;
    len -= (size_t)put;
  }
  return 0;
}

/* A write to a pipe whose reader died fails with EPIPE (SIGPIPE is ignored):
 * also the end of the computation. */
static void relay(int in, int out, const char *who) {
  uint64_t expect = 0, v;
  for (;;) {
    int r = read_full(in, &v, sizeof v);
    if (r == 1) exit(0);
    if (r != 0) damaged(who);
    if (v != expect) damaged("a relay got a number out of order");
    expect++;
    if (write_full(out, &v, sizeof v) != 0) {
      if (errno == EPIPE) exit(0);
      damaged(who);
    }
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int a[2], b[2], c[2];
  if (pipe(a) || pipe(b) || pipe(c)) damaged("pipe failed");
  fflush(stdout);
  if (fork() == 0) {
    close(a[1]); close(b[0]); close(c[0]); close(c[1]);
    relay(a[0], b[1], "child 1 lost its pipes");
  }
  if (fork() == 0) {
    close(a[0]); close(a[1]); close(b[1]); close(c[0]);
    relay(b[0], c[1], "child 2 lost its pipes");
  }
  close(a[0]); close(b[0]); close(b[1]); close(c[1]);
  uint64_t sent = 0, back = 0;
  for (;;) {
    struct pollfd p[2] = {{a[1], sent - back < 4096 ? POLLOUT : 0, 0}, {c[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      damaged("poll failed");
    }
    if (p[0].revents & POLLOUT) {
      if (write_full(a[1], &sent, sizeof sent) != 0) {
        if (errno == EPIPE) exit(0);
        damaged("the parent lost pipe A");
      }
      sent++;
    }
    if (p[1].revents & (POLLIN | POLLHUP)) {
      uint64_t v;
      int r = read_full(c[0], &v, sizeof v);
      if (r == 1) exit(0);
      if (r != 0) damaged("the parent lost pipe C");
      if (v != back) damaged("a number came back out of order or twice");
      back++;
      if (back % 1000 == 0) {
        progress((long)(back / 1000));
        tick(2);  /* keep the ring from spinning flat out */
      }
    }
  }
}
