/* A checkpoint must not stop a process while a child of it that carries the
 * runtime has not joined yet (just forked, or vfork'd and exec'ing, as gcc
 * runs cc1): the coordinator would count the child out of the generation,
 * and after a restart the parent would wait for a child that is not there.
 * So at SUSPENDED, with its own threads parked, the checkpoint thread waits
 * (2 s at most) until every such child has joined; the coordinator takes a
 * child that joins during SUSPENDED into the generation (docs/protocol.md
 * 3.4). A child carries the runtime when libdmtcp.so is in its address
 * space; it has joined once its checkpoint thread exists (a second thread:
 * the runtime starts it before the program's main). No malloc, no stdio. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

#define MAX_CHILDREN 1024

static void put_uint(char *buf, size_t *n, unsigned v) {
  char digits[12];
  int len = 0;
  do digits[len++] = (char)('0' + v % 10); while ((v /= 10) && len < 12);
  while (len) buf[(*n)++] = digits[--len];
}

static int list_children(pid_t *out, int cap) {
  int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;
  int n = 0;
  char dents[4096];
  long got;
  while ((got = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0) {
    for (long off = 0; off < got; ) {
      struct dirent64 *d = (struct dirent64 *)(dents + off);
      off += d->d_reclen;
      if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
      char path[64];
      size_t len = rt_strlcpy(path, "/proc/self/task/", sizeof path);
      len += rt_strlcpy(path + len, d->d_name, sizeof path - len);
      rt_strlcpy(path + len, "/children", sizeof path - len);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char list[4096];
      ssize_t r = read(fd, list, sizeof list - 1);
      close(fd);
      pid_t v = 0;
      for (ssize_t i = 0; i < r; i++) {
        if (list[i] >= '0' && list[i] <= '9') {
          v = v * 10 + (list[i] - '0');
        } else if (v) {
          if (n < cap) out[n++] = v;
          v = 0;
        }
      }
    }
  }
  close(dfd);
  return n;
}

/* 1 if /proc/<pid>/<what> can be read and contains needle (a line of maps). */
static int proc_contains(pid_t pid, const char *what, const char *needle) {
  char path[64];
  size_t n = rt_strlcpy(path, "/proc/", sizeof path);
  put_uint(path, &n, (unsigned)pid);
  path[n++] = '/';
  rt_strlcpy(path + n, what, sizeof path - n);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  static char buf[65536 + 64];
  size_t keep = 0, nlen = strlen(needle);
  int found = 0;
  ssize_t r;
  while (!found && (r = read(fd, buf + keep, sizeof buf - 1 - keep)) > 0) {
    size_t have = keep + (size_t)r;
    buf[have] = '\0';
    found = strstr(buf, needle) != NULL;
    keep = have > nlen ? nlen : have;  /* a needle split across reads */
    memmove(buf, buf + have - keep, keep);
  }
  close(fd);
  return found;
}

static int threads_of(pid_t pid) {
  char path[64];
  size_t n = rt_strlcpy(path, "/proc/", sizeof path);
  put_uint(path, &n, (unsigned)pid);
  rt_strlcpy(path + n, "/task", sizeof path - n);
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;
  int count = 0;
  char dents[4096];
  long got;
  while ((got = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0)
    for (long off = 0; off < got; ) {
      struct dirent64 *d = (struct dirent64 *)(dents + off);
      off += d->d_reclen;
      if (d->d_name[0] >= '0' && d->d_name[0] <= '9') count++;
    }
  close(dfd);
  return count;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void children_wait_for_joining(void) {
  static pid_t kids[MAX_CHILDREN];
  long deadline = now_ms() + 2000;
  for (;;) {
    int n = list_children(kids, MAX_CHILDREN), pending = 0;
    for (int i = 0; i < n && !pending; i++)
      pending = threads_of(kids[i]) < 2 && proc_contains(kids[i], "maps", "libdmtcp.so");
    if (!pending) return;
    if (now_ms() > deadline) {
      rt_log("a child did not join the computation within 2 s; it is not in this checkpoint", NULL);
      return;
    }
    struct timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
