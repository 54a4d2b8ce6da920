/* Small async-signal-safe helpers: no malloc, no stdio, no locks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

void rt_log(const char *msg1, const char *msg2) {
  if (g_settings.quiet > 1) return;
  char buf[1024];
  size_t n = rt_strlcpy(buf, "[dmtcp] ", sizeof buf);
  n += rt_strlcpy(buf + n, msg1, sizeof buf - n);
  if (msg2 && n < sizeof buf) n += rt_strlcpy(buf + n, msg2, sizeof buf - n);
  if (n >= sizeof buf - 1) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(2, buf, n);
  (void)w;
}

/* Copies at most n-1 bytes; returns the number copied (not strlen(src)). */
size_t rt_strlcpy(char *dst, const char *src, size_t n) {
  size_t i = 0;
  if (!n) return 0;
  for (; src[i] && i + 1 < n; i++) dst[i] = src[i];
  dst[i] = '\0';
  return i;
}

pid_t rt_gettid(void) { return (pid_t)syscall(SYS_gettid); }

void futex_wait(_Atomic int *addr, int val) {
  int saved = errno;
  syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
  errno = saved;
}

void futex_wake(_Atomic int *addr) {
  int saved = errno;
  syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
  errno = saved;
}

void *rt_mmap(size_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void rt_munmap(void *p, size_t len) {
  if (p) munmap(p, len);
}

uint64_t rt_get_fs(void) {
  uint64_t fs;
  __asm__ volatile("movq %%fs:0, %0" : "=r"(fs)); /* glibc's TCB points at itself */
  return fs;
}

size_t rt_utoa(char *buf, unsigned long v) {
  char digits[24];
  size_t len = 0;
  do digits[len++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  for (size_t i = 0; i < len; i++) buf[i] = digits[len - 1 - i];
  buf[len] = '\0';
  return len;
}

int rt_each_numbered_entry(const char *dir, int skip_own_fd, int (*fn)(long number, void *arg), void *arg) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  char dents[8192];
  long got;
  int stop = 0;
  while (!stop && (got = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0) {
    for (long off = 0; off < got && !stop; ) {
      struct dirent64 *d = (struct dirent64 *)(dents + off);
      off += d->d_reclen;
      if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
      long number = 0;
      for (const char *c = d->d_name; *c; c++) number = number * 10 + (*c - '0');
      if (skip_own_fd && number == dfd) continue;
      stop = fn(number, arg);
    }
  }
  close(dfd);
  return 0;
}

long rt_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
