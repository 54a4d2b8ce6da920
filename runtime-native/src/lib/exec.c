/* Keeping the runtime across exec: a program that execs with an environment
 * lacking our LD_PRELOAD or settings (env -i, a cleaned envp) gets them put
 * back, so the new program image carries the runtime too. A member that execs
 * a program that will load the runtime keeps its identity: its connection to
 * the coordinator stays open across the exec and the new image takes it over
 * with its upid (join.c), so an exec chain (env, a shim script, exec python3)
 * is one process to the coordinator, not a departure and a join. glibc's exec
 * functions call each other internally, not through the PLT, so every public
 * entry point is wrapped. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/elf_kind.h"
#include "common/ssh_argv.h"
#include "runtime.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_ARGS 4096

extern char **environ;

/* Variables the runtime needs in the new image, captured at start-up. */
static const char *const KEEP[] = {"LD_PRELOAD", "DMTCP_LAUNCHED", "DMTCP_COORD_HOST",
                                   "DMTCP_COORD_PORT", "DMTCP_CHECKPOINT_DIR", "DMTCP_GZIP",
                                   "DMTCP_SIGCKPT", "DMTCP_TMPDIR", "DMTCP_QUIET", "DMTCP_FAIL_RC",
                                   "DMTCP_CKPT_FSYNC", "DMTCP_CKPT_DIRECT", "DMTCP_CKPT_KEEP_PREVIOUS",
                                   "DMTCP_NO_COORDINATOR",
                                   "DMTCP_PORT_FILE", "DMTCP_CKPT_OPEN_FILES",
                                   "DMTCP_ALLOW_OVERWRITE_WITH_CKPTED_FILES"};
#define NKEEP (sizeof KEEP / sizeof KEEP[0])
static char *g_keep[NKEEP];

void exec_capture_environment(void) {
  for (size_t i = 0; i < NKEEP; i++) {
    const char *v = getenv(KEEP[i]);
    if (!v) continue;
    size_t n = strlen(KEEP[i]) + strlen(v) + 2;
    g_keep[i] = malloc(n);
    if (g_keep[i]) {
      strcpy(g_keep[i], KEEP[i]);
      strcat(g_keep[i], "=");
      strcat(g_keep[i], v);
    }
  }
}

static int names(const char *entry, const char *name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* envp with our variables put back (LD_PRELOAD: ours prepended to the
 * program's own). Returns envp itself when nothing is missing. */
static char **with_runtime(char *const envp[]) {
  size_t n = 0;
  while (envp && envp[n]) n++;
  char **out = malloc((n + NKEEP + 1) * sizeof *out);
  if (!out) return (char **)envp;
  size_t k = 0;
  int changed = 0;
  for (size_t i = 0; i < n; i++) out[k++] = envp[i];
  for (size_t j = 0; j < NKEEP; j++) {
    if (!g_keep[j]) continue;
    size_t at = k;
    for (size_t i = 0; i < k; i++)
      if (names(out[i], KEEP[j])) at = i;
    if (at == k) {
      out[k++] = g_keep[j];
      changed = 1;
    } else if (j == 0 && !strstr(out[at], g_keep[0] + strlen("LD_PRELOAD="))) {
      /* the program set its own LD_PRELOAD: keep it, after ours */
      size_t len = strlen(g_keep[0]) + strlen(out[at]) + 2;
      char *merged = malloc(len);
      if (merged) {
        strcpy(merged, g_keep[0]);
        strcat(merged, ":");
        strcat(merged, out[at] + strlen("LD_PRELOAD="));
        out[at] = merged;
        changed = 1;
      }
    }
  }
  out[k] = NULL;
  if (!changed) {
    free(out);
    return (char **)envp;
  }
  return out;
}

/* A standalone process stays the owner of its embedded coordinator across
 * exec, also after a restart gave it a new pid: the new image is told which
 * pid that is. */
static char **with_owner_pid(char *const envp[]) {
  static char entry[48];
  size_t n = rt_strlcpy(entry, "DMTCP_STANDALONE_PID=", sizeof entry);
  rt_utoa(entry + n, (unsigned long)getpid());
  size_t count = 0;
  while (envp && envp[count]) count++;
  char **out = malloc((count + 2) * sizeof *out);
  if (!out) return (char **)envp;
  size_t k = 0;
  for (size_t i = 0; i < count; i++)
    if (!names(envp[i], "DMTCP_STANDALONE_PID")) out[k++] = envp[i];
  out[k++] = entry;
  out[k] = NULL;
  return out;
}

static int active(void) { return g_runtime_active && g_keep[0]; }

/* A statically linked program (dmtcp_nocheckpoint aside, which speaks for
 * itself) cannot take the runtime along: say so instead of losing it quietly. */
static void note_if_static(const char *path) {
  if (g_settings.quiet >= 1 || elf_kind_of(path) != ELF_STATIC) return;
  const char *base = strrchr(path, '/');
  if (strcmp(base ? base + 1 : path, "dmtcp_nocheckpoint") == 0) return;
  rt_log(path, ": statically linked; from here on this process is not checkpointed");
}

/* <root>/bin, from where this library is (<root>/lib/dmtcp/libdmtcp.so). */
static int runtime_bindir(char *out, size_t len) {
  Dl_info info;
  char lib[PATH_MAX];
  if (!dladdr((void *)runtime_bindir, &info) || !info.dli_fname || !realpath(info.dli_fname, lib)) return -1;
  char *slash = strrchr(lib, '/');
  if (!slash) return -1;
  *slash = '\0';
  char up[PATH_MAX + 16];
  snprintf(up, sizeof up, "%s/../../bin", lib);
  return realpath(up, out) && strlen(out) < len ? 0 : -1;
}

/* `ssh host cmd`: the remote side runs cmd under dmtcp_launch, joined to our
 * coordinator (common/ssh_argv.h). The ssh client stays a member here. */
static char *const *with_remote_launch(const char *path, char *const argv[]) {
  if (!ssh_is_client(path) || g_settings.standalone || !argv) return argv;
  char bindir[PATH_MAX];
  if (runtime_bindir(bindir, sizeof bindir) != 0) return argv;
  int argc = 0;
  while (argv[argc]) argc++;
  struct ssh_remote_settings s = {
      .bindir = bindir, .coord_host = g_settings.coord_host, .coord_port = g_settings.coord_port,
      .ckptdir = g_settings.ckptdir, .tmpdir = getenv("DMTCP_TMPDIR"), .gzip = g_settings.gzip,
      .ckpt_signal = g_settings.ckpt_signal, .quiet = g_settings.quiet,
      .ckpt_open_files = g_settings.ckpt_open_files, .allow_file_overwrite = g_settings.allow_file_overwrite};
  char **rewritten = ssh_rewrite_argv(argc, argv, &s);
  return rewritten ? rewritten : argv;
}

/* The interpreter of a "#!" script, in out. 0, or -1 if path is not one. */
static int script_interpreter(const char *path, char *out, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char line[256];
  ssize_t n = read(fd, line, sizeof line - 1);
  close(fd);
  if (n < 3 || line[0] != '#' || line[1] != '!') return -1;
  line[n] = '\0';
  char *p = line + 2;
  while (*p == ' ' || *p == '\t') p++;
  size_t k = strcspn(p, " \t\n");
  if (k == 0 || k >= len) return -1;
  memcpy(out, p, k);
  out[k] = '\0';
  return 0;
}

/* Will the new program image load the runtime? A dynamically linked program
 * does (LD_PRELOAD is in its environment), and so does a script whose
 * interpreter is one. A statically linked program does not, nor one the
 * loader runs in secure mode, which ignores LD_PRELOAD: set-user-ID or
 * set-group-ID to someone else, or with file capabilities. */
static int keeps_runtime(const char *path, int depth) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getegid()) ||
      getxattr(path, "security.capability", NULL, 0) > 0)
    return 0;
  enum elf_kind kind = elf_kind_of(path);
  if (kind != ELF_NOT_ELF) return kind == ELF_DYNAMIC;
  char interp[PATH_MAX];
  return depth < 4 && script_interpreter(path, interp, sizeof interp) == 0 && keeps_runtime(interp, depth + 1);
}

/* envp without any DMTCP_EXEC_STATE, with entry added; NULL if out of memory. */
static char **with_state(char *const envp[], char *entry) {
  size_t count = 0;
  while (envp && envp[count]) count++;
  char **out = malloc((count + 2) * sizeof *out);
  if (!out) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < count; i++)
    if (!names(envp[i], "DMTCP_EXEC_STATE")) out[k++] = envp[i];
  out[k++] = entry;
  out[k] = NULL;
  return out;
}

/* The connection stays open across the exec, named in DMTCP_EXEC_STATE. The
 * reader lock keeps the checkpoint thread between two messages (coord.c): a
 * checkpoint that has begun runs to its end first, and one requested now
 * waits in the socket for the new image. If the exec fails, all is as it was. */
static int exec_keeping_identity(const char *path, char *const argv[], char *const envp[]) {
  int took = coord_reader_lock();
  char state[320];
  char **env = join_export_state(state, sizeof state) == 0 ? with_state(envp, state) : NULL;
  long rc = -1;
  int err = ENOMEM;
  if (env && fcntl(g_coord_fd, F_SETFD, 0) == 0) {
    rc = syscall(SYS_execve, path, argv, env);
    err = errno;
    fcntl(g_coord_fd, F_SETFD, FD_CLOEXEC);
  }
  free(env);
  if (took) coord_reader_unlock();
  if (!env) return (int)syscall(SYS_execve, path, argv, envp);
  errno = err;
  return (int)rc;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  if (active()) {
    note_if_static(path);
    argv = with_remote_launch(path, argv);
    envp = with_runtime(envp);
    /* only the owner hands ownership on; a forked child's programs are descendants */
    if (g_settings.standalone && getpid() == g_standalone_owner) envp = with_owner_pid(envp);
    if (coord_is_mine() && keeps_runtime(path, 0)) return exec_keeping_identity(path, argv, envp);
  }
  return (int)syscall(SYS_execve, path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  if (strchr(file, '/')) return execve(file, argv, envp);
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/bin:/usr/bin";
  char buf[4096];
  int saw_eacces = 0;
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len + strlen(file) + 2 <= sizeof buf) {
      memcpy(buf, len ? p : ".", len ? len : 1);
      size_t at = len ? len : 1;
      buf[at] = '/';
      strcpy(buf + at + 1, file);
      execve(buf, argv, envp);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR) return -1;
    }
    if (!end) break;
    p = end;
  }
  if (saw_eacces) errno = EACCES;
  return -1;
}

EXPORT int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

/* The list forms: gather the arguments, then as above. */
#define GATHER(first, ap, argv, extra)                          \
  char *argv[MAX_ARGS];                                         \
  size_t argc_ = 0;                                             \
  argv[argc_++] = (char *)(first);                              \
  va_start(ap, first);                                          \
  while (argc_ < MAX_ARGS - 1 && (argv[argc_] = va_arg(ap, char *)) != NULL) argc_++; \
  argv[argc_] = NULL;                                           \
  extra;                                                        \
  va_end(ap)

EXPORT int execl(const char *path, const char *arg, ...) {
  va_list ap;
  GATHER(arg, ap, argv, (void)0);
  return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...) {
  va_list ap;
  GATHER(arg, ap, argv, (void)0);
  return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...) {
  va_list ap;
  char **envp;
  GATHER(arg, ap, argv, envp = va_arg(ap, char **));
  return execve(path, argv, envp);
}
