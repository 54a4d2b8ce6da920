/* Sockets at restart (the making; fdrestore.h for the placing).
 *
 * A listener is bound to its address and listens again; a bound datagram
 * socket is bound again. A connection whose both ends are restarted here is
 * made again as a connection: a socketpair for Unix sockets, a real TCP
 * connection for TCP (the listening end accepts it, so its own address is the
 * one it had; the connecting end gets its old port back when it is free). A
 * connection still waiting in a listener's backlog connects again and stays
 * there. A socket whose peer is a member restarted elsewhere gets a socket of
 * its kind, which the runtime connects to the peer through the coordinator's
 * name service before the program runs (fds/fd_sockets.c); one whose peer is
 * outside the computation gets a socket that is not connected: reading and
 * writing fail, as after the peer went away. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sockopts.h"
#include "restart/fds/fdr_internal.h"

struct addr { struct sockaddr_storage sa; socklen_t len; int have; };

static struct addr address(const struct fdr_desc *d, uint32_t which) {
  struct addr a;
  memset(&a, 0, sizeof a);
  size_t n = image_socket_address(d->img, d->rec, which, &a.sa, sizeof a.sa);
  a.len = (socklen_t)n;
  a.have = n > 0;
  return a;
}

static int same(const struct addr *a, const struct addr *b) {
  return a->have && b->have && a->len == b->len && !memcmp(&a->sa, &b->sa, a->len);
}

static int named_unix(const struct addr *a) {
  return a->have && a->sa.ss_family == AF_UNIX && a->len > sizeof(sa_family_t);
}

static void note(const struct fdr_desc *d, const char *fmt, const char *what) {
  if (g_fdr.quiet) return;
  fprintf(stderr, "dmtcp_restart: note: %s: descriptor %d: ", d->img->path, d->rec->fd);
  fprintf(stderr, fmt, what);
  fputc('\n', stderr);
}

static int int_opt_set(int fd, int level, int name, int v) { return setsockopt(fd, level, name, &v, sizeof v); }

static void apply_options(int fd, const struct dmtcp_fd_record *r) { sockopts_apply(fd, r); }

static int new_socket(const struct dmtcp_fd_record *r) {
  int fd = socket((int)r->u[0], (int)r->u[1] | SOCK_CLOEXEC, (int)r->u[2]);
  if (fd >= 0) apply_options(fd, r);
  return fd;
}

/* The program's status flags (O_NONBLOCK, O_ASYNC) once it is made. */
static int finish(int fd, const struct dmtcp_fd_record *r) {
  if (fd >= 0) fcntl(fd, F_SETFL, (int)(r->status_flags & (O_NONBLOCK | O_ASYNC)));
  return fd;
}

/* A Unix name left by the killed process is removed; one someone listens on is kept. */
static void clear_stale_name(const struct addr *a) {
  const struct sockaddr_un *un = (const struct sockaddr_un *)&a->sa;
  if (un->sun_path[0] == '\0') return; /* abstract: nothing on disk */
  struct stat st;
  if (lstat(un->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return;
  if (connect(probe, (const struct sockaddr *)&a->sa, a->len) != 0 && errno == ECONNREFUSED) unlink(un->sun_path);
  close(probe);
}

static int bind_again(int fd, const struct fdr_desc *d, const struct addr *local) {
  if (local->sa.ss_family == AF_UNIX) clear_stale_name(local);
  if (bind(fd, (const struct sockaddr *)&local->sa, local->len) == 0) return 0;
  if (local->sa.ss_family == AF_UNIX) {
    note(d, "its address is taken (%s); it is not bound", strerror(errno));
    return -1;
  }
  /* a port someone else has now: the same address on another port */
  struct addr other = *local;
  if (other.sa.ss_family == AF_INET) ((struct sockaddr_in *)&other.sa)->sin_port = 0;
  else ((struct sockaddr_in6 *)&other.sa)->sin6_port = 0;
  if (bind(fd, (const struct sockaddr *)&other.sa, other.len) == 0) {
    note(d, "its port is taken (%s); it listens on another port", strerror(errno));
    return 0;
  }
  return -1;
}

/* ---- what is made ------------------------------------------------------------ */

struct made_sock { const struct fdr_desc *d; int fd; };
static struct made_sock *g_made;
static int g_nmade;

static int made_fd(const struct fdr_desc *d) {
  for (int k = 0; k < g_nmade; k++)
    if (g_made[k].d == d) return g_made[k].fd;
  return -1;
}

static void keep(const struct fdr_desc *d, int fd) { g_made[g_nmade++] = (struct made_sock){d, fd}; }

static uint64_t state(const struct fdr_desc *d) { return d->rec->u[3]; }

static int same_host(const struct fdr_desc *a, const struct fdr_desc *b) {
  return !strcmp(a->img->h->hostname, b->img->h->hostname);
}

/* The other end of d's connection among the descriptions restarted here. */
static const struct fdr_desc *local_peer(const struct fdr_desc *d) {
  const struct dmtcp_fd_record *r = d->rec;
  struct addr mine = address(d, 0), theirs = address(d, 1);
  for (int m = 0; m < g_fdr.ndescs; m++) {
    const struct fdr_desc *p = &g_fdr.descs[m];
    const struct dmtcp_fd_record *q = p->rec;
    if (p == d || q->kind != DMTCP_FD_SOCKET || q->u[0] != r->u[0] || q->u[1] != r->u[1] ||
        !(q->u[3] & DMTCP_SK_CONNECTED) || !same_host(d, p))
      continue;
    if (r->u[0] == AF_UNIX) {
      if (r->u[5] && q->u[4] == r->u[5] && q->u[5] == r->u[4]) return p;
    } else {
      struct addr pm = address(p, 0), pt = address(p, 1);
      if (same(&mine, &pt) && same(&theirs, &pm)) return p;
    }
  }
  return NULL;
}

static const struct fdr_desc *local_listener(const struct fdr_desc *d, const struct addr *at) {
  for (int m = 0; m < g_fdr.ndescs; m++) {
    const struct fdr_desc *p = &g_fdr.descs[m];
    if (p->rec->kind != DMTCP_FD_SOCKET || !(p->rec->u[3] & DMTCP_SK_LISTENING) || p->rec->u[1] != d->rec->u[1] ||
        !same_host(d, p))
      continue;
    struct addr la = address(p, 0), moved = address(p, 2);
    if (same(&la, at) || same(&moved, at)) return p;
  }
  return NULL;
}

static int make_listener(const struct fdr_desc *d) {
  int fd = new_socket(d->rec);
  struct addr local = address(d, 0);
  if (fd < 0) return -1;
  if (local.have && bind_again(fd, d, &local) == 0 && listen(fd, SOMAXCONN) != 0)
    note(d, "cannot listen again: %s", strerror(errno));
  return finish(fd, d->rec);
}

/* A TCP connection again: the end that was accepted is accepted (from its
 * listener, made first, or a listener of the moment on its address), the
 * other connects, from its old port when it can. */
static int make_tcp_pair(const struct fdr_desc *a, const struct fdr_desc *b, int *fa, int *fb) {
  const struct fdr_desc *server = a, *client = b;
  struct addr sa = address(a, 0);
  if (!local_listener(a, &sa)) {
    struct addr sb = address(b, 0);
    if (local_listener(b, &sb)) {
      server = b;
      client = a;
    }
  }
  struct addr s_addr = address(server, 0), c_addr = address(client, 0);
  const struct fdr_desc *l = local_listener(server, &s_addr);
  int lfd = l ? made_fd(l) : -1, temp = -1;
  struct sockaddr_storage at;
  socklen_t at_len = sizeof at;
  if (lfd < 0) {
    temp = new_socket(server->rec);
    int_opt_set(temp, SOL_SOCKET, SO_REUSEADDR, 1);
    if (temp < 0 || bind_again(temp, server, &s_addr) != 0 || listen(temp, 1) != 0) {
      if (temp >= 0) close(temp);
      return -1;
    }
    lfd = temp;
  }
  if (getsockname(lfd, (struct sockaddr *)&at, &at_len) != 0) at_len = 0;
  int c = new_socket(client->rec);
  if (c < 0) return -1;
  int_opt_set(c, SOL_SOCKET, SO_REUSEADDR, 1);
  if (c_addr.have && bind(c, (const struct sockaddr *)&c_addr.sa, c_addr.len) != 0) {
    /* its old port is not free: another one (a new socket, as bind cannot be undone) */
    close(c);
    c = new_socket(client->rec);
  }
  if (c < 0 || connect(c, (struct sockaddr *)&at, at_len) != 0) {
    if (c >= 0) close(c);
    if (temp >= 0) close(temp);
    return -1;
  }
  int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (temp >= 0) close(temp);
  if (s < 0) {
    close(c);
    return -1;
  }
  apply_options(s, server->rec);
  *fa = server == a ? s : c;
  *fb = server == a ? c : s;
  return 0;
}

int fdr_make_socket(const struct fdr_desc *d) {
  int done = made_fd(d);
  if (done >= 0) return fcntl(done, F_DUPFD_CLOEXEC, 0);
  const struct dmtcp_fd_record *r = d->rec;
  uint64_t st = state(d);
  if (st & DMTCP_SK_LISTENING) return make_listener(d);
  struct addr local = address(d, 0), peer = address(d, 1);
  if (!(st & DMTCP_SK_CONNECTED) || r->u[1] == SOCK_DGRAM) {
    /* not connected, or a datagram socket (connect only names the peer) */
    int fd = new_socket(r);
    if (fd >= 0 && (st & DMTCP_SK_BOUND) && local.have) bind_again(fd, d, &local);
    if (fd >= 0 && (st & DMTCP_SK_CONNECTED) && peer.have && (r->u[0] != AF_UNIX || named_unix(&peer)) &&
        connect(fd, (const struct sockaddr *)&peer.sa, peer.len) != 0)
      note(d, "its datagram peer is not there yet (%s)", strerror(errno));
    if (fd >= 0 && (st & DMTCP_SK_CONNECTED) && r->u[0] == AF_UNIX && !named_unix(&peer)) {
      /* a datagram socketpair */
      const struct fdr_desc *p = local_peer(d);
      if (p && made_fd(p) < 0) {
        int sv[2];
        close(fd);
        if (socketpair(AF_UNIX, (int)r->u[1] | SOCK_CLOEXEC, 0, sv) != 0) return -1;
        keep(p, finish(sv[1], p->rec));
        fd = sv[0];
      }
    }
    return finish(fd, r);
  }
  /* a connection */
  const struct fdr_desc *p = local_peer(d);
  if (p) {
    int mine = -1, theirs = -1;
    if (r->u[0] == AF_UNIX) {
      int sv[2];
      if (socketpair(AF_UNIX, (int)r->u[1] | SOCK_CLOEXEC, 0, sv) != 0) return -1;
      mine = sv[0];
      theirs = sv[1];
      apply_options(mine, r);
      apply_options(theirs, p->rec);
    } else if (make_tcp_pair(d, p, &mine, &theirs) != 0) {
      note(d, "the connection to its peer could not be made again (%s); it is not connected", strerror(errno));
      return finish(new_socket(r), r);
    }
    keep(p, finish(theirs, p->rec));
    return finish(mine, r);
  }
  int fd = new_socket(r);
  if (fd < 0) return -1;
  const struct fdr_desc *l = (st & DMTCP_SK_PENDING) ? local_listener(d, &peer) : NULL;
  if (l) { /* it was waiting in a listener's backlog: it waits there again */
    int lfd = made_fd(l);
    struct sockaddr_storage at;
    socklen_t at_len = sizeof at;
    if (lfd < 0 || getsockname(lfd, (struct sockaddr *)&at, &at_len) != 0 ||
        connect(fd, (struct sockaddr *)&at, at_len) != 0)
      note(d, "it could not join its listener's backlog again (%s)", strerror(errno));
  } else if (!(st & DMTCP_SK_INSIDE) && !(st & (DMTCP_SK_PEER_SHUT | DMTCP_SK_TAKEN))) {
    note(d, "%s", "its peer was outside the computation: it comes back not connected");
  }
  /* (a peer that had closed, or whose bytes were taken to the end: the
   *  runtime gives it what was left to read, then the end) */
  /* (a peer restarted elsewhere: the runtime connects it through the name service) */
  return finish(fd, r);
}

int fdr_sockets_begin(void) {
  g_made = calloc((size_t)g_fdr.ndescs + 1, sizeof *g_made);
  g_nmade = 0;
  return g_made ? 0 : -1;
}

/* Listeners first: connections are made to them, waiting ones into their backlogs. */
int fdr_socket_pass(const struct fdr_desc *d) {
  if (d->rec->kind != DMTCP_FD_SOCKET) return 2;
  return (state(d) & DMTCP_SK_LISTENING) ? 0 : 1;
}

/* Listeners are made once, and the sockets made as the peers of others are
 * taken from here: made_fd keeps them; free the table at the end. */
void fdr_sockets_keep(const struct fdr_desc *d, int fd) {
  if (made_fd(d) < 0) keep(d, fd);
}

void fdr_sockets_end(void) {
  for (int k = 0; k < g_nmade; k++) close(g_made[k].fd);
  free(g_made);
  g_made = NULL;
  g_nmade = 0;
}
