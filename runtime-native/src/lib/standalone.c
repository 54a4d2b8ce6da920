/* --no-coordinator: the process is a computation of one and coordinates
 * itself. Its checkpoint thread listens on the coordinator port, answers
 * dmtcp_command (docs/protocol.md 3.8) and runs interval checkpoints, taking
 * the same steps as the barrier: stop the threads, write the image, commit it
 * by renaming, resume. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/protocol.h"
#include "fds/fds.h"
#include "runtime.h"
#include "zstd_lazy.h"

static int g_listen_fd = -1;
static uint64_t g_last_committed;

static void listen_again(void) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int v6 = fd >= 0;
  if (!v6) fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)g_settings.coord_port);
    a->sin6_addr = in6addr_any;
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)g_settings.coord_port);
    len = sizeof *a;
  }
  if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0) {
    fprintf(stderr, "dmtcp: --no-coordinator: cannot listen on port %d: %s\n", g_settings.coord_port,
            strerror(errno));
    _exit(g_settings.fail_rc);
  }
  len = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &len);
  int port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  g_settings.coord_port = port;
  g_coord_fd = fd; /* kept out of the image's descriptor table, like a coordinator socket */
  g_listen_fd = fd;
  if (g_settings.port_file[0]) {
    FILE *f = fopen(g_settings.port_file, "w");
    if (f) {
      fprintf(f, "%d\n", port);
      fclose(f);
    }
  }
}

/* Children of every thread (/proc/self/task/<tid>/children): an embedded
 * coordinator checkpoints its own process only, so say so when there are any. */
static int count_children(void) {
  static pid_t kids[1024];
  return children_list(kids, 1024);
}

/* A forked child is not checkpointed (the embedded coordinator serves the
 * launched process only); it must not keep the port open either. */
void standalone_after_fork_child(void) {
  if (g_listen_fd >= 0) close(g_listen_fd);
  g_listen_fd = -1;
  g_coord_fd = -1;
}

/* One checkpoint: 0 done, -1 failed (err set), 1 when we are the restarted process. */
static int checkpoint_alone(char *err, size_t errlen) {
  g_generation++;
  g_num_members = 1;
  zstd_before_checkpoint(); /* the loader's lock: while no thread is parked */
  fork_guard_lock();
  if (suspend_all_threads() != 0) {
    snprintf(err, errlen, "thread %d did not stop (does it block the checkpoint signal?)", (int)g_unstoppable_tid);
    release_threads();
    fork_guard_unlock();
    return -1;
  }
  set_image_names();
  fds_scan();  /* the barrier's steps, all by ourselves */
  posixmq_scan();
  fds_elect();
  posixmq_elect();
  fds_identify();
  fds_drain();
  posixmq_drain();
  fds_describe();
  int rc = checkpoint_now(err, errlen);
  if (rc == 1) {
    restore_process_after_restart();
    listen_again();
    sysv_restart_resolved(); /* NS_RESOLVED: the only process has its objects again */
    posixmq_restart_resolved();
    fds_resume();
    posixmq_refill();
    release_threads();
    fork_guard_unlock();
    return 1;
  }
  if (rc == 0) {
    rename_image();
    g_last_committed = g_generation;
  } else {
    discard_image();
  }
  fds_resume();
  posixmq_refill();
  release_threads();
  fork_guard_unlock();
  release_old_image();
  int children = rc == 0 ? count_children() : 0;
  if (children > 0 && g_settings.quiet < 1) {
    char msg[160];
    snprintf(msg, sizeof msg, "%d child process%s not in this checkpoint", children, children == 1 ? " is" : "es are");
    rt_log("--no-coordinator: ", msg);
  }
  return rc;
}

static void answer(int fd, const char *status) {
  struct proto_msg r;
  proto_init(&r, MSG_COMMAND_RESULT);
  proto_add(&r, "command_status", status);
  proto_add(&r, "num_peers", "1");
  proto_add(&r, "running", "yes");
  proto_add_u64(&r, "checkpoint_interval", (uint64_t)(g_settings.interval > 0 ? g_settings.interval : 0));
  proto_add(&r, "comp_id", g_comp_id);
  proto_add_u64(&r, "generation", g_generation);
  proto_add_u64(&r, "last_ckpt_generation", g_last_committed);
  proto_add(&r, "ckpt_dir", g_settings.ckptdir);
  char peer[512];
  snprintf(peer, sizeof peer, "%d\t%s\t%s\t%s\tRUNNING\t%d", (int)getpid(), g_upid, "localhost",
           g_program, (int)getpid());
  proto_add(&r, "peer", peer);
  proto_send(fd, &r);
}

/* Serves one dmtcp_command connection. Returns 1 in the restarted process,
 * where fd is no longer ours (the number may already be the program's). */
static int serve(int fd) {
  struct proto_msg m;
  fds_set_private(fd); /* our command connection: not the program's, never in the image */
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (proto_recv(fd, &m) == 0 && m.type == MSG_COMMAND) {
    char cmd[32], err[512];
    proto_get(&m, "command", cmd, sizeof cmd);
    if (!strcmp(cmd, "status") || !strcmp(cmd, "list")) {
      answer(fd, "DMT_COORD_SUCCESS");
    } else if (!strcmp(cmd, "checkpoint") || !strcmp(cmd, "bcheckpoint") || !strcmp(cmd, "kcheckpoint")) {
      int rc = checkpoint_alone(err, sizeof err);
      if (rc == 1) return 1;
      if (rc != 0) rt_log("checkpoint failed: ", err);
      answer(fd, rc == 0 ? "DMT_COORD_SUCCESS" : "DMT_COORD_CKPT_FAILED");
      if (rc == 0 && !strcmp(cmd, "kcheckpoint")) kill(getpid(), SIGKILL);
    } else if (!strcmp(cmd, "interval")) {
      g_settings.interval = (int)proto_get_ll(&m, "interval", g_settings.interval);
      answer(fd, "DMT_COORD_SUCCESS");
    } else if (!strcmp(cmd, "kill") || !strcmp(cmd, "quit")) {
      answer(fd, "DMT_COORD_SUCCESS");
      kill(getpid(), SIGKILL);
    } else {
      answer(fd, "DMT_COORD_ERROR");
    }
  }
  return 0;
}

void *standalone_thread(void *arg) {
  (void)arg;
  checkpoint_thread_setup();
  listen_again();
  long next = g_settings.interval > 0 ? rt_monotonic_ms() + g_settings.interval * 1000L : -1;
  for (;;) {
    long wait = next < 0 ? -1 : next - rt_monotonic_ms();
    struct pollfd p = {g_listen_fd, POLLIN, 0};
    int n = poll(&p, 1, wait < 0 ? -1 : (int)(wait > 0 ? wait : 0));
    if (n == 0) {
      char err[512];
      if (checkpoint_alone(err, sizeof err) < 0) rt_log("interval checkpoint failed: ", err);
    } else if (n > 0) {
      int fd = accept4(g_listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd >= 0 && serve(fd) == 0) close(fd);
    }
    next = g_settings.interval > 0 ? rt_monotonic_ms() + g_settings.interval * 1000L : -1;
  }
  return NULL;
}
