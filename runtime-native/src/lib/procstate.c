/* Process state the kernel forgets across a restart: signal dispositions,
 * rlimits, cwd, umask, the memory-map fields behind /proc/self/cmdline,
 * environ and the program break, and the executable behind /proc/self/exe. Saved by the checkpoint
 * thread into a static buffer (so it is part of the memory image) and put back
 * by it after restart. No malloc, no stdio. */
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

#define PS_MAGIC 0x50534154u /* "PSAT" */

struct k_sigaction { /* the kernel's layout for rt_sigaction */
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};

struct procstate {
  uint32_t magic;
  uint32_t pad;
  mode_t umask;
  struct k_sigaction act[65];
  struct rlimit rlim[RLIM_NLIMITS];
  char cwd[4096];
  char exe[4096];   /* /proc/self/exe: a program that re-execs itself through it */
  int have_mm;
  struct prctl_mm_map mm;
};

static struct procstate g_ps;

/* The kernel's view of the address-space layout (/proc/self/stat fields
 * 26-28 and 45-51). After restart these still describe dmtcp_restart, so `ps`
 * would show an empty command line and brk() would grow the wrong heap. */
static int save_mm_layout(struct prctl_mm_map *mm) {
  char buf[2048];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  if (!p) return 0;
  uint64_t field[53] = {0};
  int f = 2;
  for (p++; *p && f < 52; p++) {
    if (*p == ' ') {
      f++;
    } else if (*p >= '0' && *p <= '9') {
      field[f] = field[f] * 10 + (uint64_t)(*p - '0');
    }
  }
  if (f < 51) return 0;
  memset(mm, 0, sizeof *mm);
  mm->start_code = field[26];
  mm->end_code = field[27];
  mm->start_stack = field[28];
  mm->start_data = field[45];
  mm->end_data = field[46];
  mm->start_brk = field[47];
  mm->brk = (uint64_t)syscall(SYS_brk, 0);
  mm->arg_start = field[48];
  mm->arg_end = field[49];
  mm->env_start = field[50];
  mm->env_end = field[51];
  mm->exe_fd = (uint32_t)-1;
  return mm->start_code != 0 && mm->arg_start != 0;
}

/* The layout, and /proc/self/exe, which still names dmtcp_restart. Setting the
 * executable link takes CAP_CHECKPOINT_RESTORE in the process's user namespace,
 * which dmtcp_restart's namespaces give (the capabilities are dropped after
 * this); without them the layout alone is put back, and an exec of
 * /proc/self/exe runs dmtcp_restart, so say so. */
static void restore_mm_layout(struct procstate *ps) {
  int exe = ps->exe[0] ? open(ps->exe, O_RDONLY | O_CLOEXEC) : -1;
  ps->mm.exe_fd = exe >= 0 ? (uint32_t)exe : (uint32_t)-1;
  int rc = prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&ps->mm, sizeof ps->mm, 0);
  if (rc != 0 && exe >= 0) {
    ps->mm.exe_fd = (uint32_t)-1;
    rc = prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&ps->mm, sizeof ps->mm, 0);
    if (rc == 0 && g_settings.quiet < 1) rt_log("restart: /proc/self/exe names dmtcp_restart, not ", ps->exe);
  }
  if (rc != 0) rt_log("restart: cannot restore the command line and heap layout: ", strerror(errno));
  if (exe >= 0) close(exe);
}

size_t procstate_save(void *buf, size_t cap) {
  struct procstate *ps = &g_ps;
  memset(ps, 0, sizeof *ps);
  ps->magic = PS_MAGIC;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, NULL, &ps->act[sig], 8);
  }
  mode_t m = umask(022);
  umask(m);
  ps->umask = m;
  for (int r = 0; r < RLIM_NLIMITS; r++) getrlimit((__rlimit_resource_t)r, &ps->rlim[r]);
  if (syscall(SYS_getcwd, ps->cwd, sizeof ps->cwd) < 0) ps->cwd[0] = '\0';
  ssize_t n = readlink("/proc/self/exe", ps->exe, sizeof ps->exe - 1);
  ps->exe[n > 0 ? n : 0] = '\0';
  ps->have_mm = save_mm_layout(&ps->mm);

  size_t len = sizeof *ps;
  if (len > cap) len = cap;
  memcpy(buf, ps, len);
  return len;
}

void procstate_restore(void) {
  struct procstate *ps = &g_ps;
  if (ps->magic != PS_MAGIC) return;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &ps->act[sig], NULL, 8);
  }
  umask(ps->umask);
  for (int r = 0; r < RLIM_NLIMITS; r++) {
    struct rlimit now;
    if (getrlimit((__rlimit_resource_t)r, &now) == 0 && ps->rlim[r].rlim_cur <= now.rlim_max)
      setrlimit((__rlimit_resource_t)r, &(struct rlimit){ps->rlim[r].rlim_cur, now.rlim_max});
  }
  /* After the rlimits (the kernel checks RLIMIT_DATA). */
  if (ps->have_mm) restore_mm_layout(ps);
  if (ps->cwd[0] && chdir(ps->cwd) != 0) rt_log("restart: cannot return to directory ", ps->cwd);
}
