/* Event descriptors across a checkpoint: an eventfd with a counter that
 * carries over, a semaphore eventfd, a periodic timerfd and a one-shot one
 * armed for an hour, a signalfd, an epoll set holding an eventfd and a pipe
 * with their data cookies, an inotify instance whose remaining watch has
 * descriptor 2 (the first was removed) and reports every change made in its
 * directory, and a sealed memfd that is also mapped shared (writes through
 * the descriptor show in the mapping). Each check names the object that broke.
 *
 * inotify events not yet read at a restart are lost (docs/descriptors.md):
 * when a restart came between a change and the reading of its events (the
 * process is a new one), the change is made again and its events must come.
 * A checkpoint the process goes on from loses nothing. With the argument
 * "unread", every third round after the start or a restart holds the events
 * of its change unread until the next restart, so that every checkpoint
 * finds them queued. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "progress.h"

#define MEMFD_SIZE (100 * 1024)

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The start time of this process (/proc/self/stat, field 22, in clock ticks
 * since boot): a restart makes a new process. */
static unsigned long long process_start(void) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (len <= 0) damaged("cannot read /proc/self/stat");
  buf[len] = '\0';
  char *p = strrchr(buf, ')'); /* the end of field 2: the command name may hold spaces */
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  if (!p) damaged("cannot parse /proc/self/stat");
  return strtoull(p, NULL, 10);
}

/* One change in the watched directory, a subdirectory made and removed: both
 * events must come within 2 s, with the remaining watch's descriptor. park:
 * first wait, with the events unread, until the process is not the one that
 * started at born. Returns whether both came. */
static int watch_reports(int in, int wd, unsigned long long born, int park) {
  if (mkdir("inotify-b/x", 0700) || rmdir("inotify-b/x")) damaged("cannot touch the watched directory");
  while (park && process_start() == born) tick(20);
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  int create = 0, delete = 0;
  long deadline = now_ms() + 2000;
  while (!(create && delete) && now_ms() < deadline) {
    ssize_t len = read(in, buf, sizeof buf);
    for (ssize_t off = 0; len > 0 && off < len;) {
      const struct inotify_event *ie = (const struct inotify_event *)(buf + off);
      if (ie->wd != wd) damaged("an inotify event came with the wrong watch descriptor");
      create |= (ie->mask & IN_CREATE) != 0;
      delete |= (ie->mask & IN_DELETE) != 0;
      off += (ssize_t)sizeof *ie + ie->len;
    }
    if (len <= 0) tick(5);
  }
  return create && delete;
}

int main(int argc, char **argv) {
  int unread = argc > 1 && !strcmp(argv[1], "unread");
  int counter = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int sem = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK);
  int periodic = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  int oneshot = timerfd_create(CLOCK_REALTIME, 0);
  struct itimerspec every50 = {{0, 50000000}, {0, 50000000}}, hour = {{0, 0}, {3600, 0}};
  if (counter < 0 || sem < 0 || periodic < 0 || oneshot < 0 || timerfd_settime(periodic, 0, &every50, NULL) ||
      timerfd_settime(oneshot, 0, &hour, NULL))
    damaged("cannot create the event descriptors");
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  int sfd = signalfd(-1, &usr1, SFD_NONBLOCK);
  int ep = epoll_create1(0), poked = eventfd(0, EFD_NONBLOCK), p[2];
  if (sfd < 0 || ep < 0 || poked < 0 || pipe2(p, O_NONBLOCK)) damaged("cannot create the event descriptors");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xE1E1E1E1ull};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, poked, &ev)) damaged("epoll_ctl failed");
  ev.data.u64 = 0xA1A1A1A1ull;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev)) damaged("epoll_ctl failed");
  mkdir("inotify-a", 0700);
  mkdir("inotify-b", 0700);
  int in = inotify_init1(IN_NONBLOCK);
  int wa = inotify_add_watch(in, "inotify-a", IN_CREATE);
  int wb = inotify_add_watch(in, "inotify-b", IN_CREATE | IN_DELETE);
  if (in < 0 || wa != 1 || wb != 2 || inotify_rm_watch(in, wa)) damaged("cannot set up inotify");
  char drain[4096];
  while (read(in, drain, sizeof drain) > 0) {
  }
  int mfd = memfd_create("corpus-memfd", MFD_ALLOW_SEALING);
  if (mfd < 0 || ftruncate(mfd, MEMFD_SIZE)) damaged("cannot create the memfd");
  for (int i = 0; i < MEMFD_SIZE; i += 4096) pwrite(mfd, &i, sizeof i, i);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) damaged("cannot seal the memfd");
  volatile long *view = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  if (view == MAP_FAILED) damaged("cannot map the memfd");

  uint64_t pending = 0;
  int calm = 0; /* rounds since the start or the last restart */
  long ticks = 0, window_start = now_ms(), window_ticks = 0;
  for (long n = 0;; n++) {
    /* the counter carries over */
    uint64_t two = 2, got;
    if (write(counter, &two, 8) != 8) damaged("cannot add to the eventfd");
    pending += 2;
    if (n % 3 == 2) {
      if (read(counter, &got, 8) != 8 || got != pending) damaged("the eventfd counter is wrong");
      pending = 0;
    }
    /* the semaphore hands out 1 at a time, five of them */
    for (int k = 0; k < 5; k++)
      if (read(sem, &got, 8) != 8 || got != 1) damaged("the semaphore eventfd lost its count or its mode");
    if (read(sem, &got, 8) != -1 || errno != EAGAIN) damaged("the semaphore eventfd has too much");
    uint64_t five = 5;
    if (write(sem, &five, 8) != 8) damaged("cannot refill the semaphore eventfd");
    /* the periodic timer keeps firing, the one-shot stays armed */
    uint64_t exp;
    if (read(periodic, &exp, 8) == 8) {
      ticks += (long)exp;
      window_ticks += (long)exp;
    }
    struct itimerspec cur;
    if (timerfd_gettime(periodic, &cur) || cur.it_interval.tv_nsec != 50000000 || cur.it_interval.tv_sec != 0)
      damaged("the periodic timerfd lost its period");
    if (now_ms() - window_start > 3000) {
      if (window_ticks < 10) damaged("the periodic timerfd stopped firing");
      window_start = now_ms();
      window_ticks = 0;
    }
    if (timerfd_gettime(oneshot, &cur) || cur.it_interval.tv_sec || (cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0) ||
        cur.it_value.tv_sec > 3600)
      damaged("the one-shot timerfd is no longer armed");
    /* the signalfd takes SIGUSR1 */
    kill(getpid(), SIGUSR1);
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si || si.ssi_signo != SIGUSR1) damaged("the signalfd lost its mask");
    /* the epoll set reports both with their cookies */
    uint64_t one = 1;
    if (write(poked, &one, 8) != 8 || write(p[1], "x", 1) != 1) damaged("cannot poke the epoll set");
    struct epoll_event out[4];
    int ready = epoll_wait(ep, out, 4, 1000), seen = 0;
    for (int k = 0; k < ready; k++) seen |= (out[k].data.u64 == 0xE1E1E1E1ull ? 1 : 0) | (out[k].data.u64 == 0xA1A1A1A1ull ? 2 : 0);
    if (seen != 3) damaged("the epoll set lost a registration or its data");
    char c;
    if (read(poked, &got, 8) != 8 || read(p[0], &c, 1) != 1) damaged("cannot drain the epoll targets");
    /* inotify: the remaining watch is still descriptor 2 and reports changes;
     * a change's events lost at a restart are the documented loss */
    for (int park = unread && calm >= 3;; park = 0) {
      unsigned long long born = process_start();
      if (watch_reports(in, wb, born, park)) break;
      if (process_start() == born) damaged("the inotify watch is gone");
      calm = 0;
    }
    calm++;
    /* the memfd: contents, seals, one object with its mapping */
    int seals = fcntl(mfd, F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_GROW) || ftruncate(mfd, 4096) == 0)
      damaged("the memfd lost its seals");
    int first;
    if (pread(mfd, &first, sizeof first, 8192) != (ssize_t)sizeof first || first != 8192) damaged("the memfd lost its contents");
    if (pwrite(mfd, &n, sizeof n, 64) != (ssize_t)sizeof n || view[8] != n) damaged("the memfd and its mapping are no longer one object");
    progress(n);
    tick(100);
  }
}
