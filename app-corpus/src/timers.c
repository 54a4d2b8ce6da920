/* Every kind of timer at once, each checking that it keeps firing at its rate,
 * with its own signal, value and target thread, across checkpoints and
 * restarts:
 *   - ITIMER_REAL every 50 ms (or, with the argument "alarm", alarm(1) armed
 *     again from its handler: alarm and ITIMER_REAL are one kernel timer);
 *   - ITIMER_VIRTUAL every 10 ms and ITIMER_PROF every 20 ms of CPU time;
 *   - POSIX timers: CLOCK_MONOTONIC SIGEV_SIGNAL every 40 ms; CLOCK_REALTIME
 *     SIGEV_THREAD_ID aimed at a worker thread every 60 ms; with the argument
 *     "sigev-thread", SIGEV_THREAD (glibc's helper thread) every 5 ms, so
 *     that it also fires while a restart is still under way (with
 *     "sigtimer-dfl", its signal at SIG_DFL as when started from a shell);
 *     SIGEV_SIGNAL on a thread's CPU-time clock (pthread_getcpuclockid) every
 *     10 ms of that thread's time; SIGEV_NONE on CLOCK_BOOTTIME, an hour away,
 *     with a 7 s interval, read back only.
 * A burner thread uses about a fifth of a core so that the CPU-time timers run.
 *
 * Every 250 ms: timer_gettime works on every timer_t the program holds and
 * gives back its own interval; each timer fired within its period plus 1.5 s
 * (3 s for the CPU-time ones) and not much faster than its rate; CLOCK_MONOTONIC
 * did not go back; the SIGEV_NONE timer counted down with its clock (see
 * check_none). A gap in the program's time (a checkpoint, or the time it was
 * not running before a restart) restarts the deadlines, and no PROGRESS line is
 * printed until every timer has fired again since, so the harness's three lines
 * after a restart mean every timer came back. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

enum { T_REAL, T_VIRT, T_PROF, T_MONO, T_WORKER, T_THREAD, T_CPU, N_WATCHED };

static const char *const names[N_WATCHED] = {
    "ITIMER_REAL (SIGALRM)",        "ITIMER_VIRTUAL (SIGVTALRM)",
    "ITIMER_PROF (SIGPROF)",        "the CLOCK_MONOTONIC SIGEV_SIGNAL timer",
    "the SIGEV_THREAD_ID timer aimed at the worker thread", "the SIGEV_THREAD timer",
    "the thread CPU-time clock timer"};
static long period_ms[N_WATCHED] = {50, 50, 100, 40, 60, 5, 50}; /* wall-clock estimates for CPU time */
static const long interval_ns[N_WATCHED] = {50000000, 10000000, 20000000, 40000000, 60000000, 5000000, 10000000};

static atomic_long fires[N_WATCHED], last_fire_ms[N_WATCHED];
static atomic_int wrong[N_WATCHED];   /* what a handler found wrong (see report_wrong) */
static int alarm_mode, with_sigev_thread;
static pthread_t worker, burner;
static timer_t tid_mono, tid_worker, tid_thread, tid_cpu, tid_none;
static const int sival_mono = 1002, sival_worker = 1003, sival_cpu = 1005;
static char thread_marker;

static long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Async-signal-safe (lock-free atomics, clock_gettime). */
static void fired(int i, long expirations) {
  atomic_fetch_add(&fires[i], expirations);
  atomic_store(&last_fire_ms[i], mono_ms());
}

static void on_itimer(int sig) {
  if (sig == SIGALRM) {
    fired(T_REAL, 1);
    if (alarm_mode) alarm(1);
  } else {
    fired(sig == SIGVTALRM ? T_VIRT : T_PROF, 1);
  }
}

static void check_timer_signal(int i, const siginfo_t *si, int value, timer_t id) {
  if (si->si_code != SI_TIMER) atomic_store(&wrong[i], 1);
  else if (si->si_value.sival_int != value) atomic_store(&wrong[i], 2);
  else if (si->si_timerid != (int)(intptr_t)id) atomic_store(&wrong[i], 3);
}

static void on_posix_timer(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  int i = sig == SIGRTMIN + 2 ? T_MONO : sig == SIGRTMIN + 3 ? T_WORKER : T_CPU;
  check_timer_signal(i, si, i == T_MONO ? sival_mono : i == T_WORKER ? sival_worker : sival_cpu,
                     i == T_MONO ? tid_mono : i == T_WORKER ? tid_worker : tid_cpu);
  if (i == T_WORKER && !pthread_equal(pthread_self(), worker)) atomic_store(&wrong[i], 4);
  fired(i, 1 + (si->si_code == SI_TIMER && si->si_overrun > 0 ? si->si_overrun : 0));
}

static void on_thread_timer(union sigval v) {
  if (v.sival_ptr != &thread_marker) atomic_store(&wrong[T_THREAD], 2);
  fired(T_THREAD, 1);
}

static void report_wrong(int i, int what) {
  static const char *const why[] = {"", "arrived without si_code SI_TIMER", "arrived with another sigev_value",
                                    "arrived with another si_timerid", "arrived on another thread than its target"};
  char msg[200];
  snprintf(msg, sizeof msg, "the signal of %s %s", names[i], why[what]);
  damaged(msg);
}

static void *worker_main(void *arg) {
  (void)arg;
  for (;;) tick(1000);
  return NULL;
}

static void *burner_main(void *arg) {
  (void)arg;
  for (;;) {
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    do clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 3000000L);
    tick(12);
  }
  return NULL;
}

static void must(int ok, const char *what) {
  if (!ok) {
    char msg[200];
    snprintf(msg, sizeof msg, "cannot set up %s: %s", what, strerror(errno));
    damaged(msg);
  }
}

static timer_t posix_timer(clockid_t clock, int notify, int sig, union sigval v, pid_t thread, long period_ns,
                           long first_ns) {
  struct sigevent se;
  memset(&se, 0, sizeof se);
  se.sigev_notify = notify;
  se.sigev_signo = sig;
  se.sigev_value = v;
  if (notify == SIGEV_THREAD) se.sigev_notify_function = on_thread_timer;
  if (notify == SIGEV_THREAD_ID) se._sigev_un._tid = thread;  /* glibc 2.36 has no sigev_notify_thread_id */
  timer_t id;
  must(timer_create(clock, &se, &id) == 0, "a POSIX timer");
  struct itimerspec its = {{period_ns / 1000000000L, period_ns % 1000000000L},
                           {first_ns / 1000000000L, first_ns % 1000000000L}};
  must(timer_settime(id, 0, &its, NULL) == 0, "a POSIX timer's time");
  return id;
}

static _Atomic pid_t worker_tid;

static void *worker_start(void *arg) {
  atomic_store(&worker_tid, gettid());
  return worker_main(arg);
}

static void check_itimer(int which, int i) {
  struct itimerval v;
  if (getitimer(which, &v) != 0) damaged("getitimer failed");
  long want = alarm_mode && i == T_REAL ? 0 : interval_ns[i] / 1000;
  long got = v.it_interval.tv_sec * 1000000L + v.it_interval.tv_usec;
  if (got != want) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s has interval %ld us, set to %ld us", names[i], got, want);
    damaged(msg);
  }
  /* Not checked: an itimer that reads 0 left. A CPU-time one within a
   * microsecond of expiring reads so, and since Linux 6.13 a periodic
   * ITIMER_REAL does while its SIGALRM waits to be delivered. */
}

static void check_posix(timer_t id, const char *name, long want_interval_ns, struct itimerspec *out) {
  struct itimerspec its;
  char msg[256];
  if (timer_gettime(id, &its) != 0) {
    snprintf(msg, sizeof msg, "timer_gettime on %s (timer_t %p) failed: %s", name, id, strerror(errno));
    damaged(msg);
  }
  long got = its.it_interval.tv_sec * 1000000000L + its.it_interval.tv_nsec;
  if (got != want_interval_ns) {
    snprintf(msg, sizeof msg, "timer_gettime on %s gives interval %ld ns, set to %ld ns", name, got, want_interval_ns);
    damaged(msg);
  }
  if (!its.it_value.tv_sec && !its.it_value.tv_nsec) {
    snprintf(msg, sizeof msg, "%s is disarmed (timer_gettime)", name);
    damaged(msg);
  }
  if (out) *out = its;
}

/* The start time of this process (/proc/self/stat, field 22, in clock ticks
 * since boot): a restart makes a new process, a resumed checkpoint does not. */
static unsigned long long process_start(void) {
  char buf[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');  /* the command name may hold spaces */
  unsigned long long v = 0;
  for (int field = 2; p && *p && field < 22; p++) field += *p == ' ';
  while (p && *p >= '0' && *p <= '9') v = v * 10 + (unsigned long long)(*p++ - '0');
  if (!v) damaged("cannot read the start time in /proc/self/stat");
  return v;
}

static long long boot_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The SIGEV_NONE timer read between two reads of its own clock, in one
 * process (a restart in between: read again). */
struct none_sample { long long before, after, left; unsigned long long process; };

static void sample_none(struct none_sample *s) {
  do {
    s->process = process_start();
    struct itimerspec its;
    s->before = boot_ns();
    check_posix(tid_none, "the SIGEV_NONE timer", 7000000000L, &its);
    s->after = boot_ns();
    s->left = its.it_value.tv_sec * 1000000000LL + its.it_value.tv_nsec;
  } while (process_start() != s->process);
}

/* Within one process (resumed checkpoints included) the timer counts down
 * with its clock: by at least the time between the two reads and at most the
 * time around them. Across a restart it does not count the time the process
 * was not running, so it may have gone down by less, never by more, and never
 * up. A millisecond to spare: the kernel reads the same clock. */
static void check_none(const struct none_sample *p, const struct none_sample *n) {
  const long long spare = 1000000;
  int restarted = n->process != p->process;
  long long went = p->left - n->left, least = restarted ? 0 : n->before - p->after, most = n->after - p->before;
  if (went < least - spare || went > most + spare) {
    char msg[256];
    snprintf(msg, sizeof msg, "the SIGEV_NONE timer went down by %lld us between reads %lld to %lld us apart on CLOCK_BOOTTIME%s",
             went / 1000, (n->before - p->after) / 1000, most / 1000, restarted ? ", across a restart" : "");
    damaged(msg);
  }
}

/* glibc's SIGTIMER (__SIGRTMIN): its SIGEV_THREAD helper waits for it with it
 * blocked. Put back to SIG_DFL, as in a program started from a shell (the
 * harness's JVM starts its children with it ignored); raw, as glibc refuses. */
static void sigtimer_default(void) {
  struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl;  /* the kernel's layout */
  memset(&dfl, 0, sizeof dfl);
  must(syscall(SYS_rt_sigaction, 32, &dfl, NULL, sizeof dfl.mask) == 0, "SIGTIMER's default action");
}

int main(int argc, char **argv) {
  for (int a = 1; a < argc; a++) {
    alarm_mode |= strcmp(argv[a], "alarm") == 0;
    with_sigev_thread |= strcmp(argv[a], "sigev-thread") == 0;
    if (strcmp(argv[a], "sigtimer-dfl") == 0) sigtimer_default();
  }
  if (alarm_mode) period_ms[T_REAL] = 1000;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_itimer;
  sigaction(SIGALRM, &sa, NULL);
  sigaction(SIGVTALRM, &sa, NULL);
  sigaction(SIGPROF, &sa, NULL);
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sa.sa_sigaction = on_posix_timer;
  sigaction(SIGRTMIN + 2, &sa, NULL);
  sigaction(SIGRTMIN + 3, &sa, NULL);
  sigaction(SIGRTMIN + 4, &sa, NULL);

  must(pthread_create(&worker, NULL, worker_start, NULL) == 0, "the worker thread");
  must(pthread_create(&burner, NULL, burner_main, NULL) == 0, "the burner thread");
  while (!atomic_load(&worker_tid)) tick(1);

  if (alarm_mode) {
    alarm(1);
  } else {
    struct itimerval real = {{0, 50000}, {0, 50000}};
    must(setitimer(ITIMER_REAL, &real, NULL) == 0, "ITIMER_REAL");
  }
  struct itimerval virt = {{0, 10000}, {0, 10000}}, prof = {{0, 20000}, {0, 20000}};
  must(setitimer(ITIMER_VIRTUAL, &virt, NULL) == 0, "ITIMER_VIRTUAL");
  must(setitimer(ITIMER_PROF, &prof, NULL) == 0, "ITIMER_PROF");
  /* Timers deleted again leave gaps in the ids (0, 1 and 3): the restart must
   * give every timer its own id back, also the linear way (DMTCP_TIMER_IDS_LINEAR). */
  timer_t scratch[3];
  for (int i = 0; i < 2; i++) must(timer_create(CLOCK_MONOTONIC, NULL, &scratch[i]) == 0, "a scratch timer");
  tid_mono = posix_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 2, (union sigval){.sival_int = sival_mono}, 0,
                         interval_ns[T_MONO], interval_ns[T_MONO]);
  must(timer_create(CLOCK_MONOTONIC, NULL, &scratch[2]) == 0, "a scratch timer");
  tid_worker = posix_timer(CLOCK_REALTIME, SIGEV_THREAD_ID, SIGRTMIN + 3, (union sigval){.sival_int = sival_worker},
                           atomic_load(&worker_tid), interval_ns[T_WORKER], interval_ns[T_WORKER]);
  if (with_sigev_thread)
    tid_thread = posix_timer(CLOCK_MONOTONIC, SIGEV_THREAD, 0, (union sigval){.sival_ptr = &thread_marker}, 0,
                             interval_ns[T_THREAD], interval_ns[T_THREAD]);
  clockid_t burner_clock;
  must(pthread_getcpuclockid(burner, &burner_clock) == 0, "the burner's CPU clock");
  tid_cpu = posix_timer(burner_clock, SIGEV_SIGNAL, SIGRTMIN + 4, (union sigval){.sival_int = sival_cpu}, 0,
                        interval_ns[T_CPU], interval_ns[T_CPU]);
  tid_none = posix_timer(CLOCK_BOOTTIME, SIGEV_NONE, 0, (union sigval){.sival_int = 0}, 0, 7000000000L,
                         3600000000000L);

  for (int i = 0; i < 3; i++) timer_delete(scratch[i]);

  long start = mono_ms(), prev = start, since[N_WATCHED], base_fires[N_WATCHED];
  long window_fires[N_WATCHED];
  struct none_sample none_prev, none_now;
  sample_none(&none_prev);
  for (int i = 0; i < N_WATCHED; i++) {
    since[i] = start;
    base_fires[i] = window_fires[i] = atomic_load(&fires[i]);
  }
  for (long n = 0;;) {
    tick(250);
    long now = mono_ms(), gap = now - prev;
    if (now < prev) damaged("CLOCK_MONOTONIC went backwards");
    int stall = gap > 400;
    for (int i = 0; i < N_WATCHED; i++) {
      if (i == T_THREAD && !with_sigev_thread) continue;
      int w = atomic_load(&wrong[i]);
      if (w) report_wrong(i, w);
      long f = atomic_load(&fires[i]);
      if (stall) {  /* deadlines start again; this PROGRESS waits for a fire */
        since[i] = now;
        base_fires[i] = f;
      } else {
        long burst = f - window_fires[i], limit = 3 * gap / period_ms[i] + 5;
        if (i != T_VIRT && i != T_PROF && i != T_CPU && burst > limit) {
          char msg[200];
          snprintf(msg, sizeof msg, "%s fired %ld times in %ld ms (period %ld ms)", names[i], burst, gap, period_ms[i]);
          damaged(msg);
        }
      }
      window_fires[i] = f;
      long last = atomic_load(&last_fire_ms[i]);
      long from = last > since[i] ? last : since[i];
      long allowed = period_ms[i] + (i == T_VIRT || i == T_PROF || i == T_CPU ? 3000 : 1500);
      if (now - from > allowed) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s did not fire for %ld ms (period %ld ms)", names[i], now - from, period_ms[i]);
        damaged(msg);
      }
    }
    check_itimer(ITIMER_REAL, T_REAL);
    check_itimer(ITIMER_VIRTUAL, T_VIRT);
    check_itimer(ITIMER_PROF, T_PROF);
    check_posix(tid_mono, names[T_MONO], interval_ns[T_MONO], NULL);
    check_posix(tid_worker, names[T_WORKER], interval_ns[T_WORKER], NULL);
    if (with_sigev_thread) check_posix(tid_thread, names[T_THREAD], interval_ns[T_THREAD], NULL);
    check_posix(tid_cpu, names[T_CPU], interval_ns[T_CPU], NULL);
    sample_none(&none_now);
    check_none(&none_prev, &none_now);
    none_prev = none_now;
    prev = now;
    int waiting = 0;
    for (int i = 0; i < N_WATCHED; i++)
      waiting |= (i != T_THREAD || with_sigev_thread) && atomic_load(&fires[i]) == base_fires[i];
    if (!waiting) progress(n++);
  }
}
