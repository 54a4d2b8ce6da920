/* Listing, electing and identifying the descriptors of the process (see
 * fds.h for the barrier steps). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

static struct fd_entry g_entries[FDS_MAX];
static uint32_t g_n;
static struct dmtcp_fd_extra g_extras[FDS_MAX_EXTRAS];
static uint32_t g_nextras;
static char g_strings[FDS_STRINGS];
static uint32_t g_strings_len;
static int g_private_fd = -1;
static struct fd_table g_table;
static int g_restarted; /* from the restart until the restart barrier's REFILLED */
int fds_restarted(void) { return g_restarted; }

void fds_set_private(int fd) { g_private_fd = fd; }

int fds_add_string(const char *s, uint32_t *off, uint32_t *len) {
  size_t n = strlen(s);
  if (g_strings_len + n + 1 > FDS_STRINGS) return -1;
  memcpy(g_strings + g_strings_len, s, n + 1);
  *off = g_strings_len;
  *len = (uint32_t)n;
  g_strings_len += (uint32_t)n + 1;
  return 0;
}

struct dmtcp_fd_extra *fds_add_extra(struct fd_entry *owner) {
  if (g_nextras == FDS_MAX_EXTRAS) return NULL;
  /* an entry's extras are contiguous: they are added while it is described */
  if (owner->rec.num_extras == 0) owner->rec.first_extra = g_nextras;
  owner->rec.num_extras++;
  struct dmtcp_fd_extra *x = &g_extras[g_nextras++];
  memset(x, 0, sizeof *x);
  return x;
}

static void fd_link(char *buf, pid_t pid, int fd) {
  size_t n;
  if (pid) {
    n = rt_strlcpy(buf, "/proc/", 64);
    n += rt_utoa(buf + n, (unsigned long)pid);
    n += rt_strlcpy(buf + n, "/fd/", 64 - n);
  } else {
    n = rt_strlcpy(buf, "/proc/self/fd/", 64);
  }
  rt_utoa(buf + n, (unsigned long)fd);
}

static void release(struct fd_entry *e) {
  fd_pipe_release(e);
  fd_unmap_contents(e);
}

static int add_fd(long number, void *arg) {
  (void)arg;
  int fd = (int)number;
  if (fd == g_coord_fd || fd == g_private_fd) return 0;
  if (posixmq_is_queue(fd)) return 0; /* POSIX message queues: posixmq.c saves and reopens them */
  if (g_n == FDS_MAX) {
    rt_log("more descriptors than a checkpoint can hold; the rest are not saved", NULL);
    return 1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  char link[64], target[1024];
  fd_link(link, 0, fd);
  ssize_t len = readlink(link, target, sizeof target - 1);
  if (len < 0) len = 0;
  target[len] = '\0';
  struct fd_entry *e = &g_entries[g_n];
  memset(e, 0, sizeof *e);
  struct dmtcp_fd_record *r = &e->rec;
  r->fd = fd;
  r->kind = fd_classify(fd, target, &st);
  r->fd_flags = (uint32_t)fcntl(fd, F_GETFD);
  r->status_flags = (uint32_t)fcntl(fd, F_GETFL);
  r->owner = fcntl(fd, F_GETOWN);
  e->saved_owner = r->owner;
  r->dev = (uint64_t)st.st_dev;
  r->ino = (uint64_t)st.st_ino;
  r->mode = (uint32_t)st.st_mode;
  r->size = (uint64_t)st.st_size;
  r->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  if (r->kind == DMTCP_FD_FILE || r->kind == DMTCP_FD_DIR || r->kind == DMTCP_FD_MEMFD)
    r->offset = lseek(fd, 0, SEEK_CUR);
  if (fds_add_string(target, &r->path_off, &r->path_len) != 0) return 1;
  g_n++;
  return 0;
}

void fds_scan(void) {
  for (uint32_t i = 0; i < g_n; i++) release(&g_entries[i]);
  g_n = 0;
  g_nextras = 0;
  g_strings_len = 0;
  fds_contents_reset();
  rt_each_numbered_entry("/proc/self/fd", 1, add_fd, NULL);
}

/* Every holder writes its pid as the description's owner; the open file is
 * shared, so after the barrier all holders read the same last writer. */
void fds_elect(void) {
  pid_t self = getpid();
  for (uint32_t i = 0; i < g_n; i++) fcntl(g_entries[i].rec.fd, F_SETOWN, self);
  fds_publish_sockets();
}

/* ---- identity --------------------------------------------------------------
 * The identity of a description is (leader pid, the leader's lowest
 * descriptor of it). kcmp(KCMP_FILE) tells whether two descriptors, in this
 * process or another, are one open file, and orders them consistently, so the
 * descriptors of a process are sorted once and each lookup is a binary
 * search. */

static long kcmp_file(pid_t a, pid_t b, int fa, int fb) {
  return syscall(SYS_kcmp, a, b, KCMP_FILE, fa, fb);
}

struct peer_fd { int fd; uint64_t dev, ino; };

/* <0, 0, >0 as descriptor fa of a sorts before, with, after fb of b; 0 also
 * when kcmp cannot tell (then they are treated as one only by number). */
static int order(pid_t a, int fa, uint64_t deva, uint64_t inoa, pid_t b, int fb, uint64_t devb, uint64_t inob) {
  if (deva != devb) return deva < devb ? -1 : 1;
  if (inoa != inob) return inoa < inob ? -1 : 1;
  long k = kcmp_file(a, b, fa, fb);
  if (k == 0) return 0;
  if (k == 1) return -1;
  if (k == 2) return 1;
  return a == b && fa == fb ? 0 : (fa < fb ? -1 : 1);  /* kcmp refused: numbers order them */
}

/* In-place heap sort (no malloc), by order() within process pid. */
static void sort_fds(struct peer_fd *v, uint32_t n, pid_t pid) {
  for (uint32_t start = n / 2; n > 1;) {
    uint32_t root;
    if (start > 0) {
      root = --start;
    } else {
      struct peer_fd t = v[0];
      v[0] = v[--n];
      v[n] = t;
      root = 0;
    }
    for (;;) {
      uint32_t child = 2 * root + 1;
      if (child >= n) break;
      if (child + 1 < n && order(pid, v[child].fd, v[child].dev, v[child].ino, pid, v[child + 1].fd,
                                 v[child + 1].dev, v[child + 1].ino) < 0)
        child++;
      if (order(pid, v[root].fd, v[root].dev, v[root].ino, pid, v[child].fd, v[child].dev, v[child].ino) >= 0)
        break;
      struct peer_fd t = v[root];
      v[root] = v[child];
      v[child] = t;
      root = child;
    }
  }
}

/* The lowest descriptor of pid's sorted list v that is the same open file as
 * fd of self, or -1. */
static int find_same(const struct peer_fd *v, uint32_t n, pid_t pid, pid_t self, int fd, uint64_t dev, uint64_t ino) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (order(pid, v[mid].fd, v[mid].dev, v[mid].ino, self, fd, dev, ino) < 0) lo = mid + 1;
    else hi = mid;
  }
  int best = -1;
  for (uint32_t k = lo; k < n && order(pid, v[k].fd, v[k].dev, v[k].ino, self, fd, dev, ino) == 0; k++)
    if (best < 0 || v[k].fd < best) best = v[k].fd;
  return best;
}

static struct peer_fd g_own[FDS_MAX], g_peer[FDS_MAX];

struct peer_scan { pid_t pid; uint32_t n; };

static int add_peer_fd(long number, void *arg) {
  struct peer_scan *s = arg;
  if (s->n == FDS_MAX) return 1;
  char link[64];
  fd_link(link, s->pid, (int)number);
  struct stat st;
  if (stat(link, &st) != 0) return 0;
  g_peer[s->n++] = (struct peer_fd){(int)number, (uint64_t)st.st_dev, (uint64_t)st.st_ino};
  return 0;
}

void fds_identify(void) {
  pid_t self = getpid();
  for (uint32_t i = 0; i < g_n; i++)
    g_own[i] = (struct peer_fd){g_entries[i].rec.fd, g_entries[i].rec.dev, g_entries[i].rec.ino};
  sort_fds(g_own, g_n, self);
  /* Descriptions led by another member: one pass per leader (usually one or two). */
  for (uint32_t i = 0; i < g_n; i++) {
    struct dmtcp_fd_record *r = &g_entries[i].rec;
    if (g_entries[i].identified) continue;
    g_entries[i].identified = 1;
    int owner = fcntl(r->fd, F_GETOWN);
    r->desc_pid = (uint32_t)(owner > 0 ? owner : self);
    r->desc_fd = -1;
  }
  for (uint32_t i = 0; i < g_n; i++) {
    struct dmtcp_fd_record *r = &g_entries[i].rec;
    if (r->desc_fd >= 0) continue;
    pid_t leader = (pid_t)r->desc_pid;
    if (leader == self) {
      r->desc_fd = find_same(g_own, g_n, self, self, r->fd, r->dev, r->ino);
      if (r->desc_fd < 0) r->desc_fd = r->fd;
      r->flags |= r->desc_fd == r->fd ? DMTCP_FDF_LEADER : 0;
      continue;
    }
    char dir[64];
    size_t n = rt_strlcpy(dir, "/proc/", sizeof dir);
    n += rt_utoa(dir + n, (unsigned long)leader);
    rt_strlcpy(dir + n, "/fd", sizeof dir - n);
    struct peer_scan s = {leader, 0};
    int listed = rt_each_numbered_entry(dir, 0, add_peer_fd, &s) == 0;
    if (listed) sort_fds(g_peer, s.n, leader);
    for (uint32_t k = i; k < g_n; k++) {
      struct dmtcp_fd_record *q = &g_entries[k].rec;
      if (q->desc_fd >= 0 || (pid_t)q->desc_pid != leader) continue;
      q->desc_fd = listed ? find_same(g_peer, s.n, leader, self, q->fd, q->dev, q->ino) : -1;
      if (q->desc_fd < 0) { /* the owner is not a member, or kcmp is refused: our own */
        q->desc_pid = (uint32_t)self;
        q->desc_fd = find_same(g_own, g_n, self, self, q->fd, q->dev, q->ino);
        if (q->desc_fd < 0) q->desc_fd = q->fd;
        q->flags |= q->desc_fd == q->fd ? DMTCP_FDF_LEADER : 0;
      }
    }
  }
}

void fds_drain(void) {
  fds_find_socket_peers();
  uint32_t before = g_n;
  fds_drain_sockets();
  if (g_n != before) fds_identify(); /* descriptors that were in flight */
  for (uint32_t i = 0; i < g_n; i++) {
    struct fd_entry *e = &g_entries[i];
    if ((e->rec.flags & DMTCP_FDF_LEADER) &&
        (e->rec.kind == DMTCP_FD_PIPE_READ || (e->rec.kind == DMTCP_FD_FIFO && (e->rec.status_flags & O_ACCMODE) != O_WRONLY)))
      fd_pipe_drain(e);
    else if ((e->rec.flags & DMTCP_FDF_LEADER) && e->rec.kind == DMTCP_FD_PTY_MASTER)
      fd_pty_drain(e);
  }
}

void fds_describe(void) {
  for (uint32_t i = 0; i < g_n; i++) {
    struct fd_entry *e = &g_entries[i];
    fd_describe_kind(e);
    fd_describe_locks(e);
    fd_map_contents(e);
  }
}

/* A descriptor's own state put back: its pipe's or pty pair's bytes, its contents, its owner. */
static void resume_entry(struct fd_entry *e) {
  if (e->rec.kind == DMTCP_FD_PIPE_READ || e->rec.kind == DMTCP_FD_FIFO) fd_pipe_refill(e);
  if (e->rec.kind == DMTCP_FD_PTY_MASTER) fd_pty_refill(e);
  fd_unmap_contents(e);
  fcntl(e->rec.fd, F_SETOWN, e->saved_owner);
}

void fds_resume(void) {
  /* Descriptors that were in flight go back with the bytes they came with and
   * are closed then (fds_refill_sockets): a pipe among them that was drained
   * gets its bytes back first, or they would be lost with it. */
  for (uint32_t i = 0; i < g_n; i++)
    if (g_entries[i].rec.fd >= 0 && (g_entries[i].rec.flags & DMTCP_FDF_IN_FLIGHT)) resume_entry(&g_entries[i]);
  fds_refill_sockets();
  for (uint32_t i = 0; i < g_n; i++)
    if (g_entries[i].rec.fd >= 0 && !(g_entries[i].rec.flags & DMTCP_FDF_IN_FLIGHT)) resume_entry(&g_entries[i]);
  g_restarted = 0; /* the next REFILLED is an ordinary checkpoint's */
}


void fds_after_restart(void) {
  g_restarted = 1;
  for (uint32_t i = 0; i < g_n; i++) {
    g_entries[i].map = NULL;
    g_entries[i].map_len = 0;
  }
}

void fds_add_in_flight(struct fd_entry *carrier, int fd, size_t at) {
  uint32_t before = g_n;
  add_fd(fd, NULL);
  if (g_n == before) {
    close(fd);
    return;
  }
  struct fd_entry *e = &g_entries[g_n - 1];
  e->rec.flags |= DMTCP_FDF_IN_FLIGHT;
  e->carrier = (int)(carrier - g_entries) + 1;
  e->in_flight_at = at;
  e->saved_owner = fcntl(fd, F_GETOWN);
}

/* In the order they came (entries are added in that order). */
int fds_in_flight_of(const struct fd_entry *carrier, int *out, size_t *at, int cap) {
  int n = 0, idx = (int)(carrier - g_entries) + 1;
  for (uint32_t i = 0; i < g_n && n < cap; i++)
    if (g_entries[i].carrier == idx && g_entries[i].rec.fd >= 0) {
      if (out) out[n] = g_entries[i].rec.fd;
      if (at) at[n] = g_entries[i].in_flight_at;
      n++;
    }
  return n;
}

void fds_close_in_flight(const struct fd_entry *carrier) {
  int idx = (int)(carrier - g_entries) + 1;
  for (uint32_t i = 0; i < g_n; i++)
    if (g_entries[i].carrier == idx && g_entries[i].rec.fd >= 0) {
      close(g_entries[i].rec.fd);
      g_entries[i].rec.fd = -1; /* gone to the peer: nothing of it to restore here */
      g_entries[i].carrier = 0;
    }
}

const struct fd_table *fds_table(void) {
  g_table.entries = g_entries;
  g_table.n = g_n;
  g_table.extras = g_extras;
  g_table.nextras = g_nextras;
  g_table.strings = g_strings;
  g_table.strings_len = g_strings_len;
  return &g_table;
}

struct dmtcp_fd_record *fds_record_of_mapping(uint64_t start, uint64_t end) {
  for (uint32_t i = 0; i < g_n; i++) {
    struct fd_entry *e = &g_entries[i];
    uint64_t a = (uint64_t)(uintptr_t)e->map;
    if (e->map && start >= a && end <= a + e->map_len) return &e->rec;
  }
  return NULL;
}
