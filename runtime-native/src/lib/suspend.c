/* Stopping every user thread at a safe point for a checkpoint, releasing them,
 * and bringing them back as new kernel threads after a restart.
 *
 * The checkpoint thread sends the checkpoint signal to each user thread with
 * tgkill. The handler saves a resume context and parks the thread on a futex;
 * the kernel has already saved all registers (FPU/SSE/AVX included) and the
 * signal mask in the signal frame on the thread's own stack, which is part of
 * the image, so rt_sigreturn restores them after a restart as after a
 * checkpoint. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

struct thread_slot g_threads[MAX_THREADS];
int g_nthreads;
_Atomic int g_release;
size_t g_pthread_tid_offset;

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static struct thread_slot *slot_of(pid_t tid) {
  for (int i = 0; i < g_nthreads; i++)
    if (g_threads[i].tid == tid) return &g_threads[i];
  return NULL;
}

int g_drop_caps;

/* In a user namespace of dmtcp_restart's, the restored threads start with
 * every capability of that namespace: the program, which never exec'd,
 * would keep them. Capabilities belong to each thread, so each thread drops
 * its own, once the last step that needs them (creating the threads with
 * their tids) is behind it: permitted, effective and inheritable sets
 * emptied, the ambient set cleared. Async-signal-safe (two system calls). */
void drop_capabilities(void) {
  if (!g_drop_caps) return;
  struct { uint32_t version; int pid; } hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  struct { uint32_t effective, permitted, inheritable; } none[2] = {{0, 0, 0}, {0, 0, 0}};
  if (syscall(SYS_capset, &hdr, none) != 0) rt_log("restart: cannot drop the user namespace's capabilities", NULL);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/* Per-thread kernel state that a new kernel thread lacks after restart.
 * Runs in the signal handler, in every user thread and the main thread
 * (which gets here after it has created the others): async-signal-safe. */
static void thread_restarted(struct thread_slot *t) {
  drop_capabilities();
  if (t->robust_head) syscall(SYS_set_robust_list, t->robust_head, t->robust_len);
  if (&__rseq_size && &__rseq_offset && __rseq_size > 0) { /* 32: the original ABI size glibc registers */
    syscall(SYS_rseq, (void *)(t->fs_base + (uint64_t)__rseq_offset), 32, 0, 0x53053053);
  }
  if (t->comm[0]) prctl(PR_SET_NAME, (unsigned long)t->comm, 0, 0, 0);
  if (!(t->altstack.ss_flags & SS_DISABLE)) {
    stack_t ss = {.ss_sp = t->altstack.ss_sp, .ss_size = t->altstack.ss_size, .ss_flags = 0};
    sigaltstack(&ss, NULL);
  }
}

/* The checkpoint signal handler. Async-signal-safe. A checkpoint signal that
 * is not ours (the program raised the signal itself) goes to the handler the
 * program installed for it. */
static void ckpt_signal_handler(int sig, siginfo_t *si, void *uc) {
  int saved_errno = errno;
  struct thread_slot *t = slot_of(rt_gettid());
  if (!t || atomic_load(&t->state) != T_SIGNALED) {
    struct sigaction *pa = &g_program_ckpt_action;
    if (pa->sa_flags & SA_SIGINFO) {
      if (pa->sa_sigaction) pa->sa_sigaction(sig, si, uc);
    } else if (pa->sa_handler != SIG_DFL && pa->sa_handler != SIG_IGN) {
      pa->sa_handler(sig);
    }
    errno = saved_errno;
    return;
  }
  if (atomic_load(&g_said_bye)) {
    /* The process is in exit() and has left the computation (BYE): not
     * stopped, so that it ends at once and its parent finds it ended. */
    atomic_store(&t->state, T_FREE);
    futex_wake(&t->state);
    errno = saved_errno;
    return;
  }
  t->fs_base = rt_get_fs();
  syscall(SYS_get_robust_list, 0, &t->robust_head, &t->robust_len);
  sigaltstack(NULL, &t->altstack);
  prctl(PR_GET_NAME, (unsigned long)t->comm, 0, 0, 0);
  int seen = atomic_load(&g_release);
  if (ctx_save(&t->ctx) == 0) {
    atomic_store(&t->state, T_SUSPENDED);
  } else {
    thread_restarted(t);
    atomic_store(&t->state, T_RESTORED);
  }
  futex_wake(&t->state);
  while (atomic_load(&g_release) == seen) futex_wait(&g_release, seen);
  errno = saved_errno;
}

void suspend_install_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = ckpt_signal_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  real_sigaction(g_settings.ckpt_signal, &sa, NULL);
}

/* Lists the kernel threads of this process. No malloc. */
struct task_list { pid_t *tids; int n, cap; };

static int add_task(long tid, void *arg) {
  struct task_list *l = arg;
  if (l->n < l->cap) l->tids[l->n++] = (pid_t)tid;
  return 0;
}

static int list_tasks(pid_t *tids, int cap) {
  struct task_list l = {tids, 0, cap};
  return rt_each_numbered_entry("/proc/self/task", 0, add_task, &l) < 0 ? -1 : l.n;
}

static int alive(pid_t tid) {
  return syscall(SYS_tgkill, getpid(), tid, 0) == 0 || errno != ESRCH;
}

pid_t g_unstoppable_tid;

/* Waits until signaled thread t is parked or gone. A thread that blocks the
 * checkpoint signal behind our back is nudged (timers.c) every 20 ms; one that
 * is still not parked at the deadline: -1, its tid in g_unstoppable_tid. */
static int await_parked(struct thread_slot *t, long deadline) {
  long nudge_at = rt_monotonic_ms() + 20;
  while (atomic_load(&t->state) == T_SIGNALED) {
    if (!alive(t->tid)) {
      atomic_store(&t->state, T_FREE);
      t->tid = -1;
      return 0;
    }
    long now = rt_monotonic_ms();
    if (now > deadline) {
      g_unstoppable_tid = t->tid;
      atomic_store(&t->state, T_FREE); /* if it parks later, it waits for the release */
      return -1;
    }
    if (now >= nudge_at) {
      unblock_ckpt_signal_in_helper_threads(t->tid);
      nudge_at = rt_monotonic_ms() + 20;
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    syscall(SYS_futex, (int *)&t->state, 128 /* FUTEX_WAIT_PRIVATE */, T_SIGNALED, &ts, NULL, 0);
  }
  return 0;
}

/* Signals every user thread until the set of threads is stable and all of
 * them are parked. A thread that does not stop within 10 s (it blocks the
 * checkpoint signal, and SIGSETXID, behind our back) fails the checkpoint
 * instead of hanging it: returns -1 with its tid in g_unstoppable_tid; the
 * parked ones stay parked until release_threads(). Called by the checkpoint
 * thread only. */
int suspend_all_threads(void) {
  unblock_ckpt_signal_in_helper_threads(0);  /* glibc's SIGEV_THREAD helper (timers.c) */
  long deadline = rt_monotonic_ms() + 10000;
  g_unstoppable_tid = 0;
  static pid_t tids[MAX_THREADS];
  pid_t pid = getpid(), self = rt_gettid();
  memset(g_threads, 0, sizeof g_threads);
  g_nthreads = 0;
  for (int pass = 0; pass < 1000; pass++) {
    int n = list_tasks(tids, MAX_THREADS), added = 0;
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
      if (tids[i] == self || slot_of(tids[i])) continue;
      if (g_nthreads == MAX_THREADS) return -1;
      struct thread_slot *t = &g_threads[g_nthreads++];
      t->tid = tids[i];
      t->is_main = tids[i] == pid;
      atomic_store(&t->state, T_SIGNALED);
      if (syscall(SYS_tgkill, pid, t->tid, g_settings.ckpt_signal) != 0) {
        atomic_store(&t->state, T_FREE); /* it exited meanwhile */
        t->tid = -1;
      }
      added = 1;
    }
    for (int i = 0; i < g_nthreads; i++)
      if (await_parked(&g_threads[i], deadline) != 0) return -1;
    /* Slots of threads that exited before they were parked stay T_FREE in
     * place: parked threads hold pointers to their own slots. */
    if (!added) return 0;
  }
  return -1;
}

void release_threads(void) {
  atomic_fetch_add(&g_release, 1);
  futex_wake(&g_release);
}

/* Why clone3 refused a tid (-errno), in words. Async-signal-safe. */
static const char *refusal(long err) {
  switch (-err) {
    case EEXIST: return "another task of the namespace has it";
    case EPERM: return "not permitted to choose it (CAP_CHECKPOINT_RESTORE)";
    case EINVAL: return "the kernel refuses it (beyond pid_max?)";
    case ENOSYS: return "no clone3 in this kernel";
    default: return "refused";
  }
}

/* One line: which tid, why, and the one the thread has now. Async-signal-safe. */
static void log_new_tid(const char *what, pid_t want, long err, long got, int quiet) {
  if (quiet) return;
  char msg[256];
  size_t n = rt_strlcpy(msg, what, sizeof msg);
  n += rt_utoa(msg + n, (unsigned long)want);
  n += rt_strlcpy(msg + n, " back (", sizeof msg - n);
  n += rt_strlcpy(msg + n, refusal(err), sizeof msg - n);
  n += rt_strlcpy(msg + n, "); it is now ", sizeof msg - n);
  rt_utoa(msg + n, (unsigned long)got);
  rt_log(msg, NULL);
}

/* Creates a kernel thread of this process that resumes c, with tid `want`
 * when want > 0 (clone3 set_tid; the pid namespace dmtcp_restart made lets
 * us pick it) and otherwise, or if the kernel refuses that tid (EEXIST,
 * EPERM outside our own namespace, EINVAL or ENOSYS on old kernels), with
 * the tid the kernel gives. Either way glibc's copy of the tid in the
 * thread's descriptor (tidp) gets the real one (CLONE_PARENT_SETTID) and is
 * cleared when the thread exits, as pthread_join expects
 * (CLONE_CHILD_CLEARTID). The new thread is given a stack 4 KiB below where
 * it resumes but never uses it (clone3_resume). Returns the tid or -errno;
 * *refused gets -errno of a refused `want` (0 if none). Runs on the
 * restorer's stack with every signal blocked: async-signal-safe. */
static long resume_thread(pid_t want, uint64_t fs_base, const struct ctx *c, long *refused) {
  const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                              CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                              CLONE_CHILD_CLEARTID;
  int *tidp = (int *)(fs_base + g_pthread_tid_offset);
  pid_t set_tid[1] = {want};
  struct clone_args ca = {
      .flags = flags,
      .child_tid = (uint64_t)(uintptr_t)tidp,
      .parent_tid = (uint64_t)(uintptr_t)tidp,
      .stack = c->regs[6] - 8192,
      .stack_size = 4096,
      .tls = fs_base,
  };
  long tid = -EINVAL;
  *refused = 0;
  if (want > 0) {
    ca.set_tid = (uint64_t)(uintptr_t)set_tid;
    ca.set_tid_size = 1;
    tid = clone3_resume(&ca, sizeof ca, c);
    if (tid > 0) return tid;
    *refused = tid;
    ca.set_tid = 0;
    ca.set_tid_size = 0;
  }
  tid = clone3_resume(&ca, sizeof ca, c);
  if (tid == -ENOSYS) /* before Linux 5.3 */
    tid = clone_resume(flags, (void *)(c->regs[6] - 4096), tidp, tidp, fs_base, c);
  return tid;
}

/* After restart, in the new main kernel thread on the restorer's stack:
 * recreate every thread of the image and resume the main thread. Where the
 * main thread has its original pid back (dmtcp_restart's pid namespace),
 * every other thread, the checkpoint thread included, gets its original tid
 * back too, so gettid(), tgkill(), pthread_kill() and /proc/self/task/<tid>
 * speak in the tids the program saw. Async-signal-safe (no locks, no
 * malloc: other processes' threads may be anywhere). */
void restore_user_threads(struct dmtcp_restore_info *info, const struct ctx *ckpt_ctx) {
  int quiet = (info->flags & DMTCP_RI_QUIET) != 0;
  g_drop_caps = (info->flags & DMTCP_RI_USERNS) != 0;
  struct thread_slot *main_thread = NULL;
  for (int i = 0; i < g_nthreads; i++)
    if (g_threads[i].is_main && atomic_load(&g_threads[i].state) == T_SUSPENDED) main_thread = &g_threads[i];
  if (!main_thread) {
    rt_log("restart: the image has no main thread", NULL);
    syscall(SYS_exit_group, g_settings.fail_rc);
  }
  /* Only in the original pid's namespace: elsewhere the old tids may belong to
   * other processes, or to this computation still running. */
  int same_ids = syscall(SYS_getpid) == main_thread->tid;
  for (int i = 0; i < g_nthreads; i++) {
    struct thread_slot *t = &g_threads[i];
    if (atomic_load(&t->state) != T_SUSPENDED || t == main_thread) continue;
    long refused;
    long tid = resume_thread(same_ids ? t->tid : 0, t->fs_base, &t->ctx, &refused);
    if (tid <= 0) {
      rt_log("restart: cannot recreate a thread", NULL);
      syscall(SYS_exit_group, g_settings.fail_rc);
    }
    if (same_ids && tid != t->tid) log_new_tid("restart: cannot give a thread its tid ", t->tid, refused, tid, quiet);
    t->tid = (pid_t)tid;
  }
  /* The checkpoint thread runs at once and sets g_ckpt_tid to its new tid
   * itself (restore_process_after_restart): the one it had is read first. */
  pid_t ckpt_tid = g_ckpt_tid;
  long refused;
  long ct = resume_thread(same_ids ? ckpt_tid : 0, g_ckpt_fs_base, ckpt_ctx, &refused);
  if (ct <= 0) {
    rt_log("restart: cannot recreate the checkpoint thread", NULL);
    syscall(SYS_exit_group, g_settings.fail_rc);
  }
  if (same_ids && ct != ckpt_tid)
    log_new_tid("restart: cannot give the checkpoint thread its tid ", ckpt_tid, refused, ct, quiet);
  int *main_tidp = (int *)(main_thread->fs_base + g_pthread_tid_offset);
  *main_tidp = rt_gettid();
  main_thread->tid = *main_tidp;
  syscall(SYS_set_tid_address, main_tidp);
  ctx_restore(&main_thread->ctx, 1);
}
