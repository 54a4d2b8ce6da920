/* The process's connection to the coordinator, a resource of its own.
 *
 * One socket per member process. It is read by the checkpoint thread only,
 * one whole message at a time, holding the reader lock: an exec takes that
 * lock, so the checkpoint thread is never in the middle of a message when
 * the connection is handed to the new program image (exec.c), and a message
 * it has not read yet stays in the socket for the new image's checkpoint
 * thread. It is written by the checkpoint thread and by user threads (EXPECT
 * before a fork, UPDATE after an exec, BYE at exit), one whole frame at a
 * time under the send lock.
 *
 * A forked child does not wait for the coordinator: its parent connects for
 * it before the fork and announces it on its own connection (EXPECT), so the
 * coordinator knows a process is on its way before anything the parent says
 * next (docs/protocol.md 3.9); the child only sends its HELLO, and its
 * checkpoint thread reads the WELCOME. No malloc, no stdio below. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/protocol.h"
#include "runtime.h"

int g_coord_fd = -1;
pid_t g_coord_owner;
int g_welcome_pending;

static _Atomic int g_send_lock;   /* 0 free, 1 held, 2 held and someone waits */
static _Atomic int g_reader;      /* the same */
static _Atomic int g_reader_tid;  /* the thread that holds g_reader */
static unsigned long g_child_tokens;

/* A futex lock that costs one atomic operation when nobody waits (no system
 * call: every message a process sends takes it). Async-signal-safe. */
static void lock_word(_Atomic int *w) {
  int c = 0;
  if (atomic_compare_exchange_strong(w, &c, 1)) return;
  if (c != 2) c = atomic_exchange(w, 2);
  while (c != 0) {
    futex_wait(w, 2);
    c = atomic_exchange(w, 2);
  }
}

static void unlock_word(_Atomic int *w) {
  if (atomic_exchange(w, 0) == 2) futex_wake(w);
}

int coord_is_mine(void) {
  return g_coord_fd >= 0 && !g_settings.standalone && (pid_t)syscall(SYS_getpid) == g_coord_owner;
}

/* Every signal is blocked while the send lock is held: a user thread parked
 * by a checkpoint with the lock in hand would stop the checkpoint thread's
 * own messages. Async-signal-safe. */
int coord_send_on(int fd, const struct proto_msg *m) {
  sigset_t all, old;
  sigfillset(&all);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
  lock_word(&g_send_lock);
  int rc = proto_send(fd, m);
  unlock_word(&g_send_lock);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
  return rc;
}

int coord_send(const struct proto_msg *m) { return coord_send_on(g_coord_fd, m); }

/* In a forked child, where only the forking thread exists: a lock another
 * thread of the parent held (the checkpoint thread reads a message while the
 * program forks) would be held for ever. */
void coord_after_fork_child(void) {
  atomic_store(&g_send_lock, 0);
  atomic_store(&g_reader, 0);
  atomic_store(&g_reader_tid, 0);
}

int coord_reader_lock(void) {
  int me = (int)rt_gettid();
  if (atomic_load(&g_reader_tid) == me) return 0; /* an exec from a signal handler inside an exec */
  lock_word(&g_reader);
  atomic_store(&g_reader_tid, me);
  return 1;
}

void coord_reader_unlock(void) {
  atomic_store(&g_reader_tid, 0);
  unlock_word(&g_reader);
}

/* Waits until a message (or the end of the connection) can be read. */
int coord_wait_readable(void) {
  struct pollfd p = {.fd = g_coord_fd, .events = POLLIN};
  for (;;) {
    int r = poll(&p, 1, -1);
    if (r > 0) return 0;
    if (r < 0 && errno != EINTR) return -1;
  }
}

/* Moves a socket to a high descriptor, out of the program's way. */
int coord_high_fd(int fd) {
  struct rlimit rl;
  int floor = 1000;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1100) floor = (int)rl.rlim_cur - 64;
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, floor > 3 ? floor : 3);
  if (nfd < 0) return fd;
  close(fd);
  return nfd;
}

/* A new connection to the coordinator this process is connected to (its
 * address as the kernel has it: no name lookup). -1 if it cannot be made. */
static int connect_like_mine(void) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  if (getpeername(g_coord_fd, (struct sockaddr *)&peer, &len) != 0) return -1;
  int fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int r;
  do r = connect(fd, (struct sockaddr *)&peer, len); while (r != 0 && errno == EINTR);
  if (r != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return coord_high_fd(fd);
}

/* Before a fork (the fork guard held): the child's connection, announced.
 * ATTACH names the child on its own connection, EXPECT on ours: whatever we
 * send later (REACHED SUSPENDED, BYE, the end of the connection) reaches the
 * coordinator after it knows a child is on its way, and the child's HELLO or
 * the end of its connection settles it (docs/protocol.md 3.9). -1: the child
 * will connect on its own, as a process started by exec does. */
int coord_connect_for_child(void) {
  if (!coord_is_mine()) return -1;
  int fd = connect_like_mine();
  if (fd < 0) return -1;
  char token[128];
  size_t n = rt_strlcpy(token, g_upid, sizeof token - 24);
  token[n++] = '#';
  rt_utoa(token + n, ++g_child_tokens);
  struct proto_msg m;
  proto_init(&m, MSG_ATTACH);
  proto_add(&m, "parent", g_upid);
  proto_add(&m, "token", token);
  int ok = proto_send(fd, &m) == 0;
  proto_init(&m, MSG_EXPECT);
  proto_add(&m, "token", token);
  if (!ok || coord_send(&m) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int coord_is_socket(int fd) {
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}
