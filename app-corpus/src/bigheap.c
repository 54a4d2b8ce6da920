/* Holds MIB of heap (argument, default 512) filled with a pattern that depends
 * on the position, and verifies it: a slice every tick, all of it every 20. */
#include <stdint.h>
#include <string.h>

#include "progress.h"

static uint64_t pattern(size_t i) { return (i * 0x9E3779B97F4A7C15ull) ^ (i >> 7); }

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
  size_t words = (mib << 20) / 8;
  uint64_t *heap = malloc(words * 8);
  if (!heap) damaged("cannot allocate the heap");
  for (size_t i = 0; i < words; i++) heap[i] = pattern(i);
  size_t slice = words / 64;
  for (long n = 0;; n++) {
    size_t from = (size_t)(n % 64) * slice, to = n % 20 == 0 ? words : from + slice;
    if (n % 20 == 0) from = 0;
    for (size_t i = from; i < to; i++)
      if (heap[i] != pattern(i)) damaged("heap word differs from its pattern");
    progress(n);
    tick(100);
  }
}
