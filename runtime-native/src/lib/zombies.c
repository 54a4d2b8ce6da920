/* Children that had exited but were not yet reaped at checkpoint (zombies).
 * After a restart the parent's waitpid/wait4/waitid must find them, with the
 * same pid and status: gcc's driver, for one, waits for the cc1 or as it ran,
 * and one that exited while the driver was being stopped is such a child.
 * dmtcp_restart recreates them from the image's zombie table.
 *
 * Runs on the checkpoint thread while the user threads are parked: raw
 * system calls only, no malloc, no stdio. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

#define MAX_CHILDREN 4096
#define PF_EXITING 0x4u /* include/linux/sched.h: set as do_exit() begins */

/* 1 while pid is on its way out: the kernel has begun its exit but it is not
 * a zombie yet (the flags field, the 9th, of /proc/<pid>/stat). */
static int exiting(pid_t pid) {
  char path[64], stat[1024];
  size_t n = rt_strlcpy(path, "/proc/", sizeof path);
  n += rt_utoa(path + n, (unsigned long)pid);
  rt_strlcpy(path + n, "/stat", sizeof path - n);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t len = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (len <= 0) return 0;
  stat[len] = '\0';
  const char *p = strrchr(stat, ')'); /* the name may hold spaces and parentheses */
  if (!p) return 0;
  for (int field = 2; field < 9 && *p; p++)
    if (*p == ' ') field++;
  unsigned long flags = 0;
  for (; *p >= '0' && *p <= '9'; p++) flags = flags * 10 + (unsigned long)(*p - '0');
  return (flags & PF_EXITING) != 0;
}

/* The exit of child pid, without reaping it: 1 (and *z filled) if it is a
 * zombie, 0 if it is not (or not ours). */
static int zombie_status(pid_t pid, struct dmtcp_zombie *z) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != pid) return 0;
  memset(z, 0, sizeof *z);
  z->pid = (uint32_t)pid;
  z->status = (uint32_t)si.si_status;
  switch (si.si_code) {
    case CLD_EXITED: z->how = DMTCP_ZOMBIE_EXITED; break;
    case CLD_KILLED: z->how = DMTCP_ZOMBIE_KILLED; break;
    case CLD_DUMPED: z->how = DMTCP_ZOMBIE_DUMPED; break;
    default: return 0;
  }
  return 1;
}

int zombies_collect(struct dmtcp_zombie *out, int cap) {
  static pid_t kids[MAX_CHILDREN];
  int n = children_list(kids, MAX_CHILDREN), nz = 0;
  for (int i = 0; i < n && nz < cap; i++) {
    struct dmtcp_zombie z;
    /* A member child that ended before the checkpoint stopped it was dropped
     * from the generation at its BYE or as its connection closed, a moment
     * before it becomes a zombie: wait for that (1 s at most) while it is on
     * its way out, in the kernel or still finishing exit() (the runtime in it,
     * its checkpoint thread gone). */
    long deadline = rt_monotonic_ms() + 1000;
    int found;
    while (!(found = zombie_status(kids[i], &z)) && (exiting(kids[i]) || children_runtime_unattached(kids[i])) &&
           rt_monotonic_ms() < deadline) {
      struct timespec ts = {0, 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    if (!found) continue;
    int k = nz++; /* in pid order, as image_read.c wants them */
    for (; k > 0 && out[k - 1].pid > z.pid; k--) out[k] = out[k - 1];
    out[k] = z;
  }
  if (n == MAX_CHILDREN) rt_log("more than 4096 children: some zombies may not be in this checkpoint", NULL);
  return nz;
}
