/* Zombie children at restart (zombies.h). The parent, still dmtcp_restart's
 * code at this point, creates each one with clone3(set_tid = its pid); the
 * new child ends at once: _exit with the exit code, or killed by the signal.
 * The kernel sets a wait status's core-dump flag only when it wrote a core, so
 * a child that had dumped one dumps one again, as small as it can be, where it
 * disappears with it: a tmpfs in a mount namespace of its own. Every other
 * child is made non-dumpable first, so that no core file appears anywhere. */
#include "restart/zombies.h"
#include "restart/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void zombies_note_lost(const struct image *imgs, int n, int quiet) {
  uint32_t lost = 0;
  for (int i = 0; i < n; i++) lost += imgs[i].h->num_zombies;
  if (lost && !quiet)
    fprintf(stderr, "dmtcp_restart: %u child%s that had ended and were not reaped (zombies) cannot come back without the pid namespace; "
                    "their parents' wait will not find them\n", lost, lost == 1 ? "" : "ren");
}

/* In the new child: makes the core it is about to dump land in a tmpfs only it
 * sees (core_pattern a plain file name, or an absolute path whose directory
 * has no % in it; a pipe would hand it to a program outside). Holds no core
 * memory (coredump_filter 0). 0, or -1: then it must not dump at all. No
 * malloc, no stdio: the child of a process that may have had threads. */
static int dump_core_out_of_sight(void) {
  char pattern[512], dir[512] = "/tmp";
  int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = read(fd, pattern, sizeof pattern - 1);
  close(fd);
  if (len <= 0) return -1;
  pattern[len] = '\0';
  pattern[strcspn(pattern, "\n")] = '\0';
  char *slash = strrchr(pattern, '/');
  if (pattern[0] == '|' || pattern[0] == '\0' || (slash && pattern[0] != '/')) return -1;
  if (slash) {
    size_t dlen = (size_t)(slash - pattern);
    if (memchr(pattern, '%', dlen) || dlen == 0) return -1;
    memcpy(dir, pattern, dlen);
    dir[dlen] = '\0';
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_max < 65536) return -1;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_CORE, &rl) != 0 || unshare(CLONE_NEWNS) != 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("dmtcp-zombie-core", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16m,mode=0700") != 0 ||
      chdir(dir) != 0 || tree_write_file("/proc/self/coredump_filter", "0") != 0)
    return -1;
  return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* The new child: ends as z says. Never returns. */
static _Noreturn void end_as(const struct dmtcp_zombie *z) {
  if (z->how == DMTCP_ZOMBIE_EXITED) _exit((int)z->status);
  int sig = (int)z->status;
  if (z->how != DMTCP_ZOMBIE_DUMPED || dump_core_out_of_sight() != 0) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, NULL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL);
  kill(getpid(), sig);
  _exit(128 + sig); /* not reached: image_read.c lets through only signals that kill */
}

static const char *ended_how(const struct dmtcp_zombie *z, char *buf, size_t len) {
  if (z->how == DMTCP_ZOMBIE_EXITED) snprintf(buf, len, "exit code %u", z->status);
  else snprintf(buf, len, "signal %u%s", z->status, z->how == DMTCP_ZOMBIE_DUMPED ? " with a core dump" : "");
  return buf;
}

void zombies_recreate(const struct image *img, int quiet) {
  if (img->h->num_zombies == 0) return;
  /* Their SIGCHLDs are not news to the program (one still pending at the
   * checkpoint is raised again by the runtime): block and discard them. */
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  for (uint32_t k = 0; k < img->h->num_zombies; k++) {
    const struct dmtcp_zombie *z = &img->zombies[k];
    pid_t want = (pid_t)z->pid;
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    ca.set_tid = (uint64_t)(uintptr_t)&want;
    ca.set_tid_size = 1;
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) end_as(z);
    char how[64];
    if (pid < 0) {
      if (!quiet)
        fprintf(stderr, "dmtcp_restart: cannot recreate child %u of process %u, which had ended (%s) and was not reaped: %s; "
                        "its parent's wait will not find it\n", z->pid, img->h->vpid, ended_how(z, how, sizeof how),
                strerror(errno));
      continue;
    }
    /* The program's wait must find it ended, not running: wait until it is a zombie. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    if (z->how == DMTCP_ZOMBIE_DUMPED && si.si_code != CLD_DUMPED && !quiet)
      fprintf(stderr, "dmtcp_restart: child %u of process %u is back killed by signal %u, but without its core-dump flag "
                      "(a core can only be written where core_pattern points, out of sight in a file name, not a pipe)\n",
              z->pid, img->h->vpid, z->status);
  }
  struct timespec none = {0, 0};
  while (sigtimedwait(&chld, NULL, &none) == SIGCHLD) {
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
}
