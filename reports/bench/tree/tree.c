/* A tree of N processes (default 32), each holding M MiB (default 16) of its
 * own data (half random, half a repeated pattern), for the process-tree
 * benchmark. The root forks N-1 children, prints READY and ticks. On SIGUSR1
 * (sent to the whole group) every process checks its data; the children
 * report to the root through a shared pipe, one byte each, and the root
 * prints VERIFY ok|BAD. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify;
static void on_usr1(int sig) { (void)sig; verify = 1; }

static uint64_t fill(unsigned char *p, size_t n, uint64_t seed) {
  uint64_t x = seed * 2654435761u + 88172645463325252ull, sum = 0;
  for (size_t i = 0; i + 8 <= n / 2; i += 8) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    memcpy(p + i, &x, 8);
    sum += x;
  }
  for (size_t i = n / 2; i < n; i++) p[i] = (unsigned char)(i % 251);
  return sum;
}

static uint64_t sum_of(const unsigned char *p, size_t n) {
  uint64_t sum = 0, x;
  for (size_t i = 0; i + 8 <= n / 2; i += 8) {
    memcpy(&x, p + i, 8);
    sum += x;
  }
  for (size_t i = n / 2; i < n; i++)
    if (p[i] != (unsigned char)(i % 251)) return 0;
  return sum;
}

int main(int argc, char **argv) {
  int nproc = argc > 1 ? atoi(argv[1]) : 32;
  size_t bytes = (size_t)(argc > 2 ? atoi(argv[2]) : 16) << 20;
  int report[2];
  if (pipe(report) != 0) return 1;
  int index = 0;
  for (int i = 1; i < nproc; i++) {
    if (fork() == 0) {
      index = i;
      break;
    }
  }
  signal(SIGUSR1, on_usr1);
  unsigned char *p = malloc(bytes);
  if (!p) return 1;
  uint64_t sum = fill(p, bytes, (uint64_t)index + 1);
  if (index == 0) {
    printf("READY %d processes\n", nproc);
    fflush(stdout);
  }
  for (;;) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (!verify) continue;
    verify = 0;
    char ok = sum_of(p, bytes) == sum ? 'y' : 'n';
    if (index != 0) {
      if (write(report[1], &ok, 1) != 1) return 1;
      continue;
    }
    int good = ok == 'y';
    for (int i = 1; i < nproc; i++) {
      char c;
      if (read(report[0], &c, 1) != 1) return 1;
      good &= c == 'y';
    }
    printf("VERIFY %s\n", good ? "ok" : "BAD");
    fflush(stdout);
  }
}
