/* An exec storm: the process execs itself COUNT times, then exits 0. Each new
 * program image prints "PROGRESS n" (the execs so far) and spins for about a
 * millisecond, so that checkpoints also find it running its own code.
 * usage: execstorm COUNT */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static void spin_ms(long ms) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do clock_gettime(CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: execstorm COUNT\n");
    return 2;
  }
  long count = atol(argv[1]), n = argc == 3 ? atol(argv[2]) : 0;
  progress(n);
  if (n >= count) {
    printf("DONE %ld execs\n", n);
    return 0;
  }
  spin_ms(1);
  char next[24];
  snprintf(next, sizeof next, "%ld", n + 1);
  execl("/proc/self/exe", argv[0], argv[1], next, (char *)NULL);
  damaged("exec failed");
}
