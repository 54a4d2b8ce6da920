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

/* Per-thread kernel state that a new kernel thread lacks after restart.
 * Runs in the signal handler: async-signal-safe. */
static void thread_restarted(struct thread_slot *t) {
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

/* Signals every user thread until the set of threads is stable and all of
 * them are parked. A thread that does not stop within 10 s (it blocks the
 * checkpoint signal behind our back) fails the checkpoint instead of hanging
 * it: returns -1 with its tid in g_unstoppable_tid; the parked ones stay parked
 * until release_threads(). Called by the checkpoint thread only. */
int suspend_all_threads(void) {
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
    for (int i = 0; i < g_nthreads; i++) {
      struct thread_slot *t = &g_threads[i];
      while (atomic_load(&t->state) == T_SIGNALED) {
        if (!alive(t->tid)) {
          atomic_store(&t->state, T_FREE);
          t->tid = -1;
          break;
        }
        if (rt_monotonic_ms() > deadline) {
          g_unstoppable_tid = t->tid;
          atomic_store(&t->state, T_FREE); /* if it parks later, it waits for the release */
          return -1;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        syscall(SYS_futex, (int *)&t->state, 128 /* FUTEX_WAIT_PRIVATE */, T_SIGNALED, &ts,
                NULL, 0);
      }
    }
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

/* After restart, in the new main kernel thread on the restorer's stack:
 * recreate every thread of the image and resume the main thread. */
void restore_user_threads(struct dmtcp_restore_info *info, const struct ctx *ckpt_ctx) {
  (void)info;
  const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                              CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                              CLONE_CHILD_CLEARTID;
  struct thread_slot *main_thread = NULL;
  for (int i = 0; i < g_nthreads; i++) {
    struct thread_slot *t = &g_threads[i];
    if (atomic_load(&t->state) != T_SUSPENDED) continue;
    if (t->is_main) {
      main_thread = t;
      continue;
    }
    int *tidp = (int *)(t->fs_base + g_pthread_tid_offset);
    long tid = clone_resume(flags, (void *)(t->ctx.regs[6] - 4096), tidp, tidp, t->fs_base,
                            &t->ctx);
    if (tid > 0) t->tid = (pid_t)tid;
  }
  int *ckpt_tidp = (int *)(g_ckpt_fs_base + g_pthread_tid_offset);
  long ct = clone_resume(flags, (void *)(ckpt_ctx->regs[6] - 4096), ckpt_tidp, ckpt_tidp,
                         g_ckpt_fs_base, ckpt_ctx);
  if (ct > 0) g_ckpt_tid = (pid_t)ct;
  if (!main_thread) {
    rt_log("restart: the image has no main thread", NULL);
    syscall(SYS_exit_group, g_settings.fail_rc);
  }
  int *main_tidp = (int *)(main_thread->fs_base + g_pthread_tid_offset);
  *main_tidp = rt_gettid();
  main_thread->tid = *main_tidp;
  syscall(SYS_set_tid_address, main_tidp);
  ctx_restore(&main_thread->ctx, 1);
}
