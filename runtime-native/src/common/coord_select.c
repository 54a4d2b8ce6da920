/* --any-coordinator / --join-coordinator / --new-coordinator, as DMTCP users know them. */
#include "coord_select.h"
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

int dmtcp_fail_rc(void) {
  const char *v = getenv("DMTCP_FAIL_RC");
  return v && *v ? atoi(v) : 99;
}

int dmtcp_parse_int(const char *prog, const char *s, const char *what, int min, int max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || !*s || v < min || v > max) {
    fprintf(stderr, "%s: invalid %s: %s\n", prog, what, s);
    exit(dmtcp_fail_rc());
  }
  return (int)v;
}

static const char *first_env(const char *a, const char *b) {
  const char *v = getenv(a);
  if (!v || !*v) v = getenv(b);
  return v && *v ? v : NULL;
}

void dmtcp_coord_target_from_env(struct coord_target *t, const char *prog) {
  memset(t, 0, sizeof *t);
  const char *host = first_env("DMTCP_COORD_HOST", "DMTCP_HOST");
  snprintf(t->host, sizeof t->host, "%s", host ? host : "localhost");
  const char *port = first_env("DMTCP_COORD_PORT", "DMTCP_PORT");
  t->port = port ? dmtcp_parse_int(prog, port, "DMTCP_COORD_PORT", 0, 65535) : -1;
  t->mode = COORD_ANY;
  const char *log = getenv("DMTCP_COORD_LOG_FILENAME");
  t->logfile = log && *log ? log : NULL;
  const char *interval = getenv("DMTCP_CHECKPOINT_INTERVAL");
  t->interval = interval && *interval
                    ? dmtcp_parse_int(prog, interval, "DMTCP_CHECKPOINT_INTERVAL", 0, 0x7fffffff)
                    : -1;
}

int dmtcp_bindir(char *out, size_t len) {
  ssize_t n = readlink("/proc/self/exe", out, len - 1);
  if (n <= 0) return -1;
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (!slash) return -1;
  *slash = '\0';
  return 0;
}

static int reachable(const char *host, int port) {
  int fd = proto_connect(host, port);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

const char *dmtcp_tmpdir_problem(const char *dir) {
  struct stat sb;
  if (stat(dir, &sb) != 0) return strerror(errno);
  if (!S_ISDIR(sb.st_mode)) return "not a directory";
  if (access(dir, W_OK | X_OK) != 0) return strerror(errno);
  return NULL;
}

static int is_local(const char *host) {
  return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* What start_coordinator checks first, so that a bad directory or log file is
 * one line naming it, not a coordinator that fails to come up. */
static int coordinator_paths_ok(const struct coord_target *t, const char *tmp, char *err, size_t errlen) {
  const char *why = dmtcp_tmpdir_problem(tmp);
  if (why) {
    snprintf(err, errlen, "temporary directory %s: %s", tmp, why);
    return 0;
  }
  if (t->logfile && *t->logfile) {
    int fd = open(t->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      snprintf(err, errlen, "coordinator log file %s: %s", t->logfile, strerror(errno));
      return 0;
    }
    close(fd);
  }
  return 1;
}

/* The port a started coordinator wrote to portfile, once it answers there. */
static int await_port_file(struct coord_target *t, const char *portfile, const char *port, char *err,
                           size_t errlen) {
  for (int i = 0; i < 600; i++) {
    FILE *f = fopen(portfile, "r");
    if (f) {
      int p = -1;
      int got = fscanf(f, "%d", &p);
      fclose(f);
      if (got == 1 && p > 0 && reachable("127.0.0.1", p)) {
        unlink(portfile);
        t->port = p;
        t->started = 1;
        return 0;
      }
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  unlink(portfile);
  snprintf(err, errlen, "the coordinator started on port %s did not come up", port);
  return -1;
}

/* Starts a coordinator in the background and waits until it listens. */
static int start_coordinator(struct coord_target *t, int port, char *err, size_t errlen) {
  char bindir[1024], exe[1200], portbuf[16], interval[16];
  char portfile[1100];
  if (dmtcp_bindir(bindir, sizeof bindir) != 0) {
    snprintf(err, errlen, "cannot find the dmtcp bin directory");
    return -1;
  }
  snprintf(exe, sizeof exe, "%s/dmtcp_coordinator", bindir);
  const char *tmp = t->tmpdir && *t->tmpdir ? t->tmpdir : getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  if (!coordinator_paths_ok(t, tmp, err, errlen)) return -1;
  snprintf(portfile, sizeof portfile, "%s/dmtcp-port-%d-%ld", tmp, (int)getpid(), (long)time(NULL));
  unlink(portfile);
  snprintf(portbuf, sizeof portbuf, "%d", port);
  snprintf(interval, sizeof interval, "%d", t->interval);
  const char *argv[20];
  int a = 0;
  argv[a++] = exe;
  argv[a++] = "--daemon";
  argv[a++] = "--exit-on-last";
  argv[a++] = "-q";
  argv[a++] = "-p";
  argv[a++] = portbuf;
  argv[a++] = "--port-file";
  argv[a++] = portfile;
  argv[a++] = "--tmpdir";
  argv[a++] = tmp;
  if (t->interval >= 0) {
    argv[a++] = "-i";
    argv[a++] = interval;
  }
  if (t->ckptdir && *t->ckptdir) {
    argv[a++] = "--ckptdir";
    argv[a++] = t->ckptdir;
  }
  if (t->logfile && *t->logfile) {
    argv[a++] = "--coord-logfile";
    argv[a++] = t->logfile;
  }
  argv[a] = NULL;
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "cannot start a coordinator: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      if (t->quiet) dup2(devnull, 1);
    }
    unsetenv("LD_PRELOAD");
    execv(exe, (char *const *)argv);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0); /* --daemon returns once it listens, or fails with the reason on stderr */
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(err, errlen, "could not start a coordinator on port %s (%s exited with status %d)", portbuf, exe,
             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    unlink(portfile);
    return -1;
  }
  return await_port_file(t, portfile, portbuf, err, errlen);
}

static int write_port_file(const struct coord_target *t, char *err, size_t errlen) {
  if (!t->port_file) return 0;
  FILE *f = fopen(t->port_file, "w");
  if (!f || fprintf(f, "%d\n", t->port) < 0 || fclose(f) != 0) {
    snprintf(err, errlen, "cannot write port file %s: %s", t->port_file, strerror(errno));
    return -1;
  }
  return 0;
}

int dmtcp_coord_ensure(struct coord_target *t, char *err, size_t errlen) {
  int port = t->port >= 0 ? t->port : (t->mode == COORD_NEW ? 0 : 7779);
  switch (t->mode) {
    case COORD_JOIN:
      if (!reachable(t->host, port)) {
        snprintf(err, errlen, "no coordinator at %s:%d (--join-coordinator)", t->host, port);
        return -1;
      }
      t->port = port;
      return write_port_file(t, err, errlen);
    case COORD_ANY:
      if (port != 0 && reachable(t->host, port)) {
        t->port = port;
        return write_port_file(t, err, errlen);
      }
      __attribute__((fallthrough)); /* none there: start one */
    case COORD_NEW:
      if (port != 0 && reachable(t->host, port)) {
        snprintf(err, errlen, "a coordinator already listens at %s:%d (--new-coordinator)", t->host, port);
        return -1;
      }
      if (!is_local(t->host)) {
        snprintf(err, errlen, "no coordinator at %s:%d, and one can only be started on this host", t->host, port);
        return -1;
      }
      if (start_coordinator(t, port, err, errlen) != 0) return -1;
      return write_port_file(t, err, errlen);
    case COORD_NONE:
      return 0; /* the process coordinates itself (standalone.c) */
  }
  return -1;
}

void dmtcp_coord_note_unused_logfile(const struct coord_target *t, const char *prog) {
  if (t->quiet || !t->logfile || t->started) return;
  if (t->mode == COORD_NONE)
    fprintf(stderr, "%s: note: --coord-logfile %s unused: there is no coordinator (--no-coordinator)\n", prog,
            t->logfile);
  else
    fprintf(stderr, "%s: note: --coord-logfile %s unused: the coordinator at %s:%d was already running\n", prog,
            t->logfile, t->host, t->port);
}

/* One command to the coordinator; its answer in reply. 0 or -1. */
static int coord_command(const struct coord_target *t, const char *command, struct proto_msg *reply) {
  int fd = proto_connect("127.0.0.1", t->port);
  if (fd < 0) return -1;
  struct proto_msg m;
  proto_init(&m, MSG_COMMAND);
  int rc = proto_add(&m, "command", command) == 0 && proto_send(fd, &m) == 0 && proto_recv(fd, reply) == 0 &&
                   reply->type == MSG_COMMAND_RESULT
               ? 0
               : -1;
  close(fd);
  return rc;
}

void dmtcp_coord_quit_if_unused(const struct coord_target *t) {
  if (!t->started || t->port <= 0) return;
  struct proto_msg reply;
  if (coord_command(t, "status", &reply) == 0 && proto_get_ll(&reply, "num_peers", -1) == 0)
    coord_command(t, "quit", &reply);
}
