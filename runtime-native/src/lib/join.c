/* How a process becomes a member of the computation and stays one
 * (docs/protocol.md 3.1, 3.6, 3.9):
 *  - the first process of a launch, and a program started by posix_spawn or
 *    vfork, connect, send HELLO and wait for the WELCOME: one that joins
 *    during a checkpoint runs no code of its own until it is over;
 *  - a forked child joins on the connection its parent made and announced
 *    for it (coord.c), sends its HELLO and goes on: its checkpoint thread
 *    reads the WELCOME;
 *  - a process that execs keeps its connection and its upid (exec.c hands
 *    them over in DMTCP_EXEC_STATE) and only tells the coordinator the name
 *    of its new program: an exec is not a departure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/protocol.h"
#include "runtime.h"

char g_upid[96];
char g_comp_id[96];
char g_hostname[256];
static int g_waiting;  /* WELCOME state=WAIT came to the checkpoint thread: ADVANCE RUNNING ends it */

static _Noreturn void fail(const char *what, const char *detail) {
  fprintf(stderr, "dmtcp: %s%s\n", what, detail ? detail : "");
  _exit(g_settings.fail_rc);
}

/* <hostid>-<pid>-<ns> (docs/protocol.md 2). gethostid() looks the host name
 * up (/etc/hosts, maybe DNS): a forked child takes the host id from the upid
 * it inherited instead. */
void join_make_upid(void) {
  unsigned long hostid = g_upid[0] ? strtoul(g_upid, NULL, 16) : (unsigned long)gethostid() & 0xffffffffUL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  snprintf(g_upid, sizeof g_upid, "%08lx-%d-%llx", hostid, (int)getpid(), (unsigned long long)ns);
}

/* restart_image: the image this process restarted from, or NULL at a launch. */
static void hello_message(struct proto_msg *m, const char *restart_image) {
  proto_init(m, MSG_HELLO);
  proto_add(m, "role", "process");
  proto_add(m, "upid", g_upid);
  proto_add(m, "comp_id", g_comp_id);
  proto_add(m, "host", g_hostname);
  proto_add_u64(m, "real_pid", (uint64_t)getpid());
  proto_add_u64(m, "vpid", (uint64_t)getpid());
  proto_add(m, "program", g_program);
  proto_add(m, "state", restart_image ? "RESTARTING" : "RUNNING");
  proto_add(m, "restart", restart_image ? "1" : "0");
  proto_add(m, "ckptdir", g_settings.ckptdir);
  if (restart_image) {
    proto_add_u64(m, "generation", g_generation);
    proto_add_u64(m, "num_members", g_num_members);
    proto_add(m, "image", restart_image);
  }
  if (g_settings.interval >= 0) proto_add_u64(m, "interval", (uint64_t)g_settings.interval);
}

/* WELCOME or REFUSED: 1 for WELCOME state=WAIT, 0 for WELCOME. */
static int welcome(const struct proto_msg *m) {
  char buf[512];
  if (m->type == MSG_REFUSED) {
    proto_get(m, "reason", buf, sizeof buf);
    fail("the coordinator refused this process: ", buf);
  }
  if (m->type != MSG_WELCOME) fail("unexpected reply to HELLO", NULL);
  proto_get(m, "comp_id", g_comp_id, sizeof g_comp_id);
  proto_get(m, "state", buf, sizeof buf);
  return strcmp(buf, "WAIT") == 0;
}

void join_hello_and_wait(const char *restart_image) {
  struct proto_msg m;
  hello_message(&m, restart_image);
  if (coord_send(&m) != 0) fail("lost the coordinator during the handshake", NULL);
  if (proto_recv(g_coord_fd, &m) != 0) fail("the coordinator closed the connection during the handshake", NULL);
  if (!welcome(&m) || restart_image) return;
  /* Joined during a checkpoint: run no user code until it is over. */
  char state[64];
  for (;;) {
    if (proto_recv(g_coord_fd, &m) != 0) fail("lost the coordinator while waiting to start", NULL);
    if (m.type == MSG_ADVANCE && proto_get(&m, "state", state, sizeof state) == 0 &&
        strcmp(state, "RUNNING") == 0)
      return;
    if (m.type == MSG_KILL) _exit(137);
  }
}

/* The checkpoint thread, before anything else: the WELCOME of a HELLO sent
 * without waiting. A forked child that gets WAIT is not part of the barrier
 * in progress: its parent was released from it already (it forked), so the
 * child runs on as its parent does. */
void join_take_welcome(void) {
  struct proto_msg m;
  if (proto_recv(g_coord_fd, &m) != 0) return; /* the checkpoint thread's loop sees the loss */
  g_waiting = welcome(&m);
  g_welcome_pending = 0;
}

int join_end_of_wait(void) {
  if (!g_waiting) return 0;
  g_waiting = 0;
  return 1;
}

void join_connect_and_hello(void) {
  int fd = proto_connect(g_settings.coord_host, g_settings.coord_port);
  if (fd < 0) {
    fprintf(stderr, "dmtcp: cannot reach the coordinator at %s:%d: %s\n", g_settings.coord_host,
            g_settings.coord_port, strerror(errno));
    _exit(g_settings.fail_rc);
  }
  g_coord_fd = coord_high_fd(fd);
  g_coord_owner = getpid();
  g_welcome_pending = 0; /* a forked child's copy of its parent's */
  g_waiting = 0;
  join_hello_and_wait(NULL);
}

/* In a forked child (pthread_atfork), with its parent's connection and
 * checkpoint thread left behind: fd is the connection its parent made for
 * it, or -1 (then it connects and waits, as a new program does). */
void join_after_fork_child(int fd) {
  if (g_coord_fd >= 0) close(g_coord_fd);
  g_coord_fd = -1;
  join_make_upid();
  if (fd < 0) {
    join_connect_and_hello();
    return;
  }
  g_coord_fd = fd;
  g_coord_owner = getpid();
  g_waiting = 0;
  struct proto_msg m;
  hello_message(&m, NULL);
  if (coord_send(&m) != 0) fail("forked child cannot reach the coordinator", NULL);
  g_welcome_pending = 1;
}

/* DMTCP_EXEC_STATE=<pid>:<fd>:<welcome pending 0|1>:<waiting 0|1>:<upid>:<comp_id>,
 * made by exec.c for the new image of the same process. */
int join_export_state(char *out, size_t len) {
  int n = snprintf(out, len, "DMTCP_EXEC_STATE=%d:%d:%d:%d:%s:%s", (int)getpid(), g_coord_fd,
                   g_welcome_pending, g_waiting, g_upid, g_comp_id);
  return n > 0 && (size_t)n < len ? 0 : -1;
}

/* At start, in the new image of a process that exec'd: its connection and
 * identity, if they are its own (a child started by posix_spawn inherits
 * the environment, not the descriptor). Removes the variable from the
 * environment the program sees either way. 1 if adopted. */
int join_adopt_exec_state(void) {
  const char *s = getenv("DMTCP_EXEC_STATE");
  if (!s) return 0;
  int pid = -1, fd = -1, pending = 0, waiting = 0, used = 0;
  char upid[96] = "", comp[96] = "";
  int ok = sscanf(s, "%d:%d:%d:%d:%n", &pid, &fd, &pending, &waiting, &used) == 4 && used > 0;
  const char *rest = s + used, *colon = ok ? strchr(rest, ':') : NULL;
  if (colon && (size_t)(colon - rest) < sizeof upid && strlen(colon + 1) < sizeof comp) {
    memcpy(upid, rest, (size_t)(colon - rest));
    upid[colon - rest] = '\0';
    rt_strlcpy(comp, colon + 1, sizeof comp);
  }
  unsetenv("DMTCP_EXEC_STATE");
  if (!ok || !upid[0] || pid != (int)getpid() || !coord_is_socket(fd)) return 0;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  g_coord_fd = fd;
  g_coord_owner = getpid();
  g_welcome_pending = pending;
  g_waiting = waiting;
  rt_strlcpy(g_upid, upid, sizeof g_upid);
  rt_strlcpy(g_comp_id, comp, sizeof g_comp_id);
  struct proto_msg m;
  proto_init(&m, MSG_UPDATE);
  proto_add(&m, "program", g_program);
  proto_add_u64(&m, "real_pid", (uint64_t)getpid());
  if (coord_send(&m) != 0) fail("lost the coordinator across exec", NULL);
  return 1;
}

void join_say_bye(void) {
  if ((pid_t)syscall(SYS_getpid) != g_coord_owner) return; /* a vfork child calling exit() */
  atomic_store(&g_said_bye, 1);
  if (!coord_is_mine()) return;
  struct proto_msg m;
  proto_init(&m, MSG_BYE);
  coord_send(&m);
}
