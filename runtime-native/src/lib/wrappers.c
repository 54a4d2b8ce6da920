/* Wrappers that hide the checkpoint signal from the program: its handler for
 * that signal is recorded and reported back as its own, and masks that would
 * block it have it removed, so a program that installs its own handler or
 * blocks every signal can still be checkpointed. */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

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
