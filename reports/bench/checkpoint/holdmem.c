/* Holds N MiB of data for the checkpoint benchmark, then ticks.
 * usage: holdmem MIB random|text
 *   random: incompressible (xorshift64 output)
 *   pattern: compressible, an initialised array of records (a 4 KiB block repeated)
 *   text:   compressible, like a numeric log: "<i> <i*7 mod 1000003>\n" lines
 * With a third argument "dump", writes the data to stdout and exits (for gzip).
 * Prints "READY <checksum>" once the data is in place, then "TICK n" every 50 ms,
 * and re-verifies the checksum when it receives SIGUSR1 (prints "VERIFY ok|BAD"). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t verify_requested;
static void on_usr1(int sig) { (void)sig; verify_requested = 1; }

static uint64_t checksum(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i += 64) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) { fprintf(stderr, "usage: holdmem MIB random|text|pattern [dump]\n"); return 2; }
  size_t n = (size_t)strtoul(argv[1], NULL, 10) << 20;
  unsigned char *p = malloc(n);
  if (!p) { perror("malloc"); return 1; }
  if (strcmp(argv[2], "random") == 0) {
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      memcpy(p + i, &x, 8);
    }
  } else if (strcmp(argv[2], "pattern") == 0) {
    /* an initialised array of records: a 4 KiB block of small structured values, repeated */
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)((i % 4096) * 37 / 4096 + 1);
  } else {
    size_t off = 0;
    for (unsigned long i = 0; off < n; i++) {
      char line[48];
      int len = snprintf(line, sizeof line, "%lu %lu\n", i, (i * 7) % 1000003);
      size_t take = (size_t)len < n - off ? (size_t)len : n - off;
      memcpy(p + off, line, take);
      off += take;
    }
  }
  if (argc == 4) { fwrite(p, 1, n, stdout); return 0; }
  uint64_t sum = checksum(p, n);
  signal(SIGUSR1, on_usr1);
  printf("READY %016llx\n", (unsigned long long)sum);
  fflush(stdout);
  for (unsigned long tick = 0;; tick++) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (verify_requested) {
      verify_requested = 0;
      printf("VERIFY %s\n", checksum(p, n) == sum ? "ok" : "BAD");
    }
    printf("TICK %lu\n", tick);
    fflush(stdout);
  }
}
