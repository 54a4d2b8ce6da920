/* Writing a saved file's contents (a DMTCP_REGION_FD_DATA region) into the
 * file recreated for it: chunk by chunk, each checked as it is decoded; pages
 * that were zero are left as holes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restart/fds/fdrestore.h"

#define PAGE 4096u

int fdr_write_contents(const struct image *img, uint32_t data_region, int fd, uint64_t size, char *err, size_t errlen) {
  if (ftruncate(fd, (off_t)size) != 0) {
    snprintf(err, errlen, "cannot size the file: %s", strerror(errno));
    return -1;
  }
  if (!data_region) return 0;
  uint32_t k = data_region - 1;
  const struct dmtcp_region *r = &img->regions[k];
  struct chunk_ref *refs = NULL;
  long n = image_chunks(img, &refs, err, errlen);
  if (n < 0) return -1;
  size_t chunk = (size_t)DMTCP_CHUNK_PAGES * PAGE;
  char *buf = mmap(NULL, 2 * chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) {
    free(refs);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = 0;
  for (long c = 0; c < n && rc == 0; c++) {
    if (refs[c].region != k) continue;
    const struct dmtcp_chunk_header *ch = refs[c].hdr;
    memset(buf, 0, (size_t)ch->npages * PAGE);
    if (chunk_decode(&refs[c], buf, buf + chunk, err, errlen) != 0) {
      rc = -1;
      break;
    }
    uint64_t base = refs[c].addr - r->start;
    for (uint32_t p = 0; p < ch->npages && rc == 0; p++) {
      if ((ch->zero_bitmap[p / 64] >> (p % 64)) & 1) continue;
      uint64_t off = base + (uint64_t)p * PAGE;
      if (off >= size) break;
      size_t len = size - off < PAGE ? (size_t)(size - off) : PAGE;
      if (pwrite(fd, buf + (size_t)p * PAGE, len, (off_t)off) != (ssize_t)len) {
        snprintf(err, errlen, "cannot write the saved contents: %s", strerror(errno));
        rc = -1;
      }
    }
  }
  munmap(buf, 2 * chunk);
  free(refs);
  return rc;
}
