/* Large reservations across a checkpoint: 64 GiB of MAP_NORESERVE memory of
 * which a few pages are used (the image must stay small: untouched pages are
 * not read), and a region grown and moved by mremap, with its contents. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "progress.h"

#define GIB (1ull << 30)

int main(void) {
  char *big = mmap(NULL, 64 * GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (big == MAP_FAILED) damaged("cannot reserve 64 GiB");
  for (uint64_t g = 0; g < 64; g++) memset(big + g * GIB, (int)(g + 1), 4096);
  size_t small = 16u << 20;
  uint64_t *grown = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (grown == MAP_FAILED) damaged("cannot map");
  for (size_t i = 0; i < small / 8; i++) grown[i] = i * 2654435761u;
  grown = mremap(grown, small, 2 * small, MREMAP_MAYMOVE);
  if (grown == MAP_FAILED) damaged("mremap failed");
  for (size_t i = small / 8; i < 2 * small / 8; i++) grown[i] = ~i;
  for (long n = 0;; n++) {
    for (uint64_t g = 0; g < 64; g++)
      if (big[g * GIB] != (char)(g + 1) || big[g * GIB + 4095] != (char)(g + 1) || big[g * GIB + 8192] != 0)
        damaged("the 64 GiB reservation lost its pages");
    for (size_t i = 0; i < small / 8; i += 997)
      if (grown[i] != i * 2654435761u) damaged("the mremap'ed region lost its old part");
    for (size_t i = small / 8; i < 2 * small / 8; i += 997)
      if (grown[i] != ~i) damaged("the mremap'ed region lost its new part");
    progress(n);
    tick(100);
  }
}
