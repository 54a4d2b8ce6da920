/* A hostile program: one thread blocks every signal with a raw system call,
 * behind the runtime's wrappers, so it can never be stopped for a checkpoint.
 * The checkpoint must fail cleanly and the program must go on. */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "progress.h"

static void *blocker(void *arg) {
  (void)arg;
  unsigned long all = ~0UL;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof all);
  for (;;) tick(50);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, blocker, NULL);
  for (long n = 0;; n++) {
    progress(n);
    tick(100);
  }
}
