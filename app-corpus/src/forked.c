/* A multithreaded parent forks a child without exec; both must be checkpointed
 * and come back. The parent (with a helper thread) reports PROGRESS; the child
 * keeps 4 MiB of its own data, rewritten from its counter every tick, checks it
 * and reports "CHILD n". Each finds damage to its own state and says ERROR. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define CHILD_WORDS (4u << 20) / sizeof(uint64_t)

static volatile long helper_ticks;

static void *helper(void *arg) {
  (void)arg;
  for (;;) {
    helper_ticks++;
    tick(10);
  }
  return NULL;
}

static void child_main(void) {
  uint64_t *data = malloc(CHILD_WORDS * sizeof *data);
  if (!data) damaged("child: out of memory");
  for (long n = 0;; n++) {
    for (size_t i = 0; i < CHILD_WORDS; i++) data[i] = (uint64_t)n * 2654435761u + i;
    tick(50);
    for (size_t i = 0; i < CHILD_WORDS; i++)
      if (data[i] != (uint64_t)n * 2654435761u + i) damaged("child: its data changed");
    if (getppid() == 1 && n == 0) damaged("child: orphaned at once");
    printf("CHILD %ld\n", n);
    fflush(stdout);
  }
}

int main(void) {
  pthread_t th;
  if (pthread_create(&th, NULL, helper, NULL) != 0) damaged("cannot start the helper thread");
  tick(30);
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) damaged("fork failed");
  if (child == 0) child_main();
  volatile long n = 0, shadow = ~0L;
  for (;;) {
    if (shadow != ~n) damaged("parent: counter and its shadow differ");
    progress(n);
    n++;
    shadow = ~n;
    tick(100);
  }
}
