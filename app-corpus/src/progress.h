/* Shared by the corpus programs: they report "PROGRESS n" (n counts up by one
 * from 0, and after a restart goes on from the value at the checkpoint) and
 * "ERROR what" when they find their own state damaged, then exit 1. */
#ifndef CORPUS_PROGRESS_H
#define CORPUS_PROGRESS_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline void progress(long n) {
  printf("PROGRESS %ld\n", n);
  fflush(stdout);
}

static inline void damaged(const char *what) {
  printf("ERROR %s\n", what);
  fflush(stdout);
  exit(1);
}

static inline void tick(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}
#endif
