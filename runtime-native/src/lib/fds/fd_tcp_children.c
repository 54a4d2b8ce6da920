/* The server-side ends of a TCP listener's connections that no process holds,
 * from the kernel's sock_diag (what `ss -t` reads; no privilege needed):
 *
 *   waiting   in the listener's accept queue, not accepted yet (ESTABLISHED
 *             or CLOSE_WAIT);
 *   orphaned  accepted, then closed by the server while bytes were still on
 *             their way: the kernel keeps sending them, then the FIN
 *             (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK).
 *
 * Both have no inode. Their clients look alike from their own side (a
 * connection to a member's listener whose peer no member holds); only the
 * listener's host can tell them apart, so it publishes which is which
 * (fd_sockets.c). Runs on the checkpoint thread: no malloc, no stdio. */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fds/fds.h"

/* TCP states, as the kernel numbers them (include/net/tcp_states.h) */
enum { ST_ESTABLISHED = 1, ST_FIN_WAIT1 = 4, ST_FIN_WAIT2 = 5, ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9, ST_CLOSING = 11 };
#define WAITING_STATES ((1u << ST_ESTABLISHED) | (1u << ST_CLOSE_WAIT))
#define ORPHAN_STATES ((1u << ST_FIN_WAIT1) | (1u << ST_FIN_WAIT2) | (1u << ST_LAST_ACK) | (1u << ST_CLOSING))

/* An address of the dump as the socket API gives it: a v4-mapped IPv6
 * address (a dual-stack listener's IPv4 client) as the IPv4 address the
 * client itself sees. */
static socklen_t to_sockaddr(int family, const __be32 addr[4], __be16 port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET || (family == AF_INET6 && !memcmp(addr, mapped, sizeof mapped))) {
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    in->sin_family = AF_INET;
    in->sin_port = port;
    memcpy(&in->sin_addr, family == AF_INET ? &addr[0] : &addr[3], 4);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = port;
  memcpy(&in6->sin6_addr, addr, 16);
  return sizeof *in6;
}

static long g_buf[8192]; /* 64 KiB: one read of the dump */

int fds_tcp_children(int family, const uint16_t *ports, int nports, fds_tcp_child_fn fn, void *ctx) {
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return -1;
  struct {
    struct nlmsghdr h;
    struct inet_diag_req_v2 r;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.sdiag_family = (uint8_t)family;
  req.r.sdiag_protocol = IPPROTO_TCP;
  req.r.idiag_states = WAITING_STATES | ORPHAN_STATES;
  int rc = -1;
  if (send(nl, &req, sizeof req, 0) != (ssize_t)sizeof req) goto out;
  for (;;) {
    ssize_t n = recv(nl, g_buf, sizeof g_buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto out;
    for (struct nlmsghdr *h = (struct nlmsghdr *)g_buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        rc = 0;
        goto out;
      }
      if (h->nlmsg_type == NLMSG_ERROR) goto out;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      if (m->idiag_inode != 0) continue; /* some process holds it */
      uint16_t port = ntohs(m->id.idiag_sport);
      int ours = 0;
      for (int k = 0; k < nports && !ours; k++) ours = ports[k] == port;
      if (!ours) continue;
      struct sockaddr_storage server, client;
      unsigned slen = to_sockaddr(m->idiag_family, m->id.idiag_src, m->id.idiag_sport, &server);
      unsigned clen = to_sockaddr(m->idiag_family, m->id.idiag_dst, m->id.idiag_dport, &client);
      fn(ctx, &server, slen, &client, clen, (WAITING_STATES >> m->idiag_state) & 1);
    }
  }
out:
  close(nl);
  return rc;
}
