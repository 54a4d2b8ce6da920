/* Signals pending at every moment, so every checkpoint finds some: the main
 * thread blocks SIGUSR1, SIGRTMIN+1 (both raised to itself: pending for that
 * thread) and SIGRTMIN+5 (sent with kill(): pending for the process); a worker
 * thread blocks SIGRTMIN+6, raised to itself. Each cycle a thread checks with
 * sigpending() that its signals are still pending, unblocks them, checks that
 * each handler ran once, on that thread, with the si_code of how it was sent,
 * blocks them and raises them again. The main thread also checks that
 * CLOCK_MONOTONIC never goes back, across restarts too. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define N_SIGS 4
static int sigs[N_SIGS];
static const char *const names[N_SIGS] = {"SIGUSR1 (raised by the main thread)",
                                          "SIGRTMIN+1 (raised by the main thread)",
                                          "SIGRTMIN+5 (sent to the process with kill)",
                                          "SIGRTMIN+6 (raised by the worker thread)"};
static const int expected_code[N_SIGS] = {SI_TKILL, SI_TKILL, SI_USER, SI_TKILL};
static atomic_long got[N_SIGS];
static atomic_int wrong_code[N_SIGS], wrong_thread[N_SIGS];
static pthread_t main_thread, worker;

static int index_of(int sig) {
  for (int i = 0; i < N_SIGS; i++)
    if (sigs[i] == sig) return i;
  return -1;
}

/* Async-signal-safe: atomics and pthread_self/pthread_equal (a register read). */
static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  int i = index_of(sig);
  if (i < 0) return;
  if (si->si_code != expected_code[i]) atomic_store(&wrong_code[i], si->si_code ? si->si_code : 1000);
  pthread_t want = i == 3 ? worker : main_thread;
  if (!pthread_equal(pthread_self(), want)) atomic_store(&wrong_thread[i], 1);
  atomic_fetch_add(&got[i], 1);
}

static void send(int i) {
  if (i == 2) kill(getpid(), sigs[i]);
  else raise(sigs[i]);
}

/* One cycle for the signals first..last of the calling thread. */
static void cycle(int first, int last) {
  char msg[256];
  sigset_t pending, set;
  sigpending(&pending);
  sigemptyset(&set);
  long before[N_SIGS];
  for (int i = first; i <= last; i++) {
    if (!sigismember(&pending, sigs[i])) {
      snprintf(msg, sizeof msg, "%s is no longer pending (sigpending)", names[i]);
      damaged(msg);
    }
    sigaddset(&set, sigs[i]);
    before[i] = atomic_load(&got[i]);
  }
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);  /* the pending signals are delivered here */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  for (int i = first; i <= last; i++) {
    long n = atomic_load(&got[i]) - before[i];
    int code = atomic_load(&wrong_code[i]);
    if (n != 1) snprintf(msg, sizeof msg, "%s reached its handler %ld times after unblocking, not once", names[i], n);
    else if (code) snprintf(msg, sizeof msg, "%s arrived with si_code %d, not %d", names[i], code == 1000 ? 0 : code, expected_code[i]);
    else if (atomic_load(&wrong_thread[i])) snprintf(msg, sizeof msg, "%s was handled on another thread", names[i]);
    else continue;
    damaged(msg);
  }
  for (int i = first; i <= last; i++) send(i);
  sigpending(&pending);
  for (int i = first; i <= last; i++) {
    if (!sigismember(&pending, sigs[i])) {
      snprintf(msg, sizeof msg, "%s is not pending right after it was sent", names[i]);
      damaged(msg);
    }
  }
}

static void *worker_main(void *arg) {
  (void)arg;
  send(3);
  for (;;) {
    cycle(3, 3);
    tick(150);
  }
  return NULL;
}

int main(void) {
  sigs[0] = SIGUSR1;
  sigs[1] = SIGRTMIN + 1;
  sigs[2] = SIGRTMIN + 5;
  sigs[3] = SIGRTMIN + 6;
  main_thread = pthread_self();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigset_t all;
  sigemptyset(&all);
  for (int i = 0; i < N_SIGS; i++) {
    sigaction(sigs[i], &sa, NULL);
    sigaddset(&all, sigs[i]);
  }
  /* Every thread blocks all four: kill() to the process must stay pending too. */
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  for (int i = 0; i < 3; i++) send(i);
  if (pthread_create(&worker, NULL, worker_main, NULL) != 0) damaged("cannot start the worker thread");
  struct timespec last;
  clock_gettime(CLOCK_MONOTONIC, &last);
  for (long n = 0;; n++) {
    cycle(0, 2);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < last.tv_sec || (now.tv_sec == last.tv_sec && now.tv_nsec < last.tv_nsec)) {
      char msg[160];
      snprintf(msg, sizeof msg, "CLOCK_MONOTONIC went backwards from %lld.%09ld to %lld.%09ld",
               (long long)last.tv_sec, last.tv_nsec, (long long)now.tv_sec, now.tv_nsec);
      damaged(msg);
    }
    last = now;
    progress(n);
    tick(200);
  }
}
