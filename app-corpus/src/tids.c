/* Threads that know each other by tid. Each of NWORKERS threads and the main
 * thread records its gettid() at start; then, every tick, each checks that
 * gettid() is unchanged and that /proc/self/task/<tid> of every member shows
 * that thread, and sends SIGUSR1 to the next member of the ring by
 * tgkill(getpid(), tid); the main thread also sends it to every worker with
 * pthread_kill (which uses glibc's own copy of the tid). Each member checks
 * that signals keep reaching it, and a signal landing on a thread whose tid is
 * not a member's is damage. The tasks /proc/self/task listed at start (the
 * runtime's checkpoint thread among them, under dmtcp) must all still be
 * there, and a thread that returns must be joinable. After a restart all of
 * this must hold with the original tids. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "progress.h"

#define NWORKERS 4
#define NMEMBERS (NWORKERS + 1) /* member 0 is the main thread */
/* Ticks of 100 ms a member may go without a signal; counted in ticks run, not
 * in clock time, so the time a checkpointed program spends killed is not held
 * against it. */
#define QUIET_TICKS 50

static pid_t tids[NMEMBERS];
static pthread_t threads[NMEMBERS];
static _Atomic long received[NMEMBERS];
static _Atomic int stray; /* a SIGUSR1 reached a thread that is no member */
static _Atomic int started;

static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

static void on_usr1(int sig) { /* async-signal-safe: one system call, atomics */
  (void)sig;
  pid_t self = my_tid();
  for (int i = 0; i < NMEMBERS; i++) {
    if (tids[i] == self) {
      atomic_fetch_add(&received[i], 1);
      return;
    }
  }
  atomic_store(&stray, 1);
}

/* /proc/self/task/<tid>/stat exists and names tid. */
static int task_is_there(pid_t tid) {
  char path[64], line[128] = "", want[32];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  snprintf(want, sizeof want, "%d (", (int)tid);
  return ok && strncmp(line, want, strlen(want)) == 0;
}

static pid_t first_tasks[64];
static int nfirst_tasks;

static void list_first_tasks(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) damaged("cannot list /proc/self/task");
  struct dirent *e;
  while ((e = readdir(d)) && nfirst_tasks < 64)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') first_tasks[nfirst_tasks++] = (pid_t)atoi(e->d_name);
  closedir(d);
}

/* One tick of member i's checks; last_count/quiet are its own. */
static void member_tick(int i, long *last_count, int *quiet) {
  if (my_tid() != tids[i]) damaged(i ? "worker: gettid() changed" : "main: gettid() changed");
  if (syscall(SYS_tgkill, getpid(), tids[(i + 1) % NMEMBERS], SIGUSR1) != 0)
    damaged("tgkill(getpid(), tid of another thread) failed");
  if (!task_is_there(tids[(i + 1) % NMEMBERS])) damaged("/proc/self/task/<tid> of another thread is missing");
  long seen = atomic_load(&received[i]);
  if (seen != *last_count) {
    *last_count = seen;
    *quiet = 0;
  } else if (++*quiet > QUIET_TICKS) {
    damaged(i ? "worker: no signal for 50 ticks" : "main: no signal for 50 ticks");
  }
  if (atomic_load(&stray)) damaged("a signal sent to a member's tid reached another thread");
}

/* A short-lived thread, alive across about half of the checkpoints: once it
 * has returned, pthread_join must see it gone (the kernel clears glibc's tid
 * field and wakes the joiner: CLONE_CHILD_CLEARTID must survive a restart). */
static _Atomic int sleeper_ticks;

static void *sleeper(void *arg) {
  (void)arg;
  for (int i = 0; i < 15; i++) {
    atomic_fetch_add(&sleeper_ticks, 1);
    tick(100);
  }
  return NULL;
}

static void *worker(void *arg) {
  int i = (int)(long)arg;
  tids[i] = my_tid();
  atomic_fetch_add(&started, 1);
  while (atomic_load(&started) < NMEMBERS) tick(1);
  long last = 0;
  int quiet = 0;
  for (;;) {
    member_tick(i, &last, &quiet);
    tick(100);
  }
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  tids[0] = my_tid();
  if (tids[0] != getpid()) damaged("main: gettid() is not getpid()");
  threads[0] = pthread_self();
  for (long i = 1; i < NMEMBERS; i++)
    if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0) damaged("pthread_create failed");
  while (atomic_load(&started) < NWORKERS) tick(1);
  atomic_fetch_add(&started, 1);
  list_first_tasks();
  long last = 0;
  int quiet = 0;
  pthread_t sl;
  int sleeping = 0, waited = 0;
  for (long n = 0;; n++) {
    member_tick(0, &last, &quiet);
    if (!sleeping && n % 30 == 0) {
      atomic_store(&sleeper_ticks, 0);
      if (pthread_create(&sl, NULL, sleeper, NULL) != 0) damaged("pthread_create(sleeper) failed");
      sleeping = 1;
      waited = 0;
    } else if (sleeping && atomic_load(&sleeper_ticks) >= 15) {
      if (pthread_tryjoin_np(sl, NULL) == 0) sleeping = 0;
      else if (++waited > QUIET_TICKS) damaged("main: a thread that returned cannot be joined");
    }
    for (int i = 1; i < NMEMBERS; i++)
      if (pthread_kill(threads[i], SIGUSR1) != 0) damaged("main: pthread_kill(worker) failed");
    for (int k = 0; k < nfirst_tasks; k++)
      if (!task_is_there(first_tasks[k])) damaged("a task listed at start is gone from /proc/self/task");
    progress(n);
    tick(100);
  }
}
