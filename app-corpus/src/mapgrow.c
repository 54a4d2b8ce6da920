/* Memory mapped while the program runs, also after a restart: every tick it
 * maps a new block (of a varying size), fills it with a pattern of its own,
 * and checks every block it holds; past 48 blocks it unmaps the oldest. After
 * a restart the new mappings land where the address space is free, which is
 * where the checkpoint's own buffers were: the next checkpoint must still
 * store them. A block that is gone or wrong is reported. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "progress.h"

#define MAX_BLOCKS 48

struct block {
  uint64_t *p;
  size_t words;
  uint64_t seed;
};

static uint64_t word(uint64_t seed, size_t i) { return (seed + i) * 0x9E3779B97F4A7C15ull; }

int main(void) {
  static struct block blocks[MAX_BLOCKS];
  for (long n = 0;; n++) {
    struct block *b = &blocks[n % MAX_BLOCKS];
    if (b->p) munmap(b->p, b->words * 8);
    b->words = (size_t)(1 + n % 7) * (256 * 1024) / 8; /* 256 KiB to 1.75 MiB */
    b->seed = (uint64_t)n;
    b->p = mmap(NULL, b->words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->p == MAP_FAILED) damaged("mmap failed");
    for (size_t i = 0; i < b->words; i++) b->p[i] = word(b->seed, i);
    for (int k = 0; k < MAX_BLOCKS; k++) {
      const struct block *c = &blocks[k];
      if (!c->p) continue;
      for (size_t i = 0; i < c->words; i += 511)
        if (c->p[i] != word(c->seed, i)) damaged("a mapped block lost its contents");
    }
    progress(n);
    tick(50);
  }
}
