/* Timers the kernel forgets across a restart: alarm()/setitimer() (ITIMER_REAL,
 * ITIMER_VIRTUAL, ITIMER_PROF) and POSIX timers (timer_create). Saved by the
 * checkpoint thread while every user thread is parked, into static memory that
 * is part of the image, and re-armed after restart with the time that was left
 * and their period. Saving only reads (getitimer, timer_gettime): the process
 * that goes on after a checkpoint keeps its timers untouched.
 *
 * Also here: the old-tid -> new-tid map of the threads (timers and pending
 * signals aimed at a thread must follow it), and the unblocking of the
 * checkpoint signal in glibc's SIGEV_THREAD helper thread (see below).
 *
 * No malloc, no stdio: user threads may hold their locks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

/* Linux 6.15 (include/uapi/linux/prctl.h): while on, timer_create() reads the
 * wanted timer id from its timer_t argument. Not in Debian 12's headers. */
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif

#define MAX_TIMERS 512

/* ---- old tid -> new tid ---------------------------------------------------- */

static pid_t g_old_tids[MAX_THREADS];   /* g_threads[i].tid at the checkpoint */
static int g_old_nthreads;
static pid_t g_old_ckpt_tid, g_old_pid;

static void tidmap_save(void) {
  g_old_nthreads = g_nthreads;
  for (int i = 0; i < g_nthreads; i++)
    g_old_tids[i] = atomic_load(&g_threads[i].state) == T_SUSPENDED ? g_threads[i].tid : 0;
  g_old_ckpt_tid = g_ckpt_tid;
  g_old_pid = getpid();
}

/* After restart_user_threads(), g_threads[i].tid holds the new tid of the
 * thread that had g_old_tids[i]. 0: no such thread any more. */
pid_t tidmap_new_tid(pid_t old) {
  if (old <= 0) return 0;
  if (old == g_old_ckpt_tid) return g_ckpt_tid;
  for (int i = 0; i < g_old_nthreads; i++)
    if (g_old_tids[i] == old) return atomic_load(&g_threads[i].state) == T_FREE ? 0 : g_threads[i].tid;
  return 0;
}

/* ---- what is saved --------------------------------------------------------- */

struct saved_timer {
  int id;                /* the kernel's timer id: the program holds it (timer_t) */
  int clock;             /* clockid as the kernel has it */
  int signo;
  int notify;            /* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, | SIGEV_THREAD_ID */
  pid_t target;          /* SIGEV_THREAD_ID: the thread (old tid) */
  uint64_t value;        /* sigev_value */
  struct itimerspec spec;
};

static struct {
  int have;
  struct itimerval itimer[3];   /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
  int ntimers;
  struct saved_timer t[MAX_TIMERS];
} g_tm;

static char g_procbuf[256 * 1024];

/* Reads a whole (small) /proc file into g_procbuf, NUL-terminated. */
static long read_proc(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long n = 0;
  for (;;) {
    ssize_t r = read(fd, g_procbuf + n, sizeof g_procbuf - 1 - (size_t)n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += r;
    if ((size_t)n == sizeof g_procbuf - 1) break;
  }
  close(fd);
  g_procbuf[n] = '\0';
  return n;
}

static const char *skip_prefix(const char *s, const char *prefix) {
  size_t n = strlen(prefix);
  return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static long parse_dec(const char **p) {
  const char *s = *p;
  int neg = *s == '-';
  if (neg) s++;
  long v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  *p = s;
  return neg ? -v : v;
}

static uint64_t parse_hex(const char **p) {
  const char *s = *p;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
  uint64_t v = 0;
  for (;; s++) {
    int d;
    if (*s >= '0' && *s <= '9') d = *s - '0';
    else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
    else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
    else break;
    v = v << 4 | (uint64_t)d;
  }
  *p = s;
  return v;
}

/* /proc/self/timers, one block per timer (fs/proc/base.c, show_timer):
 *   ID: 3
 *   signal: 34/00000000000004d2         signo / sigev_value
 *   notify: signal/tid.1234             signal|none|thread / pid|tid . number
 *   ClockID: 1                                                              */
static void list_posix_timers(void) {
  g_tm.ntimers = 0;
  if (read_proc("/proc/self/timers") <= 0) return;
  struct saved_timer *cur = NULL;
  for (const char *line = g_procbuf; *line;) {
    const char *v;
    if ((v = skip_prefix(line, "ID: "))) {
      cur = NULL;
      if (g_tm.ntimers < MAX_TIMERS) {
        cur = &g_tm.t[g_tm.ntimers++];
        memset(cur, 0, sizeof *cur);
        cur->id = (int)parse_dec(&v);
      } else {
        rt_log("checkpoint: too many POSIX timers; those beyond 512 are not saved", NULL);
      }
    } else if (cur && (v = skip_prefix(line, "signal: "))) {
      cur->signo = (int)parse_dec(&v);
      if (*v == '/') v++;
      cur->value = parse_hex(&v);
    } else if (cur && (v = skip_prefix(line, "notify: "))) {
      if (skip_prefix(v, "none")) cur->notify = SIGEV_NONE;
      else if (skip_prefix(v, "thread")) cur->notify = SIGEV_THREAD;
      else cur->notify = SIGEV_SIGNAL;
      const char *who = strchr(v, '/');
      if (who && skip_prefix(who + 1, "tid.")) {
        cur->notify |= SIGEV_THREAD_ID;
        who += 5;
        cur->target = (pid_t)parse_dec(&who);
      }
    } else if (cur && (v = skip_prefix(line, "ClockID: "))) {
      cur->clock = (int)parse_dec(&v);
    }
    const char *nl = strchr(line, '\n');
    if (!nl) break;
    line = nl + 1;
  }
  /* Recreated in increasing id order (the fallback needs it; see below). */
  for (int i = 1; i < g_tm.ntimers; i++) {
    struct saved_timer x = g_tm.t[i];
    int j = i;
    for (; j > 0 && g_tm.t[j - 1].id > x.id; j--) g_tm.t[j] = g_tm.t[j - 1];
    g_tm.t[j] = x;
  }
}

/* Called by the checkpoint thread with every user thread parked. */
void timers_save(void) {
  tidmap_save();
  for (int w = 0; w < 3; w++)
    if (syscall(SYS_getitimer, w, &g_tm.itimer[w]) != 0) memset(&g_tm.itimer[w], 0, sizeof g_tm.itimer[w]);
  list_posix_timers();
  int kept = 0;
  for (int i = 0; i < g_tm.ntimers; i++) {
    struct saved_timer *t = &g_tm.t[i];
    /* A timer deleted since /proc listed it is not saved. */
    if (syscall(SYS_timer_gettime, t->id, &t->spec) != 0) continue;
    g_tm.t[kept++] = *t;
  }
  g_tm.ntimers = kept;
  g_tm.have = 1;
}

/* How many saved timers send signo to the thread that had old_tid; the first
 * one's id and sigev_value. For the pending-signal restore: a timer signal
 * comes back as one (si_code SI_TIMER, its id and value), as glibc's
 * SIGEV_THREAD helper needs. */
int timers_aimed_at(int signo, pid_t old_tid, int *id, uint64_t *value) {
  int n = 0;
  for (int i = 0; i < g_tm.ntimers; i++) {
    struct saved_timer *t = &g_tm.t[i];
    if (t->signo != signo || (t->notify & ~SIGEV_THREAD_ID) == SIGEV_NONE) continue;
    pid_t who = (t->notify & SIGEV_THREAD_ID) ? t->target : 0;
    if (who != old_tid) continue;
    if (n++ == 0) {
      *id = t->id;
      *value = t->value;
    }
  }
  return n;
}

/* CPU-time clocks name a process or thread (posix-cpu-timers.c: the id is
 * ~pid << 3, low bits: which clock, per-thread, and 7 for clock descriptors).
 * A thread's clock follows the thread to its new tid. Pid 0 means "the
 * caller": for a thread clock that was the thread that created the timer,
 * which /proc does not tell; the main thread stands in. */
static int clock_after_restart(int clock) {
  if (clock >= 0 || (clock & 7) == 7) return clock;
  unsigned u = (unsigned)clock;
  pid_t who = (pid_t)(~(u >> 3) & 0x1fffffffu);
  int perthread = (clock & 4) != 0;
  pid_t now;
  if (perthread) {
    now = who ? tidmap_new_tid(who) : 0;
    if (!now) {
      for (int i = 0; i < g_old_nthreads && !now; i++)
        if (g_threads[i].is_main && atomic_load(&g_threads[i].state) != T_FREE) now = g_threads[i].tid;
      if (who || !now) rt_log("restart: a thread CPU-time timer's thread is gone; it now counts the main thread's time", NULL);
    }
  } else {
    now = who == g_old_pid ? getpid() : who;
  }
  return (int)((~(unsigned)now) << 3) | (clock & 7);
}

static long create_timer(const struct saved_timer *t, int *id) {
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_value.sival_ptr = (void *)(uintptr_t)t->value;
  sev.sigev_signo = t->signo;
  sev.sigev_notify = t->notify;
  if (t->notify & SIGEV_THREAD_ID) {
    sev._sigev_un._tid = tidmap_new_tid(t->target);
    if (!sev._sigev_un._tid) {
      /* Its thread had already exited: its signals went nowhere, as now. */
      sev.sigev_notify = SIGEV_NONE;
    }
  }
  return syscall(SYS_timer_create, clock_after_restart(t->clock), &sev, id);
}

static void log_timer(const char *what, int id, int err) {
  char num[24], msg[96];
  rt_utoa(num, (unsigned long)id);
  size_t n = rt_strlcpy(msg, num, sizeof msg);
  n += rt_strlcpy(msg + n, ": ", sizeof msg - n);
  rt_strlcpy(msg + n, strerror(err), sizeof msg - n);
  rt_log(what, msg);
}

/* Without PR_TIMER_CREATE_RESTORE_IDS (before Linux 6.15): a fresh process
 * hands out timer ids in increasing order from 0, so create the timers in id
 * order; one that comes back with a lower id than wanted fills a gap and is
 * kept, unarmed, until the end, so that the next one moves on.
 * DMTCP_TIMER_IDS_LINEAR=1 chooses this way on newer kernels too (tests). */
static void create_linear(void) {
  static int gaps[4096];
  int ngaps = 0;
  long budget = 1L << 20;   /* creations in all: ids of a process that made millions of timers stay lost */
  for (int i = 0; i < g_tm.ntimers; i++) {
    struct saved_timer *t = &g_tm.t[i];
    int id = -1;
    while (budget-- > 0) {
      if (create_timer(t, &id) != 0) {
        log_timer("restart: cannot recreate POSIX timer ", t->id, errno);
        id = -1;
        break;
      }
      if (id >= t->id) break;
      if (ngaps < (int)(sizeof gaps / sizeof gaps[0])) gaps[ngaps++] = id;
      else syscall(SYS_timer_delete, id); /* a counter-based kernel does not reuse it */
      id = -1;
    }
    if (id != t->id) {
      log_timer("restart: cannot give a POSIX timer its id back: ", t->id, EBUSY);
      if (id >= 0) syscall(SYS_timer_delete, id);
      continue;
    }
    if (t->spec.it_value.tv_sec || t->spec.it_value.tv_nsec)
      syscall(SYS_timer_settime, id, 0, &t->spec, NULL);
  }
  for (int i = 0; i < ngaps; i++) syscall(SYS_timer_delete, gaps[i]);
}

/* In the restarted process, on the checkpoint thread, user threads still
 * parked (signals that fire now wait for them, as during a checkpoint). The
 * time left at the checkpoint starts counting again now: the time the process
 * was not running does not count (also for CLOCK_REALTIME timers set with
 * TIMER_ABSTIME, which /proc does not tell apart). */
void timers_restore(void) {
  if (!g_tm.have) return;
  const char *linear = getenv("DMTCP_TIMER_IDS_LINEAR");
  int by_id = !(linear && linear[0] == '1') &&
              prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) == 0;
  if (!by_id) {
    create_linear();
  } else {
    for (int i = 0; i < g_tm.ntimers; i++) {
      struct saved_timer *t = &g_tm.t[i];
      int id = t->id;
      if (create_timer(t, &id) != 0) {
        log_timer("restart: cannot recreate POSIX timer ", t->id, errno);
        continue;
      }
      if (t->spec.it_value.tv_sec || t->spec.it_value.tv_nsec)
        syscall(SYS_timer_settime, id, 0, &t->spec, NULL);
    }
    prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
  }
  for (int w = 0; w < 3; w++) {
    struct itimerval *v = &g_tm.itimer[w];
    /* Since Linux 6.13 a periodic ITIMER_REAL whose SIGALRM is still pending
     * reads as 0 left: the kernel re-arms it when that signal is delivered
     * (a disarmed ITIMER_REAL reads interval 0). The signal comes back as a
     * pending one; the timer goes on one period from now. A CPU-time itimer
     * keeps the interval it was given even when disarmed: put that back too. */
    if (w == ITIMER_REAL && !v->it_value.tv_sec && !v->it_value.tv_usec) v->it_value = v->it_interval;
    int armed = v->it_value.tv_sec || v->it_value.tv_usec || v->it_interval.tv_sec || v->it_interval.tv_usec;
    if (armed && syscall(SYS_setitimer, w, v, NULL) != 0)
      rt_log("restart: cannot re-arm an interval timer: ", strerror(errno));
  }
}

/* ---- glibc's SIGEV_THREAD helper thread -------------------------------------
 * glibc (2.34 and later, timer_routines.c) runs SIGEV_THREAD timers through a
 * helper thread that it starts with every signal blocked but SIGSETXID, by a
 * path our sigprocmask wrappers never see, and that sits in sigwaitinfo for
 * its timer signal. The checkpoint signal stays pending on it forever and the
 * checkpoint would fail. The callback threads it starts inherit that mask.
 *
 * SIGSETXID (glibc's internal signal for setuid() in threaded programs) is
 * the one signal that reaches such a thread. Before each suspend we
 * briefly take it over, queue it to every thread that blocks the checkpoint
 * signal but not SIGSETXID, and its handler takes the checkpoint signal out
 * of the mask the thread returns to (as the wrappers do for the program's own
 * masks). Our SIGSETXID carries SI_QUEUE and a token; any other goes on to
 * glibc's handler, which itself only acts on SI_TKILL from this process.
 * glibc blocks SIGSETXID too for a moment now and then (pthread_create, as the
 * helper starts a thread for each expiry): a thread passed over then, or
 * started since with the helper's mask, is nudged again while the suspend
 * waits for it (suspend.c). */
#define SIGSETXID_NR 33   /* __SIGRTMIN + 1 */

struct k_sigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static struct k_sigaction g_setxid_prev;
static _Atomic int g_unblocked;
static const char g_nudge_token = 'n';

/* Async-signal-safe. */
static void nudge_handler(int sig, siginfo_t *si, void *ucv) {
  if (si && si->si_code == SI_QUEUE && si->si_value.sival_ptr == (void *)&g_nudge_token) {
    ucontext_t *uc = ucv;
    sigdelset(&uc->uc_sigmask, g_settings.ckpt_signal);
    atomic_fetch_add(&g_unblocked, 1);
    futex_wake(&g_unblocked);
    return;
  }
  struct k_sigaction *p = &g_setxid_prev;
  if (p->handler == (void *)SIG_DFL || p->handler == (void *)SIG_IGN) return;
  if (p->flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))p->handler)(sig, si, ucv);
  else ((void (*)(int))p->handler)(sig);
}

struct nudge_scan { pid_t self; int sent; uint64_t bit_ckpt, bit_setxid; };

static int nudge_if_blocked(long tid, void *arg) {
  struct nudge_scan *s = arg;
  if ((pid_t)tid == s->self || (pid_t)tid == g_ckpt_tid) return 0;
  uint64_t blocked;
  if (thread_status_mask((pid_t)tid, "SigBlk:", &blocked) != 0) return 0;
  if (!(blocked & s->bit_ckpt) || (blocked & s->bit_setxid)) return 0;
  if (s->sent == 0) {
    /* Take SIGSETXID over (raw: glibc's sigaction refuses it). The kernel
     * needs a restorer; the checkpoint signal's handler, installed through
     * glibc, has glibc's. */
    struct k_sigaction ck, mine;
    syscall(SYS_rt_sigaction, SIGSETXID_NR, NULL, &g_setxid_prev, 8);
    syscall(SYS_rt_sigaction, g_settings.ckpt_signal, NULL, &ck, 8);
    memset(&mine, 0, sizeof mine);
    mine.handler = (void *)nudge_handler;
    mine.flags = SA_SIGINFO | SA_RESTART | SA_RESTORER;
    mine.restorer = ck.restorer;
    mine.mask = ~0ull;
    syscall(SYS_rt_sigaction, SIGSETXID_NR, &mine, NULL, 8);
  }
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGSETXID_NR;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_ptr = (void *)&g_nudge_token;
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)tid, SIGSETXID_NR, &si) == 0) s->sent++;
  return 0;
}

/* Called by the checkpoint thread: before it signals the user threads, for
 * every thread (tid 0), and for one that does not stop. */
void unblock_ckpt_signal_in_helper_threads(pid_t tid) {
  struct nudge_scan s = {rt_gettid(), 0, 1ull << (g_settings.ckpt_signal - 1), 1ull << (SIGSETXID_NR - 1)};
  atomic_store(&g_unblocked, 0);
  if (tid) nudge_if_blocked(tid, &s);
  else rt_each_numbered_entry("/proc/self/task", 0, nudge_if_blocked, &s);
  if (s.sent == 0) return;
  long deadline = rt_monotonic_ms() + 1000;
  int seen;
  while ((seen = atomic_load(&g_unblocked)) < s.sent && rt_monotonic_ms() < deadline) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    syscall(SYS_futex, (int *)&g_unblocked, 128 /* FUTEX_WAIT_PRIVATE */, seen, &ts, NULL, 0);
  }
  /* A nudge still in flight after this reaches glibc's handler, which ignores it. */
  syscall(SYS_rt_sigaction, SIGSETXID_NR, &g_setxid_prev, NULL, 8);
}
