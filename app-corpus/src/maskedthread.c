/* A thread that sets its signal mask as glibc's own threads do, with raw
 * system calls the runtime's wrappers never see: every 100 ms it blocks every
 * signal, SIGSETXID too, for 80 ms (as glibc's pthread_create does for a
 * moment, and its SIGEV_THREAD helper does each time it starts a thread), then
 * everything but SIGSETXID for 20 ms (as that helper waits). The checkpoint
 * signal can reach it only once the runtime has taken it out of its mask
 * through SIGSETXID, which it must do whenever the thread lets SIGSETXID in,
 * not only if it does when the checkpoint begins. Checked: the thread goes on
 * (its round count keeps growing) after every checkpoint and restart. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "progress.h"

#define SIGSETXID_NR 33 /* glibc's setuid() broadcast */

static atomic_long rounds;

static void set_mask(uint64_t mask) {
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, sizeof mask) != 0) damaged("rt_sigprocmask failed");
}

static void *masked(void *arg) {
  (void)arg;
  for (;;) {
    set_mask(~0ull);
    tick(80);
    set_mask(~0ull & ~(1ull << (SIGSETXID_NR - 1)));
    tick(20);
    atomic_fetch_add(&rounds, 1);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, masked, NULL) != 0) damaged("cannot start the masked thread");
  long seen = 0, still = 0;
  for (long n = 0;; n++) {
    long now = atomic_load(&rounds);
    /* about 10 rounds a second; a checkpoint or a restart may hold it up */
    still = now == seen ? still + 1 : 0;
    if (still * 100 > 3000) damaged("the masked thread stopped");
    seen = now;
    progress(n);
    tick(100);
  }
}
