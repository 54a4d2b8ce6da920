/* Wrappers that hide the checkpoint signal from the program: its handler for
 * that signal is recorded and reported back as its own, and masks that would
 * block it have it removed, so a program that installs its own handler or
 * blocks every signal can still be checkpointed. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

struct sigaction g_program_ckpt_action;
static int (*next_sigaction)(int, const struct sigaction *, struct sigaction *);
static int (*next_sigprocmask)(int, const sigset_t *, sigset_t *);
static int (*next_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static int (*next_sigsuspend)(const sigset_t *);
extern int g_runtime_active;
#define EXPORT __attribute__((visibility("default")))

static void resolve(void) {
  if (!next_sigaction) {
    next_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    next_sigprocmask = (int (*)(int, const sigset_t *, sigset_t *))dlsym(RTLD_NEXT, "sigprocmask");
    next_pthread_sigmask = (int (*)(int, const sigset_t *, sigset_t *))dlsym(RTLD_NEXT, "pthread_sigmask");
    next_sigsuspend = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
  }
}

int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  resolve();
  return next_sigaction(sig, act, old);
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  resolve();
  if (g_runtime_active && sig == g_settings.ckpt_signal) {
    if (old) *old = g_program_ckpt_action;
    if (act) g_program_ckpt_action = *act;
    return 0;
  }
  return next_sigaction(sig, act, old);
}

EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

static const sigset_t *without_ckpt_signal(int how, const sigset_t *set, sigset_t *copy) {
  if (!g_runtime_active || !set || how == SIG_UNBLOCK || !sigismember(set, g_settings.ckpt_signal))
    return set;
  *copy = *set;
  sigdelset(copy, g_settings.ckpt_signal);
  return copy;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  resolve();
  sigset_t copy;
  return next_sigprocmask(how, without_ckpt_signal(how, set, &copy), old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  resolve();
  sigset_t copy;
  return next_pthread_sigmask(how, without_ckpt_signal(how, set, &copy), old);
}

EXPORT int sigsuspend(const sigset_t *mask) {
  resolve();
  sigset_t copy;
  return next_sigsuspend(without_ckpt_signal(SIG_SETMASK, mask, &copy));
}

/* A program that signals itself with the checkpoint signal gets its handler
 * called directly, as the kernel would: a standard signal does not queue, so
 * one sent through the kernel while a checkpoint request is pending would
 * merge with it and never reach the program. */
static int deliver_to_program(int sig) {
  struct sigaction *pa = &g_program_ckpt_action;
  if (!(pa->sa_flags & SA_SIGINFO) && pa->sa_handler == SIG_IGN) return 0;
  if (!(pa->sa_flags & SA_SIGINFO) && pa->sa_handler == SIG_DFL) {
    /* default action: let the kernel do it with the default disposition */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction(sig, &dfl, NULL);
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, sig);
    next_pthread_sigmask(SIG_UNBLOCK, &one, &old);
    int rc = (int)syscall(SYS_tgkill, getpid(), rt_gettid(), sig);
    next_pthread_sigmask(SIG_SETMASK, &old, NULL);
    suspend_install_handler();
    return rc;
  }
  sigset_t block = pa->sa_mask, old;
  if (!(pa->sa_flags & SA_NODEFER)) sigaddset(&block, sig);
  next_pthread_sigmask(SIG_BLOCK, &block, &old);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_TKILL;
  si.si_pid = getpid();
  si.si_uid = getuid();
  struct sigaction now = *pa;
  if (pa->sa_flags & SA_RESETHAND) g_program_ckpt_action.sa_handler = SIG_DFL;
  if (now.sa_flags & SA_SIGINFO) now.sa_sigaction(sig, &si, NULL);
  else now.sa_handler(sig);
  next_pthread_sigmask(SIG_SETMASK, &old, NULL);
  return 0;
}

static int is_self_ckpt_signal(int sig) { return g_runtime_active && sig == g_settings.ckpt_signal; }

EXPORT int raise(int sig) {
  static int (*next_raise)(int);
  if (!next_raise) next_raise = (int (*)(int))dlsym(RTLD_NEXT, "raise");
  if (is_self_ckpt_signal(sig)) {
    resolve();
    return deliver_to_program(sig);
  }
  return next_raise(sig);
}

EXPORT int kill(pid_t pid, int sig) {
  if (is_self_ckpt_signal(sig) && pid == getpid()) {
    resolve();
    return deliver_to_program(sig);
  }
  return (int)syscall(SYS_kill, pid, sig);
}

EXPORT int pthread_kill(pthread_t thread, int sig) {
  static int (*next_pthread_kill)(pthread_t, int);
  if (!next_pthread_kill) next_pthread_kill = (int (*)(pthread_t, int))dlsym(RTLD_NEXT, "pthread_kill");
  if (is_self_ckpt_signal(sig) && pthread_equal(thread, pthread_self())) {
    resolve();
    deliver_to_program(sig);
    return 0;
  }
  return next_pthread_kill(thread, sig);
}
