/* Sockets across a checkpoint (checkpoint side).
 *
 * Each socket is described by its domain, type, addresses, state and
 * options. Whether its peer is a member of the computation is asked of the
 * coordinator's name service: at FD_LEADER_ELECTION every socket publishes
 * the key of its own end (and listeners their address), at DRAINED each
 * connected socket looks up its peer's key. Between members the bytes in
 * flight are drained through the connection itself: each side sends a
 * cookie after everything its program wrote and reads until the peer's
 * cookie arrives, so the bytes still in the peer's send queue are caught
 * too. At REFILLED (after the checkpoint, or after a restart on the rebuilt
 * connection) each side hands its drained bytes back to the peer, which
 * sends them again, so they arrive in the receive queue they were taken
 * from, in order, before anything new. A connection to a member's TCP
 * listener whose server end no process holds is told apart by the
 * listener's host (fd_tcp_children.c): waiting in the accept queue (the
 * listener's side takes what the client sent, the client sends it again on a
 * new connection), or closed by the server with bytes still on their way
 * (read to the end, handed over by a new connection). Descriptors in flight (SCM_RIGHTS)
 * become descriptors of the draining process meanwhile, are saved with it,
 * and travel back the same way. No malloc, no stdio. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sockopts.h"
#include "lib/fds/fds.h"
#include "lib/runtime.h"

static const unsigned char COOKIE[32] = {0xd3, 0x44, 0x4d, 0x54, 0x43, 0x50, 0x2d, 0x64, 0x72, 0x61, 0x69,
                                         0x6e, 0x9f, 0x11, 0xe2, 0x5a, 0x07, 0xc4, 0x3b, 0x88, 0x61, 0xf0,
                                         0x2d, 0x9e, 0x4b, 0x13, 0xa7, 0x5c, 0xee, 0x30, 0x81, 0x7f};
#define DRAIN_TIMEOUT_MS 10000

static int is_socket(const struct fd_entry *e) { return e->rec.kind == DMTCP_FD_SOCKET; }
static int messages(const struct fd_entry *e) { return e->rec.u[1] != SOCK_STREAM; }

/* ---- description ------------------------------------------------------------ */

static int int_opt(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(fd, level, name, &v, &len) == 0 ? v : 0;
}

static void hex(char *out, const unsigned char *in, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static void add_address(struct fd_entry *e, uint32_t which, const struct sockaddr_storage *a, socklen_t len) {
  char text[2 * sizeof(struct sockaddr_storage) + 1];
  hex(text, (const unsigned char *)a, len);
  struct dmtcp_fd_extra *x = fds_add_extra(e);
  if (!x) return;
  x->kind = DMTCP_FX_SOCKADDR;
  x->a = which;
  x->b = len;
  fds_add_string(text, &x->path_off, &x->path_len);
}

/* The receive and send buffer sizes a fresh socket of this kind gets: a size
 * that differs was set by the program. */
static void default_buffers(int domain, int type, int *rcv, int *snd) {
  int s = socket(domain, type | SOCK_CLOEXEC, 0);
  *rcv = s >= 0 ? int_opt(s, SOL_SOCKET, SO_RCVBUF) : 0;
  *snd = s >= 0 ? int_opt(s, SOL_SOCKET, SO_SNDBUF) : 0;
  if (s >= 0) close(s);
}

/* The peer inode of a Unix socket, from the kernel's sock_diag. */
static uint64_t unix_peer(uint64_t ino) {
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return 0;
  struct {
    struct nlmsghdr h;
    struct unix_diag_req r;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = ~0u;
  req.r.udiag_ino = (uint32_t)ino;
  req.r.udiag_show = UDIAG_SHOW_PEER;
  req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0u; /* any */
  uint64_t peer = 0;
  if (send(nl, &req, sizeof req, 0) == (ssize_t)sizeof req) {
    long buf[1024];
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n > 0 && NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
      struct unix_diag_msg *m = NLMSG_DATA(h);
      struct rtattr *a = (struct rtattr *)(m + 1);
      int left = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
        if (a->rta_type == UNIX_DIAG_PEER) peer = *(uint32_t *)RTA_DATA(a);
    }
  }
  close(nl);
  return peer;
}

void fd_describe_socket(struct fd_entry *e) {
  struct dmtcp_fd_record *r = &e->rec;
  int fd = r->fd;
  r->u[0] = (uint64_t)int_opt(fd, SOL_SOCKET, SO_DOMAIN);
  r->u[1] = (uint64_t)int_opt(fd, SOL_SOCKET, SO_TYPE);
  r->u[2] = (uint64_t)int_opt(fd, SOL_SOCKET, SO_PROTOCOL);
  if (int_opt(fd, SOL_SOCKET, SO_ACCEPTCONN)) r->u[3] |= DMTCP_SK_LISTENING;
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  if (getsockname(fd, (struct sockaddr *)&a, &len) == 0 && len > sizeof(sa_family_t)) {
    int port_or_name = a.ss_family == AF_UNIX || (a.ss_family == AF_INET && ((struct sockaddr_in *)&a)->sin_port) ||
                       (a.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&a)->sin6_port);
    if (port_or_name) r->u[3] |= DMTCP_SK_BOUND;
    const char *original = (r->u[3] & DMTCP_SK_LISTENING) ? fds_moved_original(fd) : NULL;
    if (original) { /* the address the program bound, not the one it had to take instead */
      struct dmtcp_fd_extra *x = fds_add_extra(e);
      if (x) {
        x->kind = DMTCP_FX_SOCKADDR;
        x->a = 0;
        x->b = (uint64_t)strlen(original) / 2;
        fds_add_string(original, &x->path_off, &x->path_len);
      }
      add_address(e, 2, &a, len);
    } else {
      add_address(e, 0, &a, len);
    }
  }
  len = sizeof a;
  if (getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
    r->u[3] |= DMTCP_SK_CONNECTED;
    add_address(e, 1, &a, len);
  }
  if (r->u[0] == AF_UNIX) {
    r->u[4] = r->ino;
    if (r->u[3] & DMTCP_SK_CONNECTED) r->u[5] = unix_peer(r->ino);
  }
  uint64_t o = 0;
  if (int_opt(fd, SOL_SOCKET, SO_REUSEADDR)) o |= DMTCP_SKO_REUSEADDR;
  if (int_opt(fd, SOL_SOCKET, SO_REUSEPORT)) o |= DMTCP_SKO_REUSEPORT;
  if (int_opt(fd, SOL_SOCKET, SO_KEEPALIVE)) o |= DMTCP_SKO_KEEPALIVE;
  if (int_opt(fd, SOL_SOCKET, SO_BROADCAST)) o |= DMTCP_SKO_BROADCAST;
  if (int_opt(fd, SOL_SOCKET, SO_OOBINLINE)) o |= DMTCP_SKO_OOBINLINE;
  if (r->u[0] == AF_UNIX && int_opt(fd, SOL_SOCKET, SO_PASSCRED)) o |= DMTCP_SKO_PASSCRED;
  if (r->u[0] != AF_UNIX && r->u[1] == SOCK_STREAM && int_opt(fd, IPPROTO_TCP, TCP_NODELAY)) o |= DMTCP_SKO_NODELAY;
  if (r->u[0] == AF_INET6 && int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY)) o |= DMTCP_SKO_V6ONLY;
  r->u[7] = o;
  int rcv, snd;
  default_buffers((int)r->u[0], (int)r->u[1], &rcv, &snd);
  int now_rcv = int_opt(fd, SOL_SOCKET, SO_RCVBUF), now_snd = int_opt(fd, SOL_SOCKET, SO_SNDBUF);
  /* Sizes the program set, or that TCP grew to: a connection made again gets
   * them, so that what was in flight fits into it again. */
  if (now_rcv > rcv) r->u[8] = (uint64_t)(now_rcv / 2);
  if (now_snd > snd) r->u[9] = (uint64_t)(now_snd / 2);
  struct linger lg;
  len = sizeof lg;
  if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff)
    r->u[10] = (uint64_t)1 << 32 | (uint32_t)lg.l_linger;
}

/* ---- who the peers are -------------------------------------------------------- */

static const struct dmtcp_fd_extra *address(const struct fd_entry *e, uint32_t which) {
  const struct fd_table *t = fds_table();
  for (uint32_t x = 0; x < e->rec.num_extras; x++) {
    const struct dmtcp_fd_extra *a = &t->extras[e->rec.first_extra + x];
    if (a->kind == DMTCP_FX_SOCKADDR && a->a == which) return a;
  }
  return NULL;
}

static char g_host[128];

/* "tcp 127.0.0.1:5000 -> 10.0.0.2:43210", "unix /path", "unix @name": for messages. */
static size_t name_address(char *out, size_t cap, const struct dmtcp_fd_extra *x) {
  const struct fd_table *t = fds_table();
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  if (!x || x->b > sizeof a) return rt_strlcpy(out, "?", cap);
  const char *h = t->strings + x->path_off;
  for (uint64_t i = 0; i < x->b; i++) {
    int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
    int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
    ((unsigned char *)&a)[i] = (unsigned char)(hi << 4 | lo);
  }
  char text[INET6_ADDRSTRLEN + 16];
  if (a.ss_family == AF_UNIX) {
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a;
    if (x->b <= sizeof(sa_family_t)) return rt_strlcpy(out, "(unnamed)", cap);
    if (un->sun_path[0]) return rt_strlcpy(out, un->sun_path, cap);
    size_t n = rt_strlcpy(out, "@", cap);
    size_t len = x->b - sizeof(sa_family_t) - 1;
    for (size_t i = 0; i < len && n + 1 < cap; i++) out[n++] = un->sun_path[1 + i] ? un->sun_path[1 + i] : '@';
    out[n] = '\0';
    return n;
  }
  const void *addr = a.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&a)->sin6_addr
                                             : (const void *)&((struct sockaddr_in *)&a)->sin_addr;
  if (!inet_ntop(a.ss_family, addr, text, sizeof text)) return rt_strlcpy(out, "?", cap);
  size_t n = 0;
  if (a.ss_family == AF_INET6) n += rt_strlcpy(out + n, "[", cap - n);
  n += rt_strlcpy(out + n, text, cap - n);
  if (a.ss_family == AF_INET6) n += rt_strlcpy(out + n, "]", cap - n);
  n += rt_strlcpy(out + n, ":", cap - n);
  uint16_t port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port : ((struct sockaddr_in *)&a)->sin_port);
  if (n + 8 < cap) n += rt_utoa(out + n, port);
  return n;
}

void fds_socket_name(const struct fd_entry *e, char *out, size_t cap) {
  const char *kind = e->rec.u[0] == AF_UNIX ? "unix " : e->rec.u[1] == SOCK_DGRAM ? "udp " : "tcp ";
  size_t n = rt_strlcpy(out, kind, cap);
  n += name_address(out + n, cap - n, address(e, 0));
  if (e->rec.u[3] & DMTCP_SK_CONNECTED) {
    n += rt_strlcpy(out + n, " -> ", cap - n);
    name_address(out + n, cap - n, address(e, 1));
  }
}

/* Connections to outside the computation, said once each at the checkpoint. */
static struct { uint64_t dev, ino; } g_said_outside[256];
static int g_nsaid_outside;

static void say_outside(const struct fd_entry *e) {
  for (int i = 0; i < g_nsaid_outside; i++)
    if (g_said_outside[i].dev == e->rec.dev && g_said_outside[i].ino == e->rec.ino) return;
  if (g_nsaid_outside < 256) {
    g_said_outside[g_nsaid_outside].dev = e->rec.dev;
    g_said_outside[g_nsaid_outside].ino = e->rec.ino;
    g_nsaid_outside++;
  }
  if (g_settings.quiet) return;
  char msg[512], name[400], num[16];
  rt_utoa(num, (unsigned long)e->rec.fd);
  fds_socket_name(e, name, sizeof name);
  size_t n = rt_strlcpy(msg, "checkpoint: socket ", sizeof msg);
  n += rt_strlcpy(msg + n, num, sizeof msg - n);
  n += rt_strlcpy(msg + n, " (", sizeof msg - n);
  n += rt_strlcpy(msg + n, name, sizeof msg - n);
  rt_strlcpy(msg + n, ") leads outside the computation: after a restart it is not connected", sizeof msg - n);
  rt_log(msg, NULL);
}

/* The scope of a key: loopback and Unix addresses mean something on this
 * host only. first: the hex of the first address (an AF_INET one is
 * 'sa_family port addr': loopback when addr starts 7f). */
static size_t key_scope(char *out, size_t cap, uint64_t domain, const char *first) {
  int local = domain == AF_UNIX;
  if (first && domain == AF_INET && strlen(first) >= 10) local |= !strncmp(first + 8, "7f", 2);
  if (first && domain == AF_INET6) local |= strstr(first, "00000000000000000000000000000001") != NULL;
  if (!local) return 0;
  size_t n = rt_strlcpy(out, g_host, cap);
  return n + rt_strlcpy(out + n, "/", cap - n);
}

/* prefix, the scope, then the addresses' hex: "first>second". */
static void key_text(char *out, size_t cap, const char *prefix, uint64_t domain, const char *first, const char *second) {
  size_t n = rt_strlcpy(out, prefix, cap);
  n += key_scope(out + n, cap - n, domain, first);
  if (first) n += rt_strlcpy(out + n, first, cap - n);
  if (second) {
    n += rt_strlcpy(out + n, ">", cap - n);
    rt_strlcpy(out + n, second, cap - n);
  }
}

/* key = prefix, then the address text, in its scope. */
static void key_of(char *out, size_t cap, const char *prefix, const struct fd_entry *e, uint32_t first, int second) {
  const struct fd_table *t = fds_table();
  const struct dmtcp_fd_extra *a = address(e, first);
  const struct dmtcp_fd_extra *b = second >= 0 ? address(e, (uint32_t)second) : NULL;
  if (e->rec.u[0] == AF_UNIX && prefix[0] != 'L') {
    /* a Unix socket's end is its inode */
    size_t n = rt_strlcpy(out, prefix, cap);
    n += key_scope(out + n, cap - n, AF_UNIX, NULL);
    rt_utoa(out + n, (unsigned long)(first == 0 ? e->rec.u[4] : e->rec.u[5]));
    return;
  }
  key_text(out, cap, prefix, e->rec.u[0], a ? t->strings + a->path_off : NULL, b ? t->strings + b->path_off : NULL);
}

static void keys(const struct fd_entry *e, char *mine, char *peer, size_t cap) {
  char prefix[16] = "s";
  prefix[1] = (char)('0' + (int)e->rec.u[1]);
  prefix[2] = ':';
  prefix[3] = '\0';
  key_of(mine, cap, prefix, e, 0, 1);
  key_of(peer, cap, prefix, e, 1, 0);
}

void fds_socket_keys(const struct fd_entry *e, char *mine, char *peer, size_t cap) {
  if (!g_host[0]) gethostname(g_host, sizeof g_host - 1);
  keys(e, mine, peer, cap);
}

static void listener_key(const struct fd_entry *e, uint32_t which, char *out, size_t cap) {
  char prefix[16] = "L";
  prefix[1] = (char)('0' + (int)e->rec.u[1]);
  prefix[2] = ':';
  prefix[3] = '\0';
  key_of(out, cap, prefix, e, which, -1);
}

#define BATCH 256
static const char *g_keys[BATCH];
static const char *g_values[BATCH];
static char g_keybuf[BATCH][192];
static char g_answers[BATCH][192];
static int g_found[BATCH];

/* A TCP connection of ours with nothing unsent or unacknowledged (the program
 * is stopped: it stays so): everything we sent is in the peer's receive
 * queue. Published as the value "2" of our key. When both ends are quiet,
 * each copies its queue without taking it and neither sends a cookie, so
 * nothing is to be put back when they resume (one-sided, the exchange of
 * the refill would land behind bytes still queued: the cookies are used). */
static int quiet(struct fd_entry *e) {
  e->rec.u[3] &= ~(uint64_t)(DMTCP_SK_QUIET | DMTCP_SK_PEER_QUIET | DMTCP_SK_PEEKED);
  int unsent = -1;
  if ((e->rec.u[0] != AF_INET && e->rec.u[0] != AF_INET6) || e->rec.u[1] != SOCK_STREAM ||
      !(e->rec.u[3] & DMTCP_SK_CONNECTED) || (e->rec.u[3] & DMTCP_SK_LISTENING) ||
      ioctl(e->rec.fd, SIOCOUTQ, &unsent) != 0 || unsent != 0)
    return 0;
  e->rec.u[3] |= DMTCP_SK_QUIET;
  return 1;
}

/* The key a TCP client published for its end, from its address and its server's. */
static void tcp_client_key(char *out, size_t cap, const char *prefix, const struct sockaddr_storage *client,
                           unsigned clen, const struct sockaddr_storage *server, unsigned slen) {
  char c[2 * sizeof(struct sockaddr_storage) + 1], sv[2 * sizeof(struct sockaddr_storage) + 1];
  hex(c, (const unsigned char *)client, clen);
  hex(sv, (const unsigned char *)server, slen);
  key_text(out, cap, prefix, client->ss_family, c, sv);
}

/* The connections to our TCP listeners that no process holds
 * (fd_tcp_children.c), published under their clients' keys: "W" + the key
 * when it waits in the accept queue, "O" + the key when the server closed it
 * with bytes still on their way. Only the listener's host can tell the two
 * apart; its clients ask (fds_find_socket_peers). */
struct child_batch { int n; };

static void publish_child(void *ctx, const struct sockaddr_storage *server, unsigned slen,
                          const struct sockaddr_storage *client, unsigned clen, int waiting) {
  struct child_batch *b = ctx;
  if (b->n == BATCH) {
    names_publish(g_keys, g_values, b->n);
    b->n = 0;
  }
  tcp_client_key(g_keybuf[b->n], sizeof g_keybuf[b->n], waiting ? "Ws1:" : "Os1:", client, clen, server, slen);
  g_keys[b->n] = g_keybuf[b->n];
  g_values[b->n] = "1";
  b->n++;
}

static void publish_listener_children(void) {
  const struct fd_table *t = fds_table();
  static uint16_t ports[2][BATCH];
  int nports[2] = {0, 0};
  for (uint32_t i = 0; i < t->n; i++) {
    const struct fd_entry *e = &t->entries[i];
    if (!is_socket(e) || !(e->rec.u[3] & DMTCP_SK_LISTENING) || e->rec.u[1] != SOCK_STREAM ||
        (e->rec.u[0] != AF_INET && e->rec.u[0] != AF_INET6))
      continue;
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (getsockname(e->rec.fd, (struct sockaddr *)&a, &len) != 0) continue;
    int six = a.ss_family == AF_INET6;
    if (nports[six] < BATCH)
      ports[six][nports[six]++] = ntohs(six ? ((struct sockaddr_in6 *)&a)->sin6_port : ((struct sockaddr_in *)&a)->sin_port);
  }
  struct child_batch b = {0};
  if (nports[0] && fds_tcp_children(AF_INET, ports[0], nports[0], publish_child, &b) != 0)
    rt_log("the kernel did not list the connections waiting in this process's listeners (sock_diag)", NULL);
  if (nports[1] && fds_tcp_children(AF_INET6, ports[1], nports[1], publish_child, &b) != 0)
    rt_log("the kernel did not list the connections waiting in this process's listeners (sock_diag)", NULL);
  if (b.n) names_publish(g_keys, g_values, b.n);
}

void fds_publish_sockets(void) {
  gethostname(g_host, sizeof g_host - 1);
  const struct fd_table *t = fds_table();
  int n = 0;
  for (uint32_t i = 0; i <= t->n; i++) {
    if (n == BATCH || (i == t->n && n > 0)) {
      names_publish(g_keys, g_values, n);
      n = 0;
    }
    if (i == t->n) break;
    struct fd_entry *e = &t->entries[i];
    if (!is_socket(e)) continue;
    fd_describe_socket(e);
    char peer[192];
    if (e->rec.u[3] & DMTCP_SK_LISTENING) {
      listener_key(e, 0, g_keybuf[n], sizeof g_keybuf[n]);
      if (fds_moved_original(e->rec.fd) && n + 1 < BATCH) {
        /* a moved listener is found by its clients at the address it has now too */
        struct fd_entry now;
        memset(&now, 0, sizeof now);
        now.rec = e->rec;
        now.rec.num_extras = 0;
        struct sockaddr_storage a;
        socklen_t len = sizeof a;
        if (getsockname(e->rec.fd, (struct sockaddr *)&a, &len) == 0) {
          add_address(&now, 0, &a, len);
          g_keys[n] = g_keybuf[n];
          g_values[n] = "1";
          n++;
          listener_key(&now, 0, g_keybuf[n], sizeof g_keybuf[n]);
        }
      }
    } else if (e->rec.u[3] & DMTCP_SK_CONNECTED) {
      keys(e, g_keybuf[n], peer, sizeof peer);
    } else {
      continue;
    }
    g_keys[n] = g_keybuf[n];
    g_values[n] = quiet(e) ? "2" : "1";
    n++;
  }
  publish_listener_children();
}

/* Connected sockets: is the peer a member (its key was published), or waiting
 * in a member's listener (connected, not yet accepted)? */
static int grow(struct fd_entry *e, size_t need);

/* The peer closed (or shut down writing): what it sent is all in our queue. */
static int peer_has_closed(const struct fd_entry *e) {
  struct pollfd p = {e->rec.fd, POLLRDHUP, 0};
  return e->rec.u[1] != SOCK_DGRAM && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

/* A connection whose peer (outside, or a member that closed its end) is gone:
 * what is still to be read is copied, not taken (nobody could put it back),
 * so that after a restart it can be read again, then the end. */
static void keep_what_is_left(struct fd_entry *e) {
  int avail = 0;
  if (ioctl(e->rec.fd, FIONREAD, &avail) != 0 || avail <= 0) return;
  if (grow(e, (size_t)avail) != 0) return;
  ssize_t got = recv(e->rec.fd, e->data, (size_t)avail, MSG_PEEK | MSG_DONTWAIT);
  e->len = got > 0 ? (size_t)got : 0;
}

static int is_tcp(const struct fd_entry *e) {
  return (e->rec.u[0] == AF_INET || e->rec.u[0] == AF_INET6) && e->rec.u[1] == SOCK_STREAM;
}

/* The key a connected socket asks for in each pass of fds_find_socket_peers. */
static void peer_query_key(struct fd_entry *e, int pass, char *out, size_t cap) {
  char mine[192], peer[192];
  keys(e, mine, peer, sizeof mine);
  if (pass == 0) rt_strlcpy(out, peer, cap);
  else if (pass == 1 && !is_tcp(e)) listener_key(e, 1, out, cap);
  else {
    out[0] = pass == 1 ? 'W' : 'O';
    rt_strlcpy(out + 1, mine, cap - 1);
  }
}

/* pass 0: a member holds the peer's end (its key was published);
 * pass 1: it waits in a member's listener, not accepted yet: for TCP the
 *         listener's host says so ("W"); a Unix connection to a member's
 *         listener can be nothing else (a peer that closed shows at once);
 * pass 2: TCP: a member accepted it and closed its end while bytes were
 *         still on their way ("O"): they are read to the end (TAKEN). */
void fds_find_socket_peers(void) {
  const struct fd_table *t = fds_table();
  struct fd_entry *batch[BATCH];
  static const uint64_t found_means[3] = {DMTCP_SK_INSIDE, DMTCP_SK_INSIDE | DMTCP_SK_PENDING, DMTCP_SK_TAKEN};
  for (int pass = 0; pass < 3; pass++) {
    int n = 0;
    for (uint32_t i = 0; i <= t->n; i++) {
      if (n == BATCH || (i == t->n && n > 0)) {
        if (names_query(g_keys, g_answers, n, g_found) == 0)
          for (int k = 0; k < n; k++) {
            if (g_found[k]) batch[k]->rec.u[3] |= found_means[pass];
            if (g_found[k] && pass == 0 && !strcmp(g_answers[k], "2")) batch[k]->rec.u[3] |= DMTCP_SK_PEER_QUIET;
          }
        n = 0;
      }
      if (i == t->n) break;
      struct fd_entry *e = &t->entries[i];
      uint64_t st = e->rec.u[3];
      if (!is_socket(e) || !(st & DMTCP_SK_CONNECTED) || (st & (DMTCP_SK_INSIDE | DMTCP_SK_TAKEN))) continue;
      if (pass == 2 && (!is_tcp(e) || (st & DMTCP_SK_PEER_SHUT))) continue;
      if (pass == 1 && peer_has_closed(e)) {
        /* not waiting in a listener: its peer took it and has closed it since */
        e->rec.u[3] |= DMTCP_SK_PEER_SHUT;
        continue;
      }
      peer_query_key(e, pass, g_keybuf[n], sizeof g_keybuf[n]);
      g_keys[n] = g_keybuf[n];
      batch[n++] = e;
    }
  }
  for (uint32_t i = 0; i < t->n; i++) {
    struct fd_entry *e = &t->entries[i];
    if (is_socket(e) && (e->rec.flags & DMTCP_FDF_LEADER) && (e->rec.u[3] & DMTCP_SK_PEER_SHUT) &&
        !(e->rec.u[3] & DMTCP_SK_INSIDE))
      keep_what_is_left(e);
    else if (is_socket(e) && (e->rec.flags & DMTCP_FDF_LEADER) && (e->rec.u[3] & DMTCP_SK_CONNECTED) &&
             !(e->rec.u[3] & (DMTCP_SK_INSIDE | DMTCP_SK_TAKEN)) && e->rec.u[1] != SOCK_DGRAM)
      say_outside(e);
  }
}

/* ---- draining ----------------------------------------------------------------- */

/* Buffers are populated when made: a page fault per 4 KiB costs more than the
 * copy on a virtual machine. */
static int grow(struct fd_entry *e, size_t need) {
  if (e->len + need <= e->cap) return 0;
  /* the first buffer just holds what is known to come (populating more would
   * cost as much as filling it); later ones double */
  size_t cap = e->cap ? e->cap : (need + 65535) & ~(size_t)65535;
  while (cap < e->len + need) cap *= 2;
  void *p = e->data ? mremap(e->data, e->cap, cap, MREMAP_MAYMOVE) : mmap(NULL, cap, PROT_READ | PROT_WRITE,
                                                                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p != MAP_FAILED && e->data && cap > e->cap) madvise((char *)p + e->cap, cap - e->cap, MADV_WILLNEED);
  if (p == MAP_FAILED) return -1;
  e->data = p;
  e->cap = cap;
  return 0;
}

/* A message drained from a datagram or seqpacket socket: its length, then it. */
/* Three kinds of drain, in one loop so that no member waits for another:
 *   PEER     a connection between members: send a cookie, read until the
 *            peer's cookie; what came before it was in flight to us;
 *   PENDING  a member's connection still waiting in a member's listener (not
 *            accepted): send a cookie, then read back from the listener's
 *            side what we had sent on it, to send it again on a new
 *            connection at REFILLED (the listener's side accepted this one);
 *   ACCEPTED the listener's side of that: read until the cookie, hand the
 *            bytes back, close;
 *   TAKEN    a connection whose server (a member) closed its end with bytes
 *            still on their way: read to the end, nothing sent. */
enum drain_kind { D_PEER, D_PENDING, D_ACCEPTED, D_TAKEN };

struct drain_state {
  enum drain_kind kind;
  struct fd_entry *e;       /* PEER, PENDING: the entry; ACCEPTED: the listener's */
  int fd;
  size_t sent;              /* of the cookie (PEER, PENDING) or of [len][bytes] (ACCEPTED) */
  int got;                  /* the cookie (or the end) came; PENDING: all [len][bytes] */
  char *buf;                /* ACCEPTED: the bytes (mmap) */
  size_t len, cap;
  unsigned char hdr[8];
  size_t hdr_got;           /* PENDING: of the length */
  uint64_t want;
};

static struct drain_state g_drain[FDS_MAX];

static int wants_drain(const struct fd_entry *e) {
  uint64_t s = e->rec.u[3];
  return is_socket(e) && (e->rec.flags & DMTCP_FDF_LEADER) && (s & DMTCP_SK_CONNECTED) && (s & DMTCP_SK_INSIDE) &&
         !(s & DMTCP_SK_LISTENING) && !(e->rec.u[1] == SOCK_DGRAM && e->rec.u[0] != AF_UNIX);
}

static void take_rights(struct fd_entry *e, struct msghdr *mh) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *fds = (int *)CMSG_DATA(c);
    for (int k = 0; k < nfd; k++) fds_add_in_flight(e, fds[k], e->len);
  }
}

/* PEER: reads what is there; 1 once the peer's cookie (or the end) came. */
static int drain_some(struct drain_state *d) {
  struct fd_entry *e = d->e;
  if (!e->data) { /* room for what is queued already (the cookie among it, or on its way) */
    int queued = 0;
    if (ioctl(e->rec.fd, FIONREAD, &queued) == 0 && queued > 0 && grow(e, (size_t)queued + 65536) != 0) return -1;
  }
  for (;;) {
    if (grow(e, messages(e) ? 65536 + 8 : 65536) != 0) return -1;
    char control[CMSG_SPACE(sizeof(int) * 64)];
    unsigned char *to = (unsigned char *)e->data + e->len + (messages(e) ? 8 : 0);
    struct iovec iov = {to, e->cap - e->len - (messages(e) ? 8 : 0)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t got = recvmsg(e->rec.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
    if (got == 0 && !messages(e)) {
      e->rec.u[3] |= DMTCP_SK_PEER_SHUT;
      return 1;
    }
    if (messages(e)) {
      if (got == (ssize_t)sizeof COOKIE && !memcmp(to, COOKIE, sizeof COOKIE)) return 1;
      take_rights(e, &mh);
      uint64_t len = (uint64_t)got;
      memcpy((char *)e->data + e->len, &len, 8);
      e->len += 8 + (size_t)got;
      continue;
    }
    take_rights(e, &mh);
    e->len += (size_t)got;
    if (e->len >= sizeof COOKIE && !memcmp((char *)e->data + e->len - sizeof COOKIE, COOKIE, sizeof COOKIE)) {
      e->len -= sizeof COOKIE;
      return 1;
    }
  }
}

/* PEER of a connection whose two ends are quiet: what the peer sent is all
 * in our queue; copied, not taken, so that nothing is to be put back when
 * the program resumes. */
static int peek_all(struct drain_state *d) { /* 1, or -1 (the queue left as it was) */
  struct fd_entry *e = d->e;
  int queued = 0;
  if (ioctl(e->rec.fd, FIONREAD, &queued) != 0 || queued < 0) return -1;
  if (queued > 0) {
    if (grow(e, (size_t)queued) != 0) return -1;
    ssize_t got = recv(e->rec.fd, e->data, (size_t)queued, MSG_PEEK | MSG_DONTWAIT);
    if (got != queued) return -1;
    e->len = (size_t)got;
  }
  if (peer_has_closed(e)) e->rec.u[3] |= DMTCP_SK_PEER_SHUT;
  e->rec.u[3] |= DMTCP_SK_PEEKED;
  return 1;
}

/* TAKEN: reads what is there; 1 once the end came. */
static int taken_some(struct drain_state *d) {
  struct fd_entry *e = d->e;
  for (;;) {
    int queued = 0;
    if (ioctl(e->rec.fd, FIONREAD, &queued) != 0 || queued < 0) queued = 0;
    if (grow(e, (size_t)queued + 65536) != 0) return -1;
    ssize_t got = recv(e->rec.fd, (char *)e->data + e->len, e->cap - e->len, MSG_DONTWAIT);
    if (got == 0) {
      e->rec.u[3] |= DMTCP_SK_PEER_SHUT;
      return 1;
    }
    if (got < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
    e->len += (size_t)got;
  }
}

/* PENDING: our own bytes back from the listener's side: [len][bytes]. */
static int pending_some(struct drain_state *d) {
  struct fd_entry *e = d->e;
  for (;;) {
    ssize_t got;
    if (d->hdr_got < 8) {
      got = recv(d->fd, d->hdr + d->hdr_got, 8 - d->hdr_got, MSG_DONTWAIT);
      if (got > 0 && (d->hdr_got += (size_t)got) == 8) memcpy(&d->want, d->hdr, 8);
    } else {
      if (e->len >= d->want) return 1;
      if (grow(e, (size_t)(d->want - e->len)) != 0) return -1;
      got = recv(d->fd, (char *)e->data + e->len, (size_t)(d->want - e->len), MSG_DONTWAIT);
      if (got > 0) e->len += (size_t)got;
    }
    if (got == 0) return 1; /* the listener's side had nothing for us */
    if (got < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
  }
}

/* ACCEPTED: reads until the cookie. */
static int accepted_some(struct drain_state *d) {
  for (;;) {
    if (d->len + 65536 > d->cap) {
      size_t cap = d->cap ? 2 * d->cap : 262144;
      void *p = d->buf ? mremap(d->buf, d->cap, cap, MREMAP_MAYMOVE)
                       : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return -1;
      d->buf = p;
      d->cap = cap;
    }
    ssize_t got = recv(d->fd, d->buf + d->len, d->cap - d->len, MSG_DONTWAIT);
    if (got == 0) return 1;
    if (got < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
    d->len += (size_t)got;
    if (d->len >= sizeof COOKIE && !memcmp(d->buf + d->len - sizeof COOKIE, COOKIE, sizeof COOKIE)) {
      d->len -= sizeof COOKIE;
      return 1;
    }
  }
}

/* The key the client of an accepted connection published for its end. */
static void client_key_of_accepted(int fd, const struct fd_entry *listener, char *out, size_t cap) {
  if (listener->rec.u[0] == AF_UNIX) {
    struct stat st;
    fstat(fd, &st);
    size_t n = rt_strlcpy(out, "s1:", cap);
    n += rt_strlcpy(out + n, g_host, cap - n);
    n += rt_strlcpy(out + n, "/", cap - n);
    rt_utoa(out + n, (unsigned long)unix_peer((uint64_t)st.st_ino));
    return;
  }
  struct sockaddr_storage server, client;
  socklen_t slen = sizeof server, clen = sizeof client;
  memset(&server, 0, sizeof server);
  memset(&client, 0, sizeof client);
  if (getsockname(fd, (struct sockaddr *)&server, &slen) != 0 || getpeername(fd, (struct sockaddr *)&client, &clen) != 0) {
    out[0] = '\0';
    return;
  }
  tcp_client_key(out, cap, "s1:", &client, clen, &server, slen);
}

/* The listener's side of connections members made and it had not accepted:
 * accepted now to take back what they had sent; one from outside is closed
 * (its client sees the connection reset, as by a server that went away). */
static int accept_pending(int n) {
  const struct fd_table *t = fds_table();
  for (uint32_t i = 0; i < t->n; i++) {
    struct fd_entry *e = &t->entries[i];
    if (!is_socket(e) || !(e->rec.u[3] & DMTCP_SK_LISTENING) || !(e->rec.flags & DMTCP_FDF_LEADER) ||
        e->rec.u[1] == SOCK_DGRAM)
      continue;
    for (;;) {
      struct pollfd p = {e->rec.fd, POLLIN, 0};
      if (poll(&p, 1, 0) != 1 || n == FDS_MAX) break;
      int a = accept4(e->rec.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (a < 0) break;
      char key[192];
      client_key_of_accepted(a, e, key, sizeof key);
      const char *keys1[1] = {key};
      int found = 0;
      if (names_query(keys1, g_answers, 1, &found) != 0 || !found) {
        rt_log("a connection from outside the computation waiting in a listener was reset by the checkpoint", NULL);
        close(a);
        continue;
      }
      g_drain[n++] = (struct drain_state){.kind = D_ACCEPTED, .e = e, .fd = a};
    }
  }
  return n;
}

void fds_drain_sockets(void) {
  const struct fd_table *t = fds_table();
  int n = 0;
  for (uint32_t i = 0; i < t->n; i++) {
    struct fd_entry *e = &t->entries[i];
    if (is_socket(e) && (e->rec.flags & DMTCP_FDF_LEADER) && (e->rec.u[3] & DMTCP_SK_TAKEN)) {
      g_drain[n++] = (struct drain_state){.kind = D_TAKEN, .e = e, .fd = e->rec.fd, .sent = sizeof COOKIE};
      continue;
    }
    if (!wants_drain(e)) continue;
    enum drain_kind kind = (e->rec.u[3] & DMTCP_SK_PENDING) ? D_PENDING : D_PEER;
    struct drain_state *d = &g_drain[n++];
    *d = (struct drain_state){.kind = kind, .e = e, .fd = e->rec.fd};
    /* Both ends quiet (both see both values): each copies its queue, no
     * cookie either way, and nothing is put back when they resume. */
    if (kind != D_PEER || !(e->rec.u[3] & DMTCP_SK_QUIET) || !(e->rec.u[3] & DMTCP_SK_PEER_QUIET)) continue;
    d->sent = sizeof COOKIE;
    d->got = 1;
    if (peek_all(d) != 1) rt_log("a socket's bytes in flight could not be copied; the image lacks them", NULL);
  }
  n = accept_pending(n);
  long deadline = rt_monotonic_ms() + DRAIN_TIMEOUT_MS;
  static struct pollfd p[FDS_MAX];
  for (;;) {
    int open = 0;
    for (int k = 0; k < n; k++) {
      struct drain_state *d = &g_drain[k];
      int out_total = d->kind == D_ACCEPTED ? (int)(8 + d->len) : (int)sizeof COOKIE;
      int writing = d->kind == D_ACCEPTED ? d->got && d->sent < (size_t)out_total : d->sent < sizeof COOKIE;
      p[k].fd = writing || !d->got ? d->fd : -1;
      p[k].events = (short)((writing ? POLLOUT : 0) | (!d->got ? POLLIN : 0));
      p[k].revents = 0;
      open += p[k].fd >= 0;
    }
    if (!open) break;
    long left = deadline - rt_monotonic_ms();
    if (left <= 0) {
      int others = 0;
      for (int k = 0; k < n; k++) {
        if (g_drain[k].got) continue;
        if (g_drain[k].kind == D_TAKEN)
          rt_log("a connection whose server had closed did not end within the drain's time; it ends where the checkpoint left it", NULL);
        else others++;
      }
      if (others) rt_log("a socket's peer did not answer the drain; its bytes in flight may be incomplete", NULL);
      break;
    }
    if (poll(p, (nfds_t)n, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR) break;
    for (int k = 0; k < n; k++) {
      struct drain_state *d = &g_drain[k];
      if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) && !d->got) {
        int r = d->kind == D_PEER      ? drain_some(d)
                : d->kind == D_PENDING ? pending_some(d)
                : d->kind == D_TAKEN   ? taken_some(d)
                                       : accepted_some(d);
        if (r != 0) d->got = 1;
      }
      if (!(p[k].revents & POLLOUT)) continue;
      if (d->kind != D_ACCEPTED && d->sent < sizeof COOKIE) {
        ssize_t put = send(d->fd, COOKIE + d->sent, sizeof COOKIE - d->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (put > 0) d->sent += (size_t)put;
        else if (put < 0 && errno != EAGAIN && errno != EINTR) d->sent = sizeof COOKIE; /* shut or gone */
      } else if (d->kind == D_ACCEPTED && d->got && d->sent < 8 + d->len) {
        uint64_t len = d->len;
        unsigned char hdr[8];
        memcpy(hdr, &len, 8);
        struct iovec iov[2];
        int niov = 0;
        if (d->sent < 8) iov[niov++] = (struct iovec){hdr + d->sent, 8 - d->sent};
        size_t off = d->sent < 8 ? 0 : d->sent - 8;
        if (d->len > off) iov[niov++] = (struct iovec){d->buf + off, d->len - off};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
        ssize_t put = sendmsg(d->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (put > 0) d->sent += (size_t)put;
        else if (put < 0 && errno != EAGAIN && errno != EINTR) d->sent = 8 + d->len;
      }
    }
  }
  for (int k = 0; k < n; k++) {
    struct drain_state *d = &g_drain[k];
    if (d->kind == D_PEER) d->e->rec.u[3] |= DMTCP_SK_DRAINED;
    if (d->kind == D_PENDING) d->e->rec.u[3] |= DMTCP_SK_RESEND;
    if (d->kind == D_ACCEPTED) {
      if (d->buf) munmap(d->buf, d->cap);
      close(d->fd);
    }
  }
}

/* PENDING connections: a new one to the same listener (after a restart,
 * dmtcp_restart made it already), and the bytes sent on the old one again. */
static void resend_pending(struct fd_entry *e) {
  e->rec.u[3] &= ~(uint64_t)DMTCP_SK_RESEND;
  if (!fds_restarted()) {
    const struct dmtcp_fd_extra *peer = address(e, 1);
    struct sockaddr_storage a;
    socklen_t len = 0;
    if (peer) {
      const char *h = fds_table()->strings + peer->path_off;
      len = (socklen_t)(peer->b <= sizeof a ? peer->b : 0);
      for (socklen_t i = 0; i < len; i++) {
        int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
        int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
        ((unsigned char *)&a)[i] = (unsigned char)(hi << 4 | lo);
      }
    }
    int s = socket((int)e->rec.u[0], (int)e->rec.u[1] | SOCK_CLOEXEC, (int)e->rec.u[2]);
    if (s < 0 || !len || connect(s, (struct sockaddr *)&a, len) != 0) {
      rt_log("a connection waiting in a listener could not be made again", NULL);
      if (s >= 0) close(s);
      return;
    }
    sockopts_apply(s, &e->rec);
    fcntl(s, F_SETFL, (int)(e->rec.status_flags & (O_NONBLOCK | O_ASYNC)));
    int fdflags = fcntl(e->rec.fd, F_GETFD);
    dup3(s, e->rec.fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
    close(s);
  }
  for (size_t done = 0; done < e->len;) {
    struct pollfd p = {e->rec.fd, POLLOUT, 0};
    if (poll(&p, 1, DRAIN_TIMEOUT_MS) != 1) break;
    ssize_t put = send(e->rec.fd, (char *)e->data + done, e->len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (put > 0) done += (size_t)put;
    else if (put < 0 && errno != EAGAIN && errno != EINTR) {
      rt_log("the bytes of a connection waiting in a listener could not all be sent again", NULL);
      break;
    }
  }
}

/* ---- refilling ---------------------------------------------------------------- *
 * Each side sends its drained bytes to the peer, after a header: [8-byte
 * length][8-byte count of descriptors][their 8-byte offsets], the
 * descriptors that were in flight (SCM_RIGHTS) attached to the header's first
 * byte; and reads the peer's. Then it sends the peer's bytes back raw, each
 * descriptor attached to the byte (the message) it came with, so they land in
 * the peer's receive queue as they were taken from it. On a datagram or
 * seqpacket socket the header is one message and each drained message one. */

#define MAX_RIGHTS 64

struct refill_state {
  struct fd_entry *e;
  /* out1 */
  unsigned char hdr[16 + 8 * MAX_RIGHTS];
  size_t hdr_len, out1;     /* out1 counts bytes of hdr then data (messages: bytes of data sent) */
  size_t out1_msgs;         /* messages: drained messages sent */
  int rights_sent;
  /* in1 */
  unsigned char in_hdr[16 + 8 * MAX_RIGHTS];
  size_t in_hdr_got, in_hdr_len;
  uint64_t in_len, in_nfds, in_at[MAX_RIGHTS];
  char *in;
  size_t in_got, in_cap;
  int in_fds[MAX_RIGHTS], in_nrecv;
  /* out2 */
  size_t out2;
  uint64_t next_fd;         /* of in_fds, the next to attach */
  int room_was;             /* SO_RCVBUF before make_room, or 0 */
  int done;
};
static struct refill_state g_refill[FDS_MAX];

static int wants_refill(const struct fd_entry *e) { return is_socket(e) && (e->rec.u[3] & DMTCP_SK_DRAINED); }

/* The bytes taken from this socket's receive queue must fit in it again,
 * whatever the connection grew to: room for them (root may go beyond rmem_max). */
static int make_room(const struct fd_entry *e) {
  /* (the kernel counts buffer overhead too: 4 times the bytes is safe) */
  int want = (int)(e->len < (1u << 28) ? 4 * e->len + 65536 : 1u << 30), now = 0;
  socklen_t len = sizeof now;
  if (getsockopt(e->rec.fd, SOL_SOCKET, SO_RCVBUF, &now, &len) != 0 || now >= want) return 0;
  if (setsockopt(e->rec.fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
    setsockopt(e->rec.fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  return now;
}

/* Back to the size it had (as it was: the bytes put back stay queued), so the
 * room made for a refill does not let more be in flight at the next checkpoint. */
static void give_room_back(const struct fd_entry *e, int was) {
  if (!was) return;
  int half = was / 2; /* the kernel doubles what it is given */
  if (setsockopt(e->rec.fd, SOL_SOCKET, SO_RCVBUFFORCE, &half, sizeof half) != 0)
    setsockopt(e->rec.fd, SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
}

static void attach(struct msghdr *mh, char *control, const int *fds, int n) {
  mh->msg_control = control;
  mh->msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
  struct cmsghdr *c = CMSG_FIRSTHDR(mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
}

static void refill_begin(struct refill_state *s) {
  struct fd_entry *e = s->e;
  int fds[MAX_RIGHTS];
  size_t ats[MAX_RIGHTS];
  int nfds = fds_in_flight_of(e, fds, ats, MAX_RIGHTS);
  uint64_t len = e->len, n = (uint64_t)nfds;
  memcpy(s->hdr, &len, 8);
  memcpy(s->hdr + 8, &n, 8);
  for (int k = 0; k < nfds; k++) {
    uint64_t at = ats[k];
    memcpy(s->hdr + 16 + 8 * k, &at, 8);
  }
  s->hdr_len = 16 + 8 * (size_t)nfds;
  if (e->len) s->room_was = make_room(e);
}

static int io_failed(void) { return errno != EAGAIN && errno != EINTR; }

static void refill_send_own(struct refill_state *s) {
  struct fd_entry *e = s->e;
  char control[CMSG_SPACE(sizeof(int) * MAX_RIGHTS)];
  int fds[MAX_RIGHTS];
  int nfds = fds_in_flight_of(e, fds, NULL, MAX_RIGHTS);
  if (messages(e)) {
    if (s->out1 == 0 && !s->rights_sent) {
      struct iovec iov = {s->hdr, s->hdr_len};
      struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
      if (nfds) attach(&mh, control, fds, nfds);
      if (sendmsg(e->rec.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        if (io_failed()) s->done = -1;
        return;
      }
      s->rights_sent = 1;
    }
    while (s->out1 < e->len) {
      uint64_t mlen;
      memcpy(&mlen, (char *)e->data + s->out1, 8);
      if (send(e->rec.fd, (char *)e->data + s->out1 + 8, (size_t)mlen, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        if (io_failed()) s->done = -1;
        return;
      }
      s->out1 += 8 + (size_t)mlen;
    }
    return;
  }
  while (s->out1 < s->hdr_len + e->len) {
    struct iovec iov[2];
    int niov = 0;
    if (s->out1 < s->hdr_len) iov[niov++] = (struct iovec){s->hdr + s->out1, s->hdr_len - s->out1};
    size_t data_off = s->out1 < s->hdr_len ? 0 : s->out1 - s->hdr_len;
    if (e->len > data_off) iov[niov++] = (struct iovec){(char *)e->data + data_off, e->len - data_off};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
    if (!s->rights_sent && nfds > 0) attach(&mh, control, fds, nfds);
    ssize_t put = sendmsg(e->rec.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (put < 0) {
      if (io_failed()) s->done = -1;
      return;
    }
    if (put > 0) s->rights_sent = 1;
    s->out1 += (size_t)put;
  }
}

static int in_buffer(struct refill_state *s) {
  if (s->in || !s->in_len) return 0;
  s->in_cap = ((size_t)s->in_len + 4095) & ~(size_t)4095;
  s->in = mmap(NULL, s->in_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (s->in != MAP_FAILED) return 0;
  s->in = NULL;
  return -1;
}

static void take_in_rights(struct refill_state *s, struct msghdr *mh) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int k = 0; k < nfd; k++) {
      int fd = ((int *)CMSG_DATA(c))[k];
      if (s->in_nrecv < MAX_RIGHTS) s->in_fds[s->in_nrecv++] = fd;
      else close(fd);
    }
  }
}

static int header_done(struct refill_state *s) {
  if (s->in_hdr_got < 16) return 0;
  memcpy(&s->in_len, s->in_hdr, 8);
  memcpy(&s->in_nfds, s->in_hdr + 8, 8);
  if (s->in_nfds > MAX_RIGHTS) return -1;
  s->in_hdr_len = 16 + 8 * (size_t)s->in_nfds;
  if (s->in_hdr_got < s->in_hdr_len) return 0;
  for (uint64_t k = 0; k < s->in_nfds; k++) memcpy(&s->in_at[k], s->in_hdr + 16 + 8 * k, 8);
  return 1;
}

static void refill_read_peer(struct refill_state *s) {
  struct fd_entry *e = s->e;
  char control[CMSG_SPACE(sizeof(int) * MAX_RIGHTS)];
  for (;;) {
    int h = header_done(s);
    if (h < 0) {
      s->done = -1;
      return;
    }
    if (h && s->in_got >= s->in_len) return;
    struct iovec iov;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    if (messages(e)) {
      if (!h) {
        iov = (struct iovec){s->in_hdr, sizeof s->in_hdr};
      } else {
        if (in_buffer(s) != 0) {
          s->done = -1;
          return;
        }
        if (s->in_got + 8 > s->in_len) {
          s->done = -1;
          return;
        }
        iov = (struct iovec){s->in + s->in_got + 8, s->in_len - s->in_got - 8};
      }
      ssize_t got = recvmsg(e->rec.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (got < 0) {
        if (io_failed()) s->done = -1;
        return;
      }
      take_in_rights(s, &mh);
      if (!h) {
        s->in_hdr_got = (size_t)got;
        if (header_done(s) != 1) {
          s->done = -1;
          return;
        }
      } else {
        uint64_t mlen = (uint64_t)got;
        memcpy(s->in + s->in_got, &mlen, 8);
        s->in_got += 8 + (size_t)got;
      }
      continue;
    }
    if (!h) {
      size_t want = s->in_hdr_got < 16 ? 16 - s->in_hdr_got : s->in_hdr_len - s->in_hdr_got;
      iov = (struct iovec){s->in_hdr + s->in_hdr_got, want};
    } else {
      if (in_buffer(s) != 0) {
        s->done = -1;
        return;
      }
      iov = (struct iovec){s->in + s->in_got, s->in_len - s->in_got};
    }
    ssize_t got = recvmsg(e->rec.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0) {
      if (io_failed()) s->done = -1;
      return;
    }
    if (got == 0) {
      s->done = -1;
      return;
    }
    take_in_rights(s, &mh);
    if (!h) s->in_hdr_got += (size_t)got;
    else s->in_got += (size_t)got;
  }
}

/* The peer's bytes back to it, each descriptor attached where it came. */
static void refill_send_back(struct refill_state *s) {
  struct fd_entry *e = s->e;
  char control[CMSG_SPACE(sizeof(int) * MAX_RIGHTS)];
  while (s->out2 < s->in_len) {
    /* descriptors that go with the bytes at out2, and where the next ones go */
    int fds[MAX_RIGHTS], nfds = 0;
    while (s->next_fd < s->in_nfds && s->next_fd < (uint64_t)s->in_nrecv && s->in_at[s->next_fd] <= s->out2) {
      fds[nfds++] = s->in_fds[s->next_fd];
      s->next_fd++;
    }
    size_t end = s->in_len;
    if (s->next_fd < s->in_nfds && s->in_at[s->next_fd] < end) end = (size_t)s->in_at[s->next_fd];
    size_t at = s->out2, chunk = end - at;
    if (messages(e)) {
      uint64_t mlen;
      memcpy(&mlen, s->in + at, 8);
      at += 8;
      chunk = (size_t)mlen;
    }
    struct iovec iov = {s->in + at, chunk};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) attach(&mh, control, fds, nfds);
    ssize_t put = sendmsg(e->rec.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (put < 0) {
      s->next_fd -= (uint64_t)nfds; /* not sent: again next time */
      if (io_failed()) s->done = -1;
      return;
    }
    for (int k = 0; k < nfds; k++) close(fds[k]); /* the peer has them again */
    s->out2 += messages(e) ? 8 + chunk : (size_t)put;
  }
}

/* After a restart, a connection whose peer had closed (and after any
 * checkpoint, one whose bytes were TAKEN): a new connection whose other end
 * hands over what was left to read and closes, so the program reads it, then
 * the end, as it would have. */
static void rebuild_half_closed(struct fd_entry *e) {
  int sv[2] = {-1, -1};
  if (e->rec.u[0] == AF_UNIX) {
    if (socketpair(AF_UNIX, (int)e->rec.u[1] | SOCK_CLOEXEC, 0, sv) != 0) return;
  } else {
    int l = socket((int)e->rec.u[0], SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    socklen_t len = e->rec.u[0] == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (e->rec.u[0] == AF_INET6) {
      ((struct sockaddr_in6 *)&a)->sin6_family = AF_INET6;
      ((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
    } else {
      ((struct sockaddr_in *)&a)->sin_family = AF_INET;
      ((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (l < 0 || bind(l, (struct sockaddr *)&a, len) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0 || (sv[0] = socket((int)e->rec.u[0], SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(sv[0], (struct sockaddr *)&a, len) != 0 || (sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
      if (l >= 0) close(l);
      if (sv[0] >= 0) close(sv[0]);
      return;
    }
    close(l);
  }
  /* Nobody reads before the program runs: the bytes must fit in the new
   * connection's buffers (the kernel caps the sizes; what does not fit is
   * said lost rather than blocking the process). */
  int room = e->len > (size_t)1 << 30 ? 1 << 30 : (int)e->len;
  if (room > 0) {
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
  }
  int ok = 1;
  for (size_t done = 0; done < e->len && ok;) {
    ssize_t put = send(sv[1], (char *)e->data + done, e->len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (put > 0) done += (size_t)put;
    else ok = put < 0 && errno == EINTR;
  }
  close(sv[1]);
  if (!ok) rt_log("what was left to read on a closed connection could not all be given back", NULL);
  sockopts_apply(sv[0], &e->rec);
  fcntl(sv[0], F_SETFL, (int)(e->rec.status_flags & (O_NONBLOCK | O_ASYNC)));
  int fdflags = fcntl(e->rec.fd, F_GETFD);
  dup3(sv[0], e->rec.fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
  close(sv[0]);
}

void fds_refill_sockets(void) {
  const struct fd_table *t = fds_table();
  int n = 0;
  for (uint32_t i = 0; i < t->n; i++) {
    struct fd_entry *e = &t->entries[i];
    uint64_t st = e->rec.u[3];
    if (!is_socket(e) || !(e->rec.flags & DMTCP_FDF_LEADER) || !(st & DMTCP_SK_CONNECTED) || e->rec.u[1] == SOCK_DGRAM)
      continue;
    int closed_peer = fds_restarted() && (st & (DMTCP_SK_PEER_SHUT | DMTCP_SK_TAKEN)) && !(st & DMTCP_SK_INSIDE);
    if (closed_peer || (st & DMTCP_SK_TAKEN)) {
      e->rec.u[3] &= ~(uint64_t)(DMTCP_SK_PEER_SHUT | DMTCP_SK_TAKEN); /* once */
      rebuild_half_closed(e);
    }
  }
  for (uint32_t i = 0; i < t->n; i++)
    if (is_socket(&t->entries[i]) && (t->entries[i].rec.u[3] & DMTCP_SK_RESEND)) resend_pending(&t->entries[i]);
  for (uint32_t i = 0; i < t->n; i++) {
    struct fd_entry *e = &t->entries[i];
    if (!wants_refill(e)) continue;
    e->rec.u[3] &= ~(uint64_t)DMTCP_SK_DRAINED;
    if ((e->rec.u[3] & DMTCP_SK_PEEKED) && !fds_restarted()) continue; /* still queued, both ways */
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (getpeername(e->rec.fd, (struct sockaddr *)&a, &len) != 0) {
      if (e->len) rt_log("a socket was not reconnected; its bytes in flight are lost", NULL);
      continue;
    }
    memset(&g_refill[n], 0, sizeof g_refill[n]);
    g_refill[n].e = e;
    refill_begin(&g_refill[n++]);
  }
  long deadline = rt_monotonic_ms() + DRAIN_TIMEOUT_MS;
  static struct pollfd p[FDS_MAX];
  for (;;) {
    int open = 0;
    for (int k = 0; k < n; k++) {
      struct refill_state *s = &g_refill[k];
      if (!s->done) {
        refill_send_own(s);
        if (!s->done) refill_read_peer(s);
        int have_peer = header_done(s) == 1 && s->in_got >= s->in_len;
        size_t own_total = messages(s->e) ? s->e->len : s->hdr_len + s->e->len;
        /* the peer's bytes go back only after all of ours: one stream carries both */
        int own_sent = s->out1 >= own_total && (s->rights_sent || !messages(s->e));
        if (!s->done && have_peer && own_sent) refill_send_back(s);
        if (!s->done && own_sent && have_peer && s->out2 >= s->in_len) s->done = 1;
      }
      p[k].fd = s->done ? -1 : s->e->rec.fd;
      /* wait only for what it waits for: a busy loop would take the CPU the peer needs */
      size_t own_total = messages(s->e) ? s->e->len : s->hdr_len + s->e->len;
      int sending = s->out1 < own_total || (messages(s->e) && !s->rights_sent) ||
                    (header_done(s) == 1 && s->in_got >= s->in_len && s->out2 < s->in_len);
      int reading = !(header_done(s) == 1 && s->in_got >= s->in_len);
      p[k].events = (short)((sending ? POLLOUT : 0) | (reading ? POLLIN : 0));
      p[k].revents = 0;
      open += !s->done;
    }
    if (!open) break;
    long left = deadline - rt_monotonic_ms();
    if (left <= 0) {
      rt_log("a socket's peer did not take back its bytes in flight; some are lost", NULL);
      break;
    }
    if (poll(p, (nfds_t)n, (int)(left < 20 ? left : 20)) < 0 && errno != EINTR) break;
  }
  for (int k = 0; k < n; k++) {
    struct refill_state *s = &g_refill[k];
    if (s->done < 0) rt_log("a socket's bytes in flight could not all be put back", NULL);
    give_room_back(s->e, s->room_was);
    if (s->in) munmap(s->in, s->in_cap);
    for (int j = (int)s->next_fd; j < s->in_nrecv; j++) close(s->in_fds[j]); /* not sent back: lost */
    fds_close_in_flight(s->e);
  }
}
