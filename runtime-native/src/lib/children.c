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
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

#define MAX_CHILDREN 1024

struct pid_list { pid_t *pids; int n, cap; };

static int add_children_of_task(long tid, void *arg) {
  struct pid_list *l = arg;
  char path[64];
  size_t n = rt_strlcpy(path, "/proc/self/task/", sizeof path);
  n += rt_utoa(path + n, (unsigned long)tid);
  rt_strlcpy(path + n, "/children", sizeof path - n);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char list[4096];
  ssize_t r = read(fd, list, sizeof list - 1);
  close(fd);
  pid_t v = 0;
  for (ssize_t i = 0; i < r; i++) {
    if (list[i] >= '0' && list[i] <= '9') {
      v = v * 10 + (list[i] - '0');
    } else if (v) {
      if (l->n < l->cap) l->pids[l->n++] = v;
      v = 0;
    }
  }
  return 0;
}

int children_list(pid_t *out, int cap) {
  struct pid_list l = {out, 0, cap};
  rt_each_numbered_entry("/proc/self/task", 0, add_children_of_task, &l);
  return l.n;
}

/* 1 if /proc/<pid>/<what> can be read and contains needle (a line of maps, an
 * entry of environ: memmem, as environ's entries end with NULs). */
static int proc_contains(pid_t pid, const char *what, const char *needle) {
  char path[64];
  size_t n = rt_strlcpy(path, "/proc/", sizeof path);
  n += rt_utoa(path + n, (unsigned long)pid);
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
    found = memmem(buf, have, needle, nlen) != NULL;
    keep = have > nlen ? nlen : have;  /* a needle split across reads */
    memmove(buf, buf + have - keep, keep);
  }
  close(fd);
  return found;
}

static int count_one(long number, void *arg) {
  (void)number;
  (*(int *)arg)++;
  return 0;
}

static int threads_of(pid_t pid) {
  char path[64];
  size_t n = rt_strlcpy(path, "/proc/", sizeof path);
  n += rt_utoa(path + n, (unsigned long)pid);
  rt_strlcpy(path + n, "/task", sizeof path - n);
  int count = 0;
  rt_each_numbered_entry(path, 0, count_one, &count);
  return count;
}

/* A child that will join but has not yet: the runtime is in its address space
 * and its checkpoint thread is not there yet; or it has just exec'd a
 * dynamically linked program (the dynamic loader is mapped) that was given our
 * LD_PRELOAD, which the loader has not mapped yet (make's posix_spawn of gcc:
 * the fork guard does not see it, and make is stopped once the exec is done). */
int children_runtime_unattached(pid_t pid) {
  return threads_of(pid) < 2 && proc_contains(pid, "maps", "libdmtcp.so");
}

static int joining(pid_t pid) {
  if (threads_of(pid) >= 2) return 0;
  if (proc_contains(pid, "maps", "libdmtcp.so")) return 1;
  return proc_contains(pid, "maps", "/ld-linux") && proc_contains(pid, "environ", "DMTCP_LAUNCHED=1") &&
         proc_contains(pid, "environ", "libdmtcp.so");
}

void children_wait_for_joining(void) {
  static pid_t kids[MAX_CHILDREN];
  long deadline = rt_monotonic_ms() + 2000;
  for (;;) {
    int n = children_list(kids, MAX_CHILDREN), pending = 0;
    for (int i = 0; i < n && !pending; i++)
      pending = joining(kids[i]);
    if (!pending) return;
    if (rt_monotonic_ms() > deadline) {
      rt_log("a child did not join the computation within 2 s; it is not in this checkpoint", NULL);
      return;
    }
    struct timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
