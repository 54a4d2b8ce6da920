/* Listeners that came back on another port (their port was taken on the host
 * of the restart) and the members that connect to them.
 *
 *   NS_PUBLISHED  a process whose listener now has another port than the
 *                 image's publishes "moved:<host>:<old address>" with where
 *                 it listens now;
 *   NS_RESOLVED   every process reads all "moved:" entries (NS_LIST) into a
 *                 table of its own;
 *   connect()     a TCP connect to an address of the table goes to the new
 *                 port instead. The table is filled while the program's
 *                 threads are parked and only read afterwards; when it is
 *                 empty, connect() costs one test more.
 * No malloc, no stdio on the checkpoint thread. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_MOVED 256

struct moved { char host[64]; int family; uint16_t old_port, new_port; unsigned char addr[16]; int any; };
static struct moved g_moved[MAX_MOVED];
static int g_nmoved;

/* This process's own moved listeners: the address the program bound stays
 * the one recorded at the next checkpoints, so every restart tries it first
 * (and publishes the move again if it is still taken). */
struct own_move { int fd; uint16_t now_port; char original[2 * sizeof(struct sockaddr_storage) + 1]; };
static struct own_move g_own[MAX_MOVED];
static int g_nown;

const char *fds_moved_original(int fd) {
  struct sockaddr_storage now;
  socklen_t len = sizeof now;
  for (int i = 0; i < g_nown; i++) {
    if (g_own[i].fd != fd) continue;
    if (getsockname(fd, (struct sockaddr *)&now, &len) != 0 ||
        ntohs(now.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&now)->sin6_port
                                        : ((struct sockaddr_in *)&now)->sin_port) != g_own[i].now_port)
      return NULL; /* another socket has the number now */
    return g_own[i].original;
  }
  return NULL;
}

static const struct dmtcp_fd_extra *own_address(const struct fd_entry *e) {
  const struct fd_table *t = fds_table();
  for (uint32_t x = 0; x < e->rec.num_extras; x++) {
    const struct dmtcp_fd_extra *a = &t->extras[e->rec.first_extra + x];
    if (a->kind == DMTCP_FX_SOCKADDR && a->a == 0) return a;
  }
  return NULL;
}

static int from_hex(const char *h, unsigned char *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = h[2 * i], lo = h[2 * i + 1];
    hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
    lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}

static uint16_t port_of(const struct sockaddr_storage *a) {
  return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                        : ((const struct sockaddr_in *)a)->sin_port);
}

void fds_moved_publish(void) {
  const struct fd_table *t = fds_table();
  char host[64] = "";
  gethostname(host, sizeof host - 1);
  static char kbuf[MAX_MOVED][192], vbuf[MAX_MOVED][192];
  const char *keys[MAX_MOVED], *values[MAX_MOVED];
  int n = 0;
  for (uint32_t i = 0; i < t->n && n < MAX_MOVED; i++) {
    const struct fd_entry *e = &t->entries[i];
    if (e->rec.kind != DMTCP_FD_SOCKET || !(e->rec.u[3] & DMTCP_SK_LISTENING) || e->rec.fd < 0 ||
        (e->rec.u[0] != AF_INET && e->rec.u[0] != AF_INET6))
      continue;
    const struct dmtcp_fd_extra *was = own_address(e);
    struct sockaddr_storage old, now;
    socklen_t len = sizeof now;
    if (!was || was->b > sizeof old || from_hex(t->strings + was->path_off, (unsigned char *)&old, was->b) != 0 ||
        getsockname(e->rec.fd, (struct sockaddr *)&now, &len) != 0 || port_of(&now) == port_of(&old))
      continue;
    /* key: moved:<host>:<old address in hex>; value: the new port */
    size_t k = rt_strlcpy(kbuf[n], "moved:", sizeof kbuf[n]);
    k += rt_strlcpy(kbuf[n] + k, host, sizeof kbuf[n] - k);
    k += rt_strlcpy(kbuf[n] + k, ":", sizeof kbuf[n] - k);
    rt_strlcpy(kbuf[n] + k, t->strings + was->path_off, sizeof kbuf[n] - k);
    rt_utoa(vbuf[n], port_of(&now));
    int k2 = 0;
    while (k2 < g_nown && g_own[k2].fd != e->rec.fd) k2++;
    if (k2 < MAX_MOVED) {
      g_own[k2].fd = e->rec.fd;
      g_own[k2].now_port = port_of(&now);
      rt_strlcpy(g_own[k2].original, t->strings + was->path_off, sizeof g_own[k2].original);
      if (k2 == g_nown) g_nown++;
    }
    keys[n] = kbuf[n];
    values[n] = vbuf[n];
    n++;
  }
  if (n) names_publish(keys, values, n);
}

void fds_moved_fetch(void) {
  static char keys[MAX_MOVED][192], values[MAX_MOVED][192];
  int n = names_list("moved:", keys, values, MAX_MOVED);
  g_nmoved = 0;
  for (int i = 0; i < n; i++) {
    struct moved *m = &g_moved[g_nmoved];
    const char *host = keys[i] + 6, *colon = strchr(host, ':');
    if (!colon || (size_t)(colon - host) >= sizeof m->host) continue;
    memcpy(m->host, host, (size_t)(colon - host));
    m->host[colon - host] = '\0';
    struct sockaddr_storage old;
    size_t hl = strlen(colon + 1) / 2;
    if (hl > sizeof old || from_hex(colon + 1, (unsigned char *)&old, hl) != 0) continue;
    m->family = old.ss_family;
    m->old_port = port_of(&old);
    long p = 0;
    for (const char *c = values[i]; *c >= '0' && *c <= '9'; c++) p = p * 10 + (*c - '0');
    m->new_port = (uint16_t)p;
    if (old.ss_family == AF_INET) {
      memcpy(m->addr, &((struct sockaddr_in *)&old)->sin_addr, 4);
      m->any = ((struct sockaddr_in *)&old)->sin_addr.s_addr == htonl(INADDR_ANY);
    } else {
      memcpy(m->addr, &((struct sockaddr_in6 *)&old)->sin6_addr, 16);
      m->any = !memcmp(m->addr, &in6addr_any, 16);
    }
    g_nmoved++;
  }
}

static int loopback(const struct sockaddr *a) {
  if (a->sa_family == AF_INET) return ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24 == 127;
  return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &in6addr_loopback, 16);
}

/* The moved listener a connect to a goes to, or NULL. A listener bound to
 * every address of its host is matched by port, from its host (loopback) or
 * at any address (its host's own addresses are not known here). */
static const struct moved *moved_for(const struct sockaddr *a) {
  char host[64] = "";
  for (int i = 0; i < g_nmoved; i++) {
    const struct moved *m = &g_moved[i];
    if (m->family != a->sa_family) continue;
    const unsigned char *addr;
    uint16_t port;
    if (a->sa_family == AF_INET) {
      addr = (const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr;
      port = ntohs(((const struct sockaddr_in *)a)->sin_port);
    } else {
      addr = (const unsigned char *)&((const struct sockaddr_in6 *)a)->sin6_addr;
      port = ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    }
    if (port != m->old_port) continue;
    if (!m->any && memcmp(addr, m->addr, a->sa_family == AF_INET ? 4 : 16) != 0) continue;
    if (loopback(a)) { /* only the listener's own host reaches it there */
      if (!host[0]) gethostname(host, sizeof host - 1);
      if (strcmp(host, m->host) != 0) continue;
    }
    return m;
  }
  return NULL;
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*next)(int, const struct sockaddr *, socklen_t);
  if (!next) next = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  const struct moved *m = g_nmoved && addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
                              ? moved_for(addr) : NULL;
  if (!m) return next(fd, addr, len);
  struct sockaddr_storage to;
  memcpy(&to, addr, len < sizeof to ? len : sizeof to);
  if (to.ss_family == AF_INET) ((struct sockaddr_in *)&to)->sin_port = htons(m->new_port);
  else ((struct sockaddr_in6 *)&to)->sin6_port = htons(m->new_port);
  return next(fd, (const struct sockaddr *)&to, len);
}
