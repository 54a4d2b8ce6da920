/* A parent and two children that check their own ids and signal each other
 * by pid. Each child checks that getpid() and getppid() are what they were
 * when it started and that the parent's SIGUSR1 keeps coming; the parent
 * signals each child by its pid every tick, checks with waitpid(WNOHANG) that
 * both are still its own, running children, and reads /proc/<pid>/stat of
 * each. Every process also checks that its process group and session
 * (getpgrp, getpgid, getsid) are what they were when it started: their
 * leaders are outside the computation (the shell or harness that ran
 * dmtcp_launch), and the parent's children are exactly its two. After a restart all of this must hold with the original pids. */
#include <dirent.h>
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

static pid_t first_pgrp, first_sid;

static void check_group_and_session(const char *who) {
  char what[96];
  if (getpgrp() != first_pgrp || getpgid(0) != first_pgrp) {
    snprintf(what, sizeof what, "%s: process group %d, was %d", who, (int)getpgrp(), (int)first_pgrp);
    damaged(what);
  }
  if (getsid(0) != first_sid) {
    snprintf(what, sizeof what, "%s: session %d, was %d", who, (int)getsid(0), (int)first_sid);
    damaged(what);
  }
}

/* The children of every thread of this process, from /proc/self/task/<tid>/children. */
static int list_children(pid_t *out, int cap) {
  int n = 0;
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    int pid;
    while (n < cap && fscanf(f, "%d", &pid) == 1) out[n++] = pid;
    fclose(f);
  }
  closedir(d);
  return n;
}

static void child_main(int index, pid_t parent) {
  pid_t self = getpid();
  long last_count = 0, last_change = now_ms();
  for (long n = 0;; n++) {
    if (getpid() != self) damaged("child: getpid() changed");
    if (getppid() != parent) {
      /* A parent that is gone (the computation being killed, parent first) is
       * the end; one that is there under another pid is damage. */
      char path[64], st[512] = "";
      snprintf(path, sizeof path, "/proc/%d/stat", (int)parent);
      FILE *f = fopen(path, "r");
      if (f) {
        if (!fgets(st, sizeof st, f)) st[0] = '\0';
        fclose(f);
      }
      const char *state = strrchr(st, ')');
      if (kill(parent, 0) != 0 || !state || state[2] == 'Z') exit(0); /* gone, or dead and not yet reaped */
      damaged("child: getppid() is not the parent any more");
    }
    check_group_and_session("child");
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
  first_pgrp = getpgrp();
  first_sid = getsid(0);
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
    check_group_and_session("parent");
    for (int i = 0; i < 2; i++)
      if (getpgid(kids[i]) != first_pgrp || getsid(kids[i]) != first_sid)
        damaged("parent: a child's process group or session is not the family's");
    /* its children are its two, and no one else (nothing dmtcp_restart put in place) */
    pid_t children[8];
    int nchildren = list_children(children, 8);
    if (nchildren != 2 || !((children[0] == kids[0] && children[1] == kids[1]) ||
                            (children[0] == kids[1] && children[1] == kids[0])))
      damaged("parent: its children are not exactly its two");
    if (waitpid(-1, NULL, WNOHANG) != 0) damaged("parent: waitpid(-1, WNOHANG) did not say 'children, none ended'");
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
