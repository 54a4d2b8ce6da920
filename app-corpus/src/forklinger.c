/* Keeps 64 MiB of random bytes, so that each image takes a while to reach the
 * disk once the program runs again, and ticks every 5 ms. When a tick comes
 * late (a checkpoint stopped the process), it forks three children at once:
 * they are born while the checkpoint thread may still be busy with the
 * checkpoint that just ended. The children free the heap and live until they
 * are killed; later checkpoints must take them in. Reports PROGRESS per tick. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
  size_t words = (64u << 20) / sizeof(uint64_t);
  uint64_t *heap = malloc(words * sizeof *heap), x = 88172645463325252ull;
  if (!heap) damaged("no memory");
  for (size_t i = 0; i < words; i++) { /* xorshift: incompressible */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    heap[i] = x;
  }
  long last = now_ms();
  for (long n = 0;; n++) {
    long t = now_ms();
    for (int k = 0; t - last > 100 && k < 3; k++) {
      pid_t child = fork();
      if (child < 0) damaged("fork failed");
      if (child == 0) {
        free(heap);
        for (;;) tick(1000);
      }
    }
    last = t;
    progress(n);
    tick(5);
  }
}
