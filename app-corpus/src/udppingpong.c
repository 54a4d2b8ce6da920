/* UDP ping-pong across a checkpoint: the parent pings the child with
 * sequence numbers over connected UDP sockets bound to 127.0.0.1, the child
 * answers each with the same number. UDP may lose a datagram (one in flight
 * at a restart is), so the parent sends a ping again after 200 ms without its
 * answer; numbers must never go back. PROGRESS every 100 answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progress.h"

static int bound(struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  socklen_t len = sizeof *a;
  a->sin_family = AF_INET;
  a->sin_port = 0;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || bind(s, (struct sockaddr *)a, sizeof *a) || getsockname(s, (struct sockaddr *)a, &len))
    damaged("cannot bind a UDP socket");
  return s;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in pa, ca;
  int ps = bound(&pa), cs = bound(&ca);
  if (connect(ps, (struct sockaddr *)&ca, sizeof ca) || connect(cs, (struct sockaddr *)&pa, sizeof pa))
    damaged("cannot connect the UDP sockets");
  fflush(stdout);
  if (fork() == 0) {
    close(ps);
    uint64_t last = 0, v;
    for (;;) {
      ssize_t got = recv(cs, &v, sizeof v, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got != (ssize_t)sizeof v) damaged("the child got a broken ping");
      if (v < last) damaged("a ping went back");
      last = v;
      if (send(cs, &v, sizeof v, 0) < 0 && errno != ECONNREFUSED) exit(0);
    }
  }
  close(cs);
  uint64_t n = 0;
  for (long answers = 0;;) {
    if (send(ps, &n, sizeof n, 0) < 0 && errno != ECONNREFUSED && errno != EINTR) exit(0);
    struct pollfd p = {ps, POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r <= 0) continue; /* lost (or interrupted): ping again */
    uint64_t v;
    /* not blocking: a datagram poll reported may be gone (select(2), BUGS),
     * as one in flight at a restart is */
    ssize_t got = recv(ps, &v, sizeof v, MSG_DONTWAIT);
    if (got < 0) continue;
    if (got != (ssize_t)sizeof v || v > n) damaged("an answer for a ping never sent");
    if (v < n) continue; /* an old answer to a ping sent again */
    n++;
    if (++answers % 100 == 0) {
      progress(answers / 100 - 1);
      tick(20);
    }
  }
}
