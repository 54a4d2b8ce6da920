#include "common/sockopts.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void on(int fd, int level, int name, int v) { setsockopt(fd, level, name, &v, sizeof v); }

void sockopts_apply(int fd, const struct dmtcp_fd_record *r) {
  uint64_t o = r->u[7];
  if (o & DMTCP_SKO_REUSEADDR) on(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (o & DMTCP_SKO_REUSEPORT) on(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  if (o & DMTCP_SKO_KEEPALIVE) on(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  if (o & DMTCP_SKO_BROADCAST) on(fd, SOL_SOCKET, SO_BROADCAST, 1);
  if (o & DMTCP_SKO_OOBINLINE) on(fd, SOL_SOCKET, SO_OOBINLINE, 1);
  if (o & DMTCP_SKO_PASSCRED) on(fd, SOL_SOCKET, SO_PASSCRED, 1);
  if (o & DMTCP_SKO_NODELAY) on(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  if (r->u[0] == AF_INET6) on(fd, IPPROTO_IPV6, IPV6_V6ONLY, (o & DMTCP_SKO_V6ONLY) ? 1 : 0);
  if (r->u[8]) on(fd, SOL_SOCKET, SO_RCVBUF, (int)r->u[8]);
  if (r->u[9]) on(fd, SOL_SOCKET, SO_SNDBUF, (int)r->u[9]);
  if (r->u[10]) {
    struct linger lg = {1, (int)(uint32_t)r->u[10]};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
}
