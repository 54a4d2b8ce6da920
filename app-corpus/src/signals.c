/* A program with its own signal handlers (for SIGUSR2 too, the checkpoint
 * signal) and blocked signals: it checks that its handlers and mask stay as it
 * set them and that it still receives its own signals. */
#include <signal.h>
#include <string.h>

#include "progress.h"

static volatile sig_atomic_t got_usr1, got_usr2, got_winch, winch_on_altstack;
static char altstack[65536];
static void on_winch(int s) {
  (void)s;
  char here;
  got_winch++;
  winch_on_altstack = &here >= altstack && &here < altstack + sizeof altstack;
}
static void on_usr1(int s) { (void)s; got_usr1++; }
static void on_usr2(int s) { (void)s; got_usr2++; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);
  /* SIGWINCH runs on an alternate stack */
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL)) damaged("sigaltstack failed");
  sa.sa_handler = on_winch;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGWINCH, &sa, NULL);
  sa.sa_flags = 0;
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, NULL);
  for (long n = 0;; n++) {
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    if (now.sa_handler != on_usr1) damaged("the SIGUSR1 handler changed");
    sigaction(SIGUSR2, NULL, &now);
    if (now.sa_handler != on_usr2) damaged("the SIGUSR2 handler changed");
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    if (!sigismember(&mask, SIGTERM) || !sigismember(&mask, SIGHUP)) damaged("the signal mask changed");
    sig_atomic_t before1 = got_usr1, before2 = got_usr2;
    raise(SIGUSR1);
    raise(SIGUSR2);
    if (got_usr1 != before1 + 1) damaged("SIGUSR1 was not delivered to its handler");
    if (got_usr2 != before2 + 1) damaged("SIGUSR2 was not delivered to its handler");
    stack_t now_ss;
    if (sigaltstack(NULL, &now_ss) || now_ss.ss_sp != altstack || now_ss.ss_size != sizeof altstack ||
        (now_ss.ss_flags & SS_DISABLE))
      damaged("the alternate signal stack is gone");
    sig_atomic_t before_w = got_winch;
    raise(SIGWINCH);
    if (got_winch != before_w + 1 || !winch_on_altstack) damaged("SIGWINCH did not run on the alternate stack");
    progress(n);
    tick(100);
  }
}
