/* A parent and two children that check their own ids and signal each other
 * by pid. Each child checks that getpid() and getppid() are what they were
 * when it started and that the parent's SIGUSR1 keeps coming; the parent
 * signals each child by its pid every tick, checks with waitpid(WNOHANG) that
 * both are still its own, running children, and reads /proc/<pid>/stat of
 * each. After a restart all of this must hold with the original pids. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static volatile sig_atomic_t signals_seen;
static void on_usr1(int sig) { (void)sig; signals_seen++; }

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void child_main(int index, pid_t parent) {
  pid_t self = getpid();
  long last_count = 0, last_change = now_ms();
  for (long n = 0;; n++) {
    if (getpid() != self) damaged("child: getpid() changed");
    if (getppid() != parent) damaged("child: getppid() is not the parent any more");
    long seen = signals_seen;
    if (seen != last_count) {
      last_count = seen;
      last_change = now_ms();
    } else if (now_ms() - last_change > 5000) {
      damaged("child: no signal from the parent for 5 s");
    }
    printf("CHILD %d %ld signals %ld\n", index, n, seen);
    fflush(stdout);
    tick(100);
  }
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  pid_t parent = getpid();
  pid_t kids[2];
  fflush(stdout);
  for (int i = 0; i < 2; i++) {
    kids[i] = fork();
    if (kids[i] < 0) damaged("fork failed");
    if (kids[i] == 0) child_main(i, parent);
  }
  volatile long n = 0, shadow = ~0L;
  for (;;) {
    if (shadow != ~n) damaged("parent: counter and its shadow differ");
    if (getpid() != parent) damaged("parent: getpid() changed");
    for (int i = 0; i < 2; i++) {
      if (kill(kids[i], SIGUSR1) != 0) damaged("parent: kill(child) failed");
      int status;
      pid_t got = waitpid(kids[i], &status, WNOHANG);
      if (got != 0) damaged(got < 0 && errno == ECHILD ? "parent: a child is not its child any more"
                                                        : "parent: a child ended");
      char path[64], stat[256] = "";
      snprintf(path, sizeof path, "/proc/%d/stat", (int)kids[i]);
      FILE *f = fopen(path, "r");
      if (!f || !fgets(stat, sizeof stat, f)) damaged("parent: cannot read /proc/<child>/stat");
      fclose(f);
      char want[32];
      snprintf(want, sizeof want, "%d (", (int)kids[i]);
      if (strncmp(stat, want, strlen(want)) != 0) damaged("parent: /proc/<child>/stat is another process");
    }
    progress(n);
    n++;
    shadow = ~n;
    tick(100);
  }
}
