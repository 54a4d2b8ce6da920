/* Connections whose two ends were restarted apart (on other hosts, or by
 * separate dmtcp_restart runs), made again through the coordinator's name
 * service during the restart barrier, before the program runs:
 *
 *   NS_PUBLISHED  of the two ends, the one with the smaller key accepts: it
 *                 listens on a port of its own and publishes where (its host
 *                 name, its addresses, the port) under the other end's key;
 *   NS_RESOLVED   the other end looks its key up and connects; the accepting
 *                 end accepts; each puts the new connection in place of the
 *                 unconnected socket dmtcp_restart gave it, with the
 *                 program's options and flags.
 *
 * The bytes that were in flight then go back in at REFILLED as after any
 * checkpoint (fd_sockets.c). No malloc, no stdio: the user threads are
 * parked and may hold their locks. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sockopts.h"
#include "lib/fds/fds.h"
#include "lib/runtime.h"

#define RECONNECT_TIMEOUT_MS 15000
#define MAX_RECONNECT 1024

struct rejoin {
  struct fd_entry *e;
  int accepting;
  int sock;                 /* the listener (accepting) or the connecting socket */
  int done;
  char mine[192], peer[192];
};
static struct rejoin g_rejoin[MAX_RECONNECT];
static int g_nrejoin;

static int wants_rejoin(const struct fd_entry *e) {
  uint64_t s = e->rec.u[3];
  if (e->rec.kind != DMTCP_FD_SOCKET || !(e->rec.flags & DMTCP_FDF_LEADER) || e->rec.fd < 0) return 0;
  if (!(s & DMTCP_SK_CONNECTED) || !(s & DMTCP_SK_INSIDE) || (s & (DMTCP_SK_PENDING | DMTCP_SK_LISTENING))) return 0;
  if (e->rec.u[1] == SOCK_DGRAM) return 0; /* a datagram socket names its peer: nothing to make */
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  return getpeername(e->rec.fd, (struct sockaddr *)&a, &len) != 0; /* dmtcp_restart could not connect it */
}

/* This host's IPv4 addresses, comma separated (SIOCGIFCONF: no malloc). */
static void addresses(char *out, size_t cap) {
  out[0] = '\0';
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  struct ifreq req[32];
  struct ifconf conf = {.ifc_len = sizeof req, .ifc_req = req};
  size_t n = 0;
  if (ioctl(s, SIOCGIFCONF, &conf) == 0) {
    for (size_t i = 0; i < (size_t)conf.ifc_len / sizeof req[0]; i++) {
      struct sockaddr_in *in = (struct sockaddr_in *)&req[i].ifr_addr;
      if (in->sin_family != AF_INET || ntohl(in->sin_addr.s_addr) >> 24 == 127) continue;
      char text[INET_ADDRSTRLEN];
      if (!inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) continue;
      if (n && n + 1 < cap) out[n++] = ',';
      n += rt_strlcpy(out + n, text, cap - n);
    }
  }
  close(s);
}

static void put_number(char *out, size_t cap, const char *prefix, unsigned long v) {
  size_t n = rt_strlcpy(out, prefix, cap);
  if (n + 24 < cap) rt_utoa(out + n, v);
}

/* "host port addr,addr" */
static void where(char *out, size_t cap, int port) {
  char host[128] = "", addrs[160], num[32];
  gethostname(host, sizeof host - 1);
  addresses(addrs, sizeof addrs);
  put_number(num, sizeof num, " ", (unsigned long)port);
  size_t n = rt_strlcpy(out, host, cap);
  n += rt_strlcpy(out + n, num, cap - n);
  n += rt_strlcpy(out + n, " ", cap - n);
  rt_strlcpy(out + n, addrs, cap - n);
}

/* A listener of the socket's family on every address, any port. */
static int listen_anywhere(const struct fd_entry *e, int *port) {
  int family = (int)e->rec.u[0];
  int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  socklen_t len;
  if (family == AF_INET6) {
    int v6only = 0;
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    ((struct sockaddr_in6 *)&a)->sin6_family = AF_INET6;
    len = sizeof(struct sockaddr_in6);
  } else {
    ((struct sockaddr_in *)&a)->sin_family = AF_INET;
    len = sizeof(struct sockaddr_in);
  }
  if (bind(s, (struct sockaddr *)&a, len) != 0 || listen(s, 1) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0) {
    close(s);
    return -1;
  }
  *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port : ((struct sockaddr_in *)&a)->sin_port);
  return s;
}

void fds_rejoin_publish(void) {
  const struct fd_table *t = fds_table();
  g_nrejoin = 0;
  const char *keys[MAX_RECONNECT], *values[MAX_RECONNECT];
  static char vbuf[MAX_RECONNECT][192];
  int np = 0;
  for (uint32_t i = 0; i < t->n && g_nrejoin < MAX_RECONNECT; i++) {
    struct fd_entry *e = &t->entries[i];
    if (!wants_rejoin(e)) continue;
    struct rejoin *j = &g_rejoin[g_nrejoin++];
    memset(j, 0, sizeof *j);
    j->e = e;
    j->sock = -1;
    fds_socket_keys(e, j->mine, j->peer, sizeof j->mine);
    j->accepting = strcmp(j->mine, j->peer) < 0;
    if (!j->accepting) continue;
    if (e->rec.u[0] == AF_UNIX) {
      rt_log("a Unix socket's peer was restarted on its own; the connection cannot be made again", NULL);
      j->done = -1;
      continue;
    }
    int port = 0;
    j->sock = listen_anywhere(e, &port);
    if (j->sock < 0) {
      j->done = -1;
      continue;
    }
    /* published under the peer's key: it looks up its own */
    static char kbuf[MAX_RECONNECT][200];
    size_t n = rt_strlcpy(kbuf[np], "rejoin:", sizeof kbuf[np]);
    rt_strlcpy(kbuf[np] + n, j->peer, sizeof kbuf[np] - n);
    where(vbuf[np], sizeof vbuf[np], port);
    keys[np] = kbuf[np];
    values[np] = vbuf[np];
    np++;
  }
  if (np) names_publish(keys, values, np);
}

/* Connects (without blocking) to where: this host's loopback if it is ours,
 * else its first address. */
static int connect_to(const struct fd_entry *e, const char *where_text) {
  char host[128] = "", me[128] = "";
  const char *p = strchr(where_text, ' ');
  if (!p) return -1;
  size_t hl = (size_t)(p - where_text) < sizeof host - 1 ? (size_t)(p - where_text) : sizeof host - 1;
  memcpy(host, where_text, hl);
  host[hl] = '\0';
  long port = 0;
  for (p++; *p >= '0' && *p <= '9'; p++) port = port * 10 + (*p - '0');
  while (*p == ' ') p++;
  char addr[64] = "127.0.0.1";
  gethostname(me, sizeof me - 1);
  if (strcmp(host, me) != 0) {
    size_t k = 0;
    while (p[k] && p[k] != ',' && k < sizeof addr - 1) {
      addr[k] = p[k];
      k++;
    }
    addr[k] = '\0';
    if (!k) return -1;
  }
  int family = (int)e->rec.u[0];
  int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  sockopts_apply(s, &e->rec);
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  socklen_t len;
  if (family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    char mapped[80] = "::ffff:";
    rt_strlcpy(mapped + 7, addr, sizeof mapped - 7);
    inet_pton(AF_INET6, mapped, &in6->sin6_addr);
    len = sizeof *in6;
  } else {
    struct sockaddr_in *in = (struct sockaddr_in *)&a;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, addr, &in->sin_addr);
    len = sizeof *in;
  }
  if (connect(s, (struct sockaddr *)&a, len) != 0 && errno != EINPROGRESS) {
    close(s);
    return -1;
  }
  return s;
}

/* The new connection takes the old socket's place, with its flags. */
static void put_in_place(struct rejoin *j, int conn) {
  struct fd_entry *e = j->e;
  sockopts_apply(conn, &e->rec);
  fcntl(conn, F_SETFL, (int)(e->rec.status_flags & (O_NONBLOCK | O_ASYNC)));
  int fdflags = fcntl(e->rec.fd, F_GETFD);
  if (dup3(conn, e->rec.fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) rt_log("cannot put a reconnected socket in place", NULL);
  close(conn);
  j->done = 1;
}

void fds_rejoin_resolve(void) {
  const char *keys[MAX_RECONNECT];
  static char kbuf[MAX_RECONNECT][200];
  static char answers[MAX_RECONNECT][192];
  static int found[MAX_RECONNECT];
  struct rejoin *asking[MAX_RECONNECT];
  int nq = 0;
  for (int k = 0; k < g_nrejoin; k++) {
    struct rejoin *j = &g_rejoin[k];
    if (j->accepting || j->done) continue;
    size_t n = rt_strlcpy(kbuf[nq], "rejoin:", sizeof kbuf[nq]);
    rt_strlcpy(kbuf[nq] + n, j->mine, sizeof kbuf[nq] - n);
    keys[nq] = kbuf[nq];
    asking[nq++] = j;
  }
  if (nq && names_query(keys, (char(*)[192])answers, nq, found) == 0) {
    for (int q = 0; q < nq; q++) {
      if (found[q]) asking[q]->sock = connect_to(asking[q]->e, answers[q]);
      if (asking[q]->sock < 0) asking[q]->done = -1;
    }
  }
  long deadline = rt_monotonic_ms() + RECONNECT_TIMEOUT_MS;
  static struct pollfd p[MAX_RECONNECT];
  for (;;) {
    int open = 0;
    for (int k = 0; k < g_nrejoin; k++) {
      struct rejoin *j = &g_rejoin[k];
      p[k].fd = j->done ? -1 : j->sock;
      p[k].events = j->accepting ? POLLIN : POLLOUT;
      p[k].revents = 0;
      open += !j->done;
    }
    if (!open) break;
    long left = deadline - rt_monotonic_ms();
    if (left <= 0) break;
    if (poll(p, (nfds_t)g_nrejoin, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR) break;
    for (int k = 0; k < g_nrejoin; k++) {
      struct rejoin *j = &g_rejoin[k];
      if (j->done || !p[k].revents) continue;
      if (j->accepting) {
        int conn = accept4(j->sock, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) continue;
        close(j->sock);
        j->sock = -1;
        put_in_place(j, conn);
      } else {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(j->sock, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
          j->done = -1;
          continue;
        }
        int conn = j->sock;
        j->sock = -1;
        put_in_place(j, conn);
      }
    }
  }
  for (int k = 0; k < g_nrejoin; k++) {
    struct rejoin *j = &g_rejoin[k];
    if (j->sock >= 0) close(j->sock);
    j->sock = -1;
    if (j->done != 1) {
      char name[400];
      fds_socket_name(j->e, name, sizeof name);
      rt_log("restart: the connection to a member restarted elsewhere could not be made again (its peer did not come back): ", name);
    }
  }
  g_nrejoin = 0;
}
