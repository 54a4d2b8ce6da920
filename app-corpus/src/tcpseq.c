/* A TCP client and server exchanging sequence numbers, with megabytes in
 * flight at any moment: the server (parent) listens on 127.0.0.1, the client
 * (child) connects and streams numbers as fast as it can; the server reads
 * them slowly, so its receive queue and the client's send queue stay full
 * (a few MiB with the buffers set large). The server answers with the count
 * it has seen every 10,000 numbers; both check every number arrives once,
 * in order. With the argument v6, over IPv6 (::1). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fullio.h"
#include "progress.h"

#define BUF (4 << 20)

static void big_buffers(int fd) {
  int v = BUF;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  int v6 = argc > 1 && !strcmp(argv[1], "v6"), family = v6 ? AF_INET6 : AF_INET;
  int l = socket(family, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  big_buffers(l);
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  if (v6) {
    ((struct sockaddr_in6 *)&a)->sin6_family = AF_INET6;
    ((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
  } else {
    ((struct sockaddr_in *)&a)->sin_family = AF_INET;
    ((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (bind(l, (struct sockaddr *)&a, len) || listen(l, 4) || getsockname(l, (struct sockaddr *)&a, &len))
    damaged("the server cannot listen");
  fflush(stdout);
  if (fork() == 0) {
    close(l);
    int c = socket(family, SOCK_STREAM, 0);
    big_buffers(c);
    if (connect(c, (struct sockaddr *)&a, len)) damaged("the client cannot connect");
    uint64_t block[1024], next = 0, acked = 0;
    for (;;) {
      for (int k = 0; k < 1024; k++) block[k] = next++;
      if (full_socket(c, block, sizeof block, 1)) exit(0);
      /* the server's acknowledgements, when there are some */
      uint64_t ack;
      while (recv(c, &ack, sizeof ack, MSG_DONTWAIT | MSG_PEEK) == (ssize_t)sizeof ack) {
        if (full_socket(c, &ack, sizeof ack, 0)) exit(0);
        if (ack != acked + 10000) damaged("the client got an acknowledgement out of order");
        acked = ack;
      }
    }
  }
  int s = accept(l, NULL, NULL);
  if (s < 0) damaged("the server cannot accept");
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint64_t expect = 0;
  for (long n = 0;; n++) {
    uint64_t block[1250];
    for (int r = 0; r < 8; r++) {
      if (full_socket(s, block, sizeof block, 0)) exit(0);
      for (int k = 0; k < 1250; k++)
        if (block[k] != expect++) damaged("the server got a number out of order, twice or not at all");
    }
    if (full_socket(s, &expect, sizeof expect, 1)) exit(0);
    int nodelay = 0;
    socklen_t nl = sizeof nodelay;
    if (getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nodelay, &nl) || !nodelay) damaged("the connection lost TCP_NODELAY");
    progress(n);
    tick(100);
  }
}
