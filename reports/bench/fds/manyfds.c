/* Holds N descriptors of mixed kinds (regular files at their own offsets,
 * dups of them, pipes with bytes in flight, eventfds with counters, armed
 * timerfds, epoll sets, memfds, directories, /dev/null) and checks every one
 * of them on SIGUSR1: prints "VERIFY ok" or "VERIFY ERROR <fd> <what>".
 * usage: manyfds N DIR   (prints READY once they are open) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum kind { K_FILE, K_DUP, K_PIPE, K_EVENT, K_TIMER, K_EPOLL, K_MEMFD, K_DIR, K_NULL, NKINDS };
struct slot { int fd, other; enum kind kind; long expect; };
static struct slot *slots;
static int nslots;
static volatile sig_atomic_t verify;
static void on_usr1(int s) { (void)s; verify = 1; }

static void bad(int fd, const char *what) {
  printf("VERIFY ERROR %d %s\n", fd, what);
  fflush(stdout);
}

static int check(void) {
  for (int i = 0; i < nslots; i++) {
    struct slot *s = &slots[i];
    switch (s->kind) {
      case K_FILE:
      case K_DUP:
        if (lseek(s->fd, 0, SEEK_CUR) != s->expect) return bad(s->fd, "offset"), 0;
        break;
      case K_PIPE: {
        long v;
        if (read(s->fd, &v, sizeof v) != sizeof v || v != s->expect) return bad(s->fd, "pipe bytes"), 0;
        if (write(s->other, &v, sizeof v) != sizeof v) return bad(s->fd, "pipe write"), 0;
        break;
      }
      case K_EVENT: {
        uint64_t v;
        if (read(s->fd, &v, 8) != 8 || (long)v != s->expect) return bad(s->fd, "eventfd count"), 0;
        if (write(s->fd, &v, 8) != 8) return bad(s->fd, "eventfd write"), 0;
        break;
      }
      case K_TIMER: {
        struct itimerspec t;
        if (timerfd_gettime(s->fd, &t) || t.it_interval.tv_sec != s->expect) return bad(s->fd, "timerfd period"), 0;
        break;
      }
      case K_EPOLL: {
        struct epoll_event ev;
        if (epoll_wait(s->fd, &ev, 1, 0) != 1 || ev.data.u64 != (uint64_t)s->expect) return bad(s->fd, "epoll"), 0;
        break;
      }
      case K_MEMFD: {
        long v;
        if (pread(s->fd, &v, sizeof v, 0) != sizeof v || v != s->expect) return bad(s->fd, "memfd"), 0;
        break;
      }
      case K_DIR: {
        struct stat st;
        if (fstat(s->fd, &st) || !S_ISDIR(st.st_mode)) return bad(s->fd, "directory"), 0;
        break;
      }
      case K_NULL:
        if (write(s->fd, "x", 1) != 1) return bad(s->fd, "/dev/null"), 0;
        break;
      default: break;
    }
  }
  return 1;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  const char *dir = argc > 2 ? argv[2] : ".";
  struct rlimit rl = {(rlim_t)n + 64, (rlim_t)n + 64};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)n + 64) rl.rlim_cur = (rlim_t)n + 64 < rl.rlim_max ? (rlim_t)n + 64 : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  slots = calloc((size_t)n, sizeof *slots);
  char path[4096];
  snprintf(path, sizeof path, "%s/manyfds.data", dir);
  int base = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (base < 0 || ftruncate(base, 1 << 20)) return 1;
  int fds = 1, k = 0;
  while (fds < n) {
    struct slot *s = &slots[nslots];
    s->kind = (enum kind)(k++ % NKINDS);
    switch (s->kind) {
      case K_FILE:
        s->fd = open(path, O_RDWR);
        s->expect = nslots * 8;
        lseek(s->fd, s->expect, SEEK_SET);
        fds++;
        break;
      case K_DUP:
        s->fd = dup(slots[nslots - 1].fd);
        s->expect = slots[nslots - 1].expect;
        fds++;
        break;
      case K_PIPE: {
        int p[2];
        if (pipe(p)) return 1;
        s->fd = p[0];
        s->other = p[1];
        s->expect = nslots;
        if (write(p[1], &s->expect, sizeof s->expect) != sizeof s->expect) return 1;
        fds += 2;
        break;
      }
      case K_EVENT:
        s->fd = eventfd((unsigned)nslots + 1, EFD_NONBLOCK);
        s->expect = nslots + 1;
        fds++;
        break;
      case K_TIMER: {
        s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
        s->expect = 1 + nslots % 7;
        struct itimerspec t = {{s->expect, 0}, {s->expect, 0}};
        timerfd_settime(s->fd, 0, &t, NULL);
        fds++;
        break;
      }
      case K_EPOLL: {
        s->fd = epoll_create1(0);
        s->other = eventfd(1, EFD_NONBLOCK);
        s->expect = 0xABC0000 + nslots;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)s->expect};
        epoll_ctl(s->fd, EPOLL_CTL_ADD, s->other, &ev);
        fds += 2;
        break;
      }
      case K_MEMFD:
        s->fd = memfd_create("manyfds", 0);
        s->expect = nslots * 31;
        if (pwrite(s->fd, &s->expect, sizeof s->expect, 0) != sizeof s->expect) return 1;
        fds++;
        break;
      case K_DIR:
        s->fd = open(dir, O_RDONLY | O_DIRECTORY);
        fds++;
        break;
      case K_NULL:
        s->fd = open("/dev/null", O_WRONLY);
        fds++;
        break;
      default: break;
    }
    if (s->fd < 0) return 1;
    nslots++;
  }
  signal(SIGUSR1, on_usr1);
  printf("READY %d descriptors\n", fds);
  fflush(stdout);
  for (;;) {
    pause();
    if (verify) {
      verify = 0;
      if (check()) printf("VERIFY ok\n");
      fflush(stdout);
    }
  }
}
