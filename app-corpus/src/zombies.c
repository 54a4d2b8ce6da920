/* A parent that always has children that have ended and that it has not
 * reaped yet (zombies), whenever it is checkpointed. Every tick it makes a new
 * set (one that exits with a code that changes every tick, one killed by a
 * signal, and, where core_pattern is a plain file name, one killed by SIGQUIT
 * with a core dump written into ./zombie-cores), waits until they have ended,
 * and only then reaps the previous set with waitpid, wait4 and waitid, checking
 * each one's pid and status. After a restart the set of the checkpoint must be
 * there, with the same pids and statuses. The children are raw clones that
 * never join the computation: only the parent is checkpointed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

#define CORE_DIR "zombie-cores"

struct zombie { pid_t pid; int code, sig, core; };

static int cores_possible; /* a core dump lands in CORE_DIR: core_pattern is a file name */

static void check_core_pattern(void) {
  char pattern[256] = "";
  FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
  if (f) {
    if (!fgets(pattern, sizeof pattern, f)) pattern[0] = '\0';
    fclose(f);
  }
  pattern[strcspn(pattern, "\n")] = '\0';
  struct rlimit rl;
  cores_possible = pattern[0] && !strchr(pattern, '|') && !strchr(pattern, '/') &&
                   getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max >= 65536 &&
                   (mkdir(CORE_DIR, 0700) == 0 || errno == EEXIST);
}

/* In the child (a raw clone: no fork handlers, so it does not join the
 * computation): system calls only. */
static _Noreturn void child_end(const struct zombie *z) {
  if (z->core) {
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_CORE, &rl);
    int fd = open("/proc/self/coredump_filter", O_WRONLY);
    if (fd >= 0) {
      if (write(fd, "0", 1) != 1) syscall(SYS_exit_group, 97);
      close(fd);
    }
    if (chdir(CORE_DIR) != 0) syscall(SYS_exit_group, 98);
  }
  if (z->sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(z->sig, &dfl, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, z->sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    syscall(SYS_kill, syscall(SYS_getpid), z->sig);
  }
  syscall(SYS_exit_group, z->code);
  for (;;) {
  }
}

static void start(struct zombie *z) {
  long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
  if (pid < 0) damaged("clone failed");
  if (pid == 0) child_end(z);
  z->pid = (pid_t)pid;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0)
    if (errno != EINTR) damaged("a new child cannot be waited for");
}

static void remove_cores(void) {
  DIR *d = opendir(CORE_DIR);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
}

static void wrong(const struct zombie *z, const char *what) {
  char msg[200];
  snprintf(msg, sizeof msg, "child %d (exit %d, signal %d, core %d): %s", (int)z->pid, z->code, z->sig, z->core, what);
  damaged(msg);
}

/* Each kind of wait, as a program would use it: first a look that must find
 * it ended (WNOHANG), then the reaping. */
static void reap(const struct zombie *z, int how) {
  int status = 0;
  char what[120];
  if (how == 2) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)z->pid, &si, WEXITED | WNOHANG) != 0) wrong(z, strerror(errno));
    if (si.si_pid != z->pid) wrong(z, "waitid(WNOHANG) finds it running");
    int code = z->sig ? (z->core ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
    int want = z->sig ? z->sig : z->code;
    if (si.si_code != code || si.si_status != want) {
      snprintf(what, sizeof what, "waitid says code %d status %d", si.si_code, si.si_status);
      wrong(z, what);
    }
    return;
  }
  pid_t got = how == 0 ? waitpid(z->pid, &status, WNOHANG) : wait4(z->pid, &status, WNOHANG, NULL);
  if (got < 0) wrong(z, strerror(errno));
  if (got != z->pid) wrong(z, "waitpid(WNOHANG) finds it running");
  int ok = z->sig ? WIFSIGNALED(status) && WTERMSIG(status) == z->sig && !WCOREDUMP(status) == !z->core
                  : WIFEXITED(status) && WEXITSTATUS(status) == z->code;
  if (!ok) {
    snprintf(what, sizeof what, "wait status %#x", (unsigned)status);
    wrong(z, what);
  }
}

int main(void) {
  check_core_pattern();
  struct zombie old[3], cur[3];
  int nold = 0;
  for (long n = 0;; n++) {
    int ncur = 0;
    cur[ncur++] = (struct zombie){0, (int)(n % 200) + 1, 0, 0};
    cur[ncur++] = (struct zombie){0, 0, n % 2 ? SIGTERM : SIGUSR1, 0};
    if (cores_possible) cur[ncur++] = (struct zombie){0, 0, SIGQUIT, 1};
    for (int k = 0; k < ncur; k++) start(&cur[k]);
    for (int k = 0; k < nold; k++) reap(&old[k], (int)((n + k) % 3));
    remove_cores();
    memcpy(old, cur, sizeof cur);
    nold = ncur;
    progress(n);
    tick(100);
  }
}
