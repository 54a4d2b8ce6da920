/* A ring of pipes through three processes: the parent writes sequence
 * numbers into pipe A, child 1 passes them from A to B, child 2 from B to C,
 * and the parent reads them back from C. Up to 4096 numbers (32 KiB) are in
 * flight, so a checkpoint always finds bytes inside the pipes. Every process
 * checks that the numbers arrive in order, each exactly once; the parent
 * reports PROGRESS every 1000 numbers back. They also signal each other by
 * pid: every 1000 numbers the parent sends SIGUSR1 to each child and each
 * child SIGUSR2 to its parent (getppid(), which must not change); each checks
 * that the other's signals keep coming. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

/* 0, or 1 at end of file (the writer is gone: the computation is being
 * killed, and a neighbour died first), or -1 on an error (a lost pipe). */
static volatile sig_atomic_t usr1_seen, usr2_seen[2];
static pid_t kids[2];
static void on_usr1(int sig) { (void)sig; usr1_seen++; }
static void on_usr2(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)ctx;
  for (int i = 0; i < 2; i++)
    if (si->si_pid == kids[i]) usr2_seen[i]++;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Whether a counter has moved within the last 5 s (signals by pid still arrive). */
struct watch { long last, since; };
static void check_moving(struct watch *w, long now_count, const char *what) {
  long t = now_ms();
  if (now_count != w->last || w->since == 0) {
    w->last = now_count;
    w->since = t;
  } else if (t - w->since > 5000) {
    damaged(what);
  }
}

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
  pid_t parent = getppid();
  struct watch from_parent = {0, 0};
  for (;;) {
    if (expect % 1000 == 0) {
      /* A parent that is gone (the computation being killed, parent first)
       * is the end; one that is there under another pid is damage. */
      if (getppid() != parent && kill(parent, 0) != 0) exit(0);
      if (getppid() != parent) damaged("a child's getppid() changed");
      if (kill(parent, SIGUSR2) != 0) damaged("a child cannot signal its parent by pid");
      check_moving(&from_parent, usr1_seen, "a child gets no more signals from its parent");
    }
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
  signal(SIGUSR1, on_usr1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr2;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR2, &sa, NULL);
  int a[2], b[2], c[2];
  if (pipe(a) || pipe(b) || pipe(c)) damaged("pipe failed");
  fflush(stdout);
  if ((kids[0] = fork()) == 0) {
    close(a[1]); close(b[0]); close(c[0]); close(c[1]);
    relay(a[0], b[1], "child 1 lost its pipes");
  }
  if ((kids[1] = fork()) == 0) {
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
        for (int i = 0; i < 2; i++)
          if (kill(kids[i], SIGUSR1) != 0) damaged("the parent cannot signal a child by pid");
        static struct watch from_kid[2];
        check_moving(&from_kid[0], usr2_seen[0], "the parent gets no more signals from child 1");
        check_moving(&from_kid[1], usr2_seen[1], "the parent gets no more signals from child 2");
        progress((long)(back / 1000));
        tick(2);  /* keep the ring from spinning flat out */
      }
    }
  }
}
