/* POSIX message queues (mq_open: a descriptor on the mqueue filesystem)
 * across a checkpoint. A queue has no way to read its messages without
 * taking them, so it is handled like a pipe (pipes.c): drained by one
 * process and filled again. Barrier steps, on the checkpoint thread while
 * every user thread of every member is parked (no malloc, no stdio):
 *   SUSPENDED           posixmq_scan: list the queue descriptors (name,
 *                       attributes, flags);
 *   FD_LEADER_ELECTION  for each queue, every holder takes an exclusive flock
 *                       on a descriptor of its own: the one that gets it (one
 *                       per queue, whoever opened it and however) drains it;
 *   DRAINED             the leader takes every message out, in order (highest
 *                       priority first, oldest first), into memory that is
 *                       part of the image;
 *   CHECKPOINTED        the IPC table lists each queue (sysv.c), the leader's
 *                       record with its messages;
 *   REFILLED / ABORT    the leader sends them back in the same order, which
 *                       rebuilds the same queue.
 * At restart dmtcp_restart recreates each queue in the new IPC namespace,
 * with its attributes and the leader's messages (sysv_restore.c); each
 * process then reopens its descriptors by name at their old numbers with
 * their flags, and one that had been unlinked is unlinked again at
 * NS_RESOLVED, when every process has reopened it. Restarted without an IPC
 * namespace, a process creates a queue that does not exist and the leader
 * fills it; one that exists (the host's) is used as it is. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "runtime.h"

#define MQUEUE_MAGIC 0x19800202
#define MAX_MQ_FDS 64

struct mq_fd {
  int fd, status_flags, fd_flags;
  uint64_t ino;
  char name[256];           /* "/name" */
  int unlinked;
  uint32_t mode, uid, gid;
  long maxmsg, msgsize;
  int first;                /* the first descriptor of its queue here */
  int lock_fd;              /* the leader's flock'ed descriptor, or -1 */
  char *data;               /* drained messages as the IPC table lays them out (rt_mmap) */
  size_t len, cap;
  uint32_t count;
};

static struct mq_fd g_mq[MAX_MQ_FDS];
static int g_nmq;

int posixmq_is_queue(int fd) {
  struct statfs sf;
  return fstatfs(fd, &sf) == 0 && sf.f_type == MQUEUE_MAGIC;
}

static void fd_path(char *buf, int fd) {
  size_t n = rt_strlcpy(buf, "/proc/self/fd/", 32);
  rt_utoa(buf + n, (unsigned long)fd);
}

static void release(struct mq_fd *q) {
  if (q->data) rt_munmap(q->data, q->cap);
  q->data = NULL;
  q->len = q->cap = 0;
  q->count = 0;
  if (q->lock_fd >= 0) close(q->lock_fd); /* the flock goes with it */
  q->lock_fd = -1;
}

static int add_if_queue(long number, void *arg) {
  (void)arg;
  int fd = (int)number;
  if (fd == g_coord_fd || !posixmq_is_queue(fd)) return 0;
  if (g_nmq == MAX_MQ_FDS) {
    rt_log("more than 64 POSIX message queue descriptors; the rest are not saved", NULL);
    return 1;
  }
  struct mq_fd *q = &g_mq[g_nmq];
  memset(q, 0, sizeof *q);
  q->lock_fd = -1;
  char link[64];
  fd_path(link, fd);
  ssize_t n = readlink(link, q->name, sizeof q->name - 1);
  struct stat st;
  struct mq_attr attr;
  if (n <= 1 || q->name[0] != '/' || fstat(fd, &st) != 0 || mq_getattr(fd, &attr) != 0) return 0;
  q->name[n] = '\0';
  static const char deleted[] = " (deleted)";
  size_t dl = sizeof deleted - 1;
  if ((size_t)n > dl && strcmp(q->name + n - dl, deleted) == 0) {
    q->name[n - dl] = '\0';
    q->unlinked = 1;
  }
  q->fd = fd;
  q->status_flags = fcntl(fd, F_GETFL);
  q->fd_flags = fcntl(fd, F_GETFD);
  q->ino = (uint64_t)st.st_ino;
  q->mode = st.st_mode & 0777;
  q->uid = st.st_uid;
  q->gid = st.st_gid;
  q->maxmsg = attr.mq_maxmsg;
  q->msgsize = attr.mq_msgsize;
  q->first = 1;
  for (int k = 0; k < g_nmq; k++)
    if (g_mq[k].ino == q->ino) q->first = 0;
  g_nmq++;
  return 0;
}

void posixmq_scan(void) {
  for (int i = 0; i < g_nmq; i++) release(&g_mq[i]);
  g_nmq = 0;
  rt_each_numbered_entry("/proc/self/fd", 1, add_if_queue, NULL);
}

void posixmq_elect(void) {
  for (int i = 0; i < g_nmq; i++) {
    struct mq_fd *q = &g_mq[i];
    if (!q->first) continue;
    char path[64];
    fd_path(path, q->fd);
    /* a descriptor of our own: a shared open file would let every sharer "win" */
    q->lock_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (q->lock_fd >= 0 && flock(q->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      close(q->lock_fd);
      q->lock_fd = -1;
    }
  }
}

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

void posixmq_drain(void) {
  for (int i = 0; i < g_nmq; i++) {
    struct mq_fd *q = &g_mq[i];
    if (q->lock_fd < 0) continue;
    size_t slot = round8(sizeof(struct dmtcp_ipc_msg) + (size_t)q->msgsize);
    q->cap = ((size_t)q->maxmsg * slot + 4095) & ~(size_t)4095;
    q->data = rt_mmap(q->cap);
    if (!q->data) {
      rt_log("out of memory draining POSIX message queue ", q->name);
      continue;
    }
    while (q->cap - q->len >= slot) {
      char *p = q->data + q->len;
      unsigned prio;
      ssize_t got = mq_receive(q->lock_fd, p + sizeof(struct dmtcp_ipc_msg), (size_t)q->msgsize, &prio);
      if (got < 0) {
        if (errno == EINTR) continue;
        break; /* EAGAIN: empty */
      }
      struct dmtcp_ipc_msg m = {.type = prio, .len = (uint32_t)got, .reserved = 0};
      memcpy(p, &m, sizeof m);
      q->len += round8(sizeof m + (size_t)got);
      q->count++;
    }
  }
}

/* Back into the queue behind descriptor fd, in the order they came out. */
static void send_back(struct mq_fd *q) {
  char path[64];
  fd_path(path, q->fd);
  int wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  size_t off = 0;
  uint32_t sent = 0;
  while (wfd >= 0 && sent < q->count) {
    struct dmtcp_ipc_msg m;
    memcpy(&m, q->data + off, sizeof m);
    if (mq_send(wfd, q->data + off + sizeof m, m.len, (unsigned)m.type) != 0) {
      if (errno == EINTR) continue;
      break;
    }
    off += round8(sizeof m + m.len);
    sent++;
  }
  if (sent < q->count) rt_log("a POSIX message queue could not take back all of its messages: ", q->name);
  if (wfd >= 0) close(wfd);
}

static int g_refill_after_restart = 1;

void posixmq_refill(void) {
  for (int i = 0; i < g_nmq; i++) {
    struct mq_fd *q = &g_mq[i];
    if (q->data && q->count && g_refill_after_restart) send_back(q);
    release(q);
  }
  g_refill_after_restart = 1;
}

/* ---- the IPC table (sysv.c writes it) ---------------------------------- */

uint32_t posixmq_nrecords(void) {
  uint32_t n = 0;
  for (int i = 0; i < g_nmq; i++) n += (uint32_t)g_mq[i].first;
  return n;
}

size_t posixmq_payload_cap(void) {
  size_t n = 0;
  for (int i = 0; i < g_nmq; i++) n += g_mq[i].first ? round8(g_mq[i].len) : 0;
  return n;
}

/* Record k (of posixmq_nrecords) and its messages, if this process drained
 * the queue, into payload (room bytes); returns the payload's length. */
size_t posixmq_record(uint32_t k, struct dmtcp_ipc_record *rec, char *payload, size_t room) {
  for (int i = 0; i < g_nmq; i++) {
    struct mq_fd *q = &g_mq[i];
    if (!q->first || k--) continue;
    memset(rec, 0, sizeof *rec);
    rec->kind = DMTCP_IPC_MQ;
    rec->id = -1;
    rec->mode = q->mode;
    rec->uid = q->uid;
    rec->gid = q->gid;
    rec->size = (uint64_t)q->msgsize;
    rec->limit = (uint64_t)q->maxmsg;
    rt_strlcpy(rec->name, q->name, sizeof rec->name);
    if (q->unlinked) rec->flags |= DMTCP_IPCF_REMOVED;
    if (q->lock_fd >= 0 && q->data && q->len <= room) {
      rec->flags |= DMTCP_IPCF_MESSAGES;
      rec->count = q->count;
      memcpy(payload, q->data, q->len);
      return q->len;
    }
    return 0;
  }
  return 0;
}

/* ---- after a restart --------------------------------------------------------- */

static int g_restored;

void posixmq_restarted(uint32_t restore_flags) {
  g_restored = (restore_flags & DMTCP_RI_IPC_RESTORED) != 0;
  /* dmtcp_restart filled the recreated queues already */
  g_refill_after_restart = !g_restored;
  int created_here[MAX_MQ_FDS];
  for (int i = 0; i < g_nmq; i++) {
    struct mq_fd *q = &g_mq[i];
    q->lock_fd = -1; /* that descriptor was the checkpointed process's */
    created_here[i] = 0;
    int access = q->status_flags & O_ACCMODE;
    mqd_t m = mq_open(q->name, access | O_CLOEXEC);
    if (m < 0 && !g_restored && errno == ENOENT) {
      struct mq_attr attr = {.mq_maxmsg = q->maxmsg, .mq_msgsize = q->msgsize};
      mode_t old = umask(0);
      m = mq_open(q->name, access | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)q->mode, &attr);
      umask(old);
      created_here[i] = m >= 0;
    }
    if (m < 0) {
      rt_log("restart: cannot reopen POSIX message queue ", q->name);
      continue;
    }
    if (m != q->fd) {
      dup2(m, q->fd);
      close(m);
    }
    fcntl(q->fd, F_SETFL, q->status_flags & O_NONBLOCK);
    fcntl(q->fd, F_SETFD, q->fd_flags);
  }
  /* Without the namespace: only a queue this process made is filled; one
   * that exists is the host's, with its own messages. */
  for (int i = 0; i < g_nmq && !g_restored; i++) {
    struct mq_fd *q = &g_mq[i];
    int made = 0;
    for (int k = 0; k < g_nmq; k++) made |= g_mq[k].ino == q->ino && created_here[k];
    if (q->data && q->count && !made) {
      rt_log("restart: POSIX message queue exists already; its messages at the checkpoint are not put back: ", q->name);
      rt_munmap(q->data, q->cap);
      q->data = NULL;
      q->count = 0;
    }
  }
}

void posixmq_restart_resolved(void) {
  if (!g_restored) return;
  for (int i = 0; i < g_nmq; i++)
    if (g_mq[i].first && g_mq[i].unlinked && mq_unlink(g_mq[i].name) != 0 && errno != ENOENT)
      rt_log("restart: cannot unlink POSIX message queue again: ", g_mq[i].name);
}
