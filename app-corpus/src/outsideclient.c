/* A client of a server outside the computation (usage: outsideclient PORT,
 * on 127.0.0.1): it sends numbers and reads them back. When the connection
 * fails (after a restart it is not connected: the peer was not checkpointed)
 * it says DISCONNECTED once and goes on counting without it. A hang or a
 * crash is the failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progress.h"

int main(int argc, char **argv) {
  if (argc != 2) damaged("usage: outsideclient PORT");
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) damaged("cannot reach the outside server");
  struct timeval tv = {5, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int connected = 1;
  for (long n = 0;; n++) {
    if (connected) {
      int64_t back = -1;
      ssize_t put = send(c, &n, sizeof n, MSG_NOSIGNAL);
      ssize_t got = put == (ssize_t)sizeof n ? recv(c, &back, sizeof back, MSG_WAITALL) : -1;
      if (got != (ssize_t)sizeof back) {
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) damaged("the connection hangs");
        printf("DISCONNECTED\n");
        connected = 0;
      } else if (back != n) {
        damaged("the outside server's echo is wrong");
      }
    }
    progress(n);
    tick(100);
  }
}
