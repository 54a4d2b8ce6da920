/* File mappings across a checkpoint (QUICK-START's heuristic):
 * - a file mapped MAP_SHARED read-only, 10,000 bytes long (not a whole number
 *   of pages): after a restart the mapping shows the file, and the file on
 *   disk is untouched (size and bytes);
 * - a file mapped MAP_SHARED read-write: a number written through the mapping
 *   is in the file (pread), before and after a restart (still one object);
 * - a file mapped MAP_PRIVATE read-write with a page changed in memory: the
 *   change stays in memory, the file keeps its bytes;
 * - POSIX shared memory (shm_open) mapped shared: a number written through the
 *   mapping is what a new shm_open of the same name reads. */
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"

#define RO_SIZE 10000
#define RW_SIZE (3 * 4096)

static uint32_t sum(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static int make(const char *name, size_t size, int seed) {
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
  unsigned char buf[4096];
  for (size_t off = 0; off < size; off += sizeof buf) {
    size_t n = size - off < sizeof buf ? size - off : sizeof buf;
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)((off + i) * 31 + (size_t)seed);
    if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) damaged("cannot write a file to map");
  }
  return fd;
}

static uint32_t file_sum(const char *name, size_t *size) {
  static unsigned char buf[RW_SIZE + RO_SIZE];
  int fd = open(name, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  if (fd >= 0) close(fd);
  *size = n > 0 ? (size_t)n : 0;
  return sum(buf, *size);
}

int main(void) {
  int ro = make("mapfiles-ro", RO_SIZE, 1), rw = make("mapfiles-rw", RW_SIZE, 2), pv = make("mapfiles-private", RW_SIZE, 3);
  size_t ro_size, pv_size;
  uint32_t ro_sum = file_sum("mapfiles-ro", &ro_size), pv_sum = file_sum("mapfiles-private", &pv_size);
  const unsigned char *rom = mmap(NULL, RO_SIZE, PROT_READ, MAP_SHARED, ro, 0);
  const unsigned char *rop = mmap(NULL, RO_SIZE, PROT_READ, MAP_PRIVATE, ro, 0); /* never written */
  volatile long *rwm = mmap(NULL, RW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
  unsigned char *pvm = mmap(NULL, RW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, pv, 0);
  if (rom == MAP_FAILED || rop == MAP_FAILED || rwm == MAP_FAILED || pvm == MAP_FAILED) damaged("cannot map the files");
  close(ro);
  memset(pvm + 4096, 0xAB, 4096); /* a page of its own */
  char shm_name[64];
  snprintf(shm_name, sizeof shm_name, "/dmtcp-corpus-mapfiles-%u", (unsigned)getuid());
  int shm = shm_open(shm_name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (shm < 0 || ftruncate(shm, 4096)) damaged("cannot make POSIX shared memory");
  volatile long *shmm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
  close(shm);
  if (shmm == MAP_FAILED) damaged("cannot map POSIX shared memory");
  for (long n = 0;; n++) {
    size_t size;
    if (file_sum("mapfiles-ro", &size) != ro_sum || size != RO_SIZE) damaged("the read-only mapped file changed on disk");
    if (sum(rom, RO_SIZE) != ro_sum) damaged("the read-only shared mapping does not show the file");
    if (sum(rop, RO_SIZE) != ro_sum) damaged("the read-only private mapping does not show the file");
    rwm[1] = n;
    long back;
    if (pread(rw, &back, sizeof back, sizeof(long)) != (ssize_t)sizeof back || back != n)
      damaged("the read-write shared mapping is no longer the file");
    if (file_sum("mapfiles-private", &size) != pv_sum || size != RW_SIZE) damaged("the privately mapped file changed on disk");
    if (pvm[4096] != 0xAB || pvm[8191] != 0xAB || pvm[0] != (unsigned char)3) damaged("the private mapping lost its own page");
    shmm[2] = n;
    int again = shm_open(shm_name, O_RDONLY, 0);
    long seen = -1;
    if (again < 0 || pread(again, &seen, sizeof seen, 2 * sizeof(long)) != (ssize_t)sizeof seen || seen != n)
      damaged("the POSIX shared memory mapping is no longer the object of its name");
    close(again);
    progress(n);
    tick(100);
  }
}
