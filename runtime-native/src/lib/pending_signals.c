/* Signals pending at a checkpoint (blocked, or not yet delivered because every
 * user thread is parked) are pending again after restart: process-wide ones
 * (ShdPnd of /proc/self/status) for the process, per-thread ones (SigPnd of
 * /proc/self/task/<tid>/status) for the same thread under its new tid.
 *
 * Saved as masks, read without taking anything off the queues, and raised
 * again after restart with kill()/tgkill(). Why not dequeue them with their
 * siginfo and queue them back: the checkpoint thread can dequeue only the
 * process-wide queue (a thread's own queue only that thread, and it is
 * parked), and the kernel lets it queue back only siginfos with a negative
 * si_code other than SI_TKILL (rt_sigqueueinfo is refused, EPERM, for
 * SI_USER, SI_TKILL and kernel codes unless a thread sends to itself). A
 * SIGCHLD or a kill() pending at the checkpoint would reach the process that
 * goes on with another si_pid. Reading masks leaves that process untouched.
 *
 * What is lost after restart: the siginfo (si_code becomes SI_USER or
 * SI_TKILL, si_pid the process itself), and a real-time signal queued several
 * times comes back once. Except for timer signals: a signal that exactly one
 * POSIX timer sends to that thread (or to the process) comes back as that
 * timer's, with SI_TIMER, its id and sigev_value, which is what glibc's
 * SIGEV_THREAD helper and handlers that read si_value need.
 *
 * Not raised again: the checkpoint signal, SIGKILL and SIGSTOP, and glibc's
 * SIGSETXID (a setuid() broadcast cannot be replayed). No malloc, no stdio. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

#define SIGTIMER_NR 32    /* glibc's SIGTIMER (__SIGRTMIN): its SIGEV_THREAD helper's signal */
#define SIGSETXID_NR 33   /* glibc's setuid() broadcast */

static struct {
  int have;
  uint64_t shared;
  int nthreads;
  pid_t old_tid[MAX_THREADS];
  uint64_t thread[MAX_THREADS];   /* by g_threads slot */
} g_pend;

static uint64_t bit(int sig) { return 1ull << (sig - 1); }

int thread_status_mask(pid_t tid, const char *key, uint64_t *mask) {
  char path[64] = "/proc/self/status";
  if (tid > 0) {
    size_t n = rt_strlcpy(path, "/proc/self/task/", sizeof path);
    n += rt_utoa(path + n, (unsigned long)tid);
    rt_strlcpy(path + n, "/status", sizeof path - n);
  }
  char buf[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = '\0';
  const char *p = strstr(buf, key);
  if (!p) return -1;
  p += strlen(key);
  while (*p == ' ' || *p == '\t') p++;
  uint64_t v = 0;
  for (;; p++) {
    int d;
    if (*p >= '0' && *p <= '9') d = *p - '0';
    else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
    else break;
    v = v << 4 | (uint64_t)d;
  }
  *mask = v;
  return 0;
}

/* Called by the checkpoint thread with every user thread parked. */
void pending_signals_save(void) {
  uint64_t never = bit(g_settings.ckpt_signal) | bit(SIGKILL) | bit(SIGSTOP) | bit(SIGSETXID_NR);
  memset(&g_pend, 0, sizeof g_pend);
  if (thread_status_mask(0, "ShdPnd:", &g_pend.shared) != 0) g_pend.shared = 0;
  g_pend.shared &= ~never;
  g_pend.nthreads = g_nthreads;
  for (int i = 0; i < g_nthreads; i++) {
    struct thread_slot *t = &g_threads[i];
    if (atomic_load(&t->state) != T_SUSPENDED) continue;
    uint64_t m;
    if (thread_status_mask(t->tid, "SigPnd:", &m) != 0) continue;
    g_pend.old_tid[i] = t->tid;
    g_pend.thread[i] = m & ~never;
  }
  g_pend.have = 1;
}

/* tid 0: the process. */
static void raise_again(int sig, pid_t old_tid, pid_t tid) {
  pid_t pid = getpid();
  int id;
  uint64_t value;
  int timers = timers_aimed_at(sig, old_tid, &id, &value);
  long rc;
  if (timers == 1) {
    /* Negative si_code: the kernel accepts it from this thread for any target. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_TIMER;
    si.si_timerid = id;
    si.si_overrun = 0;
    si.si_value.sival_ptr = (void *)(uintptr_t)value;
    rc = tid ? syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &si) : syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
  } else if (timers > 1 && sig == SIGTIMER_NR) {
    /* Several SIGEV_THREAD timers: which one fired during the checkpoint is
     * not known, and glibc's helper ignores a SIGTIMER that names none. */
    rt_log("restart: a SIGEV_THREAD timer expiry during the checkpoint is lost (several such timers)", NULL);
    return;
  } else {
    rc = tid ? syscall(SYS_tgkill, pid, tid, sig) : syscall(SYS_kill, pid, sig);
  }
  if (rc != 0) rt_log("restart: cannot raise a pending signal again: ", strerror(errno));
}

/* In the restarted process, on the checkpoint thread, after timers_restore();
 * user threads still parked with every signal blocked, so nothing is delivered
 * before they are released. */
void pending_signals_restore(void) {
  if (!g_pend.have) return;
  for (int i = 0; i < g_pend.nthreads; i++) {
    if (!g_pend.thread[i]) continue;
    pid_t tid = tidmap_new_tid(g_pend.old_tid[i]);
    if (!tid) continue;
    for (int sig = 1; sig <= 64; sig++)
      if (g_pend.thread[i] & bit(sig)) raise_again(sig, g_pend.old_tid[i], tid);
  }
  for (int sig = 1; sig <= 64; sig++)
    if (g_pend.shared & bit(sig)) raise_again(sig, 0, 0);
}
