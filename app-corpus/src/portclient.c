/* A server on a fixed port and a client that makes a new connection for
 * every request (as HTTP clients do): usage portclient PORT. The server (the
 * parent) answers each number with it xor a magic; the child checks every
 * answer, PROGRESS every 50. After a restart on a host where PORT is taken,
 * the server listens on another port and the client's connects to PORT must
 * reach it there, not whoever holds PORT now. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fullio.h"
#include "progress.h"

#define MAGIC 0x5ca1ab1e0ddba11ull

int main(int argc, char **argv) {
  if (argc != 2) damaged("usage: portclient PORT");
  signal(SIGPIPE, SIG_IGN);
  int port = atoi(argv[1]), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 16)) damaged("the server cannot listen on its port");
  fflush(stdout);
  if (fork() == 0) {
    close(l);
    for (uint64_t n = 0;; n++) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) damaged("the client cannot reach the server");
      uint64_t back;
      if (full_socket(c, &n, sizeof n, 1) || full_socket(c, &back, sizeof back, 0)) damaged("the server hung up on a request");
      if (back != (n ^ MAGIC)) damaged("a connection to the server's port reached someone else");
      close(c);
      if (n % 50 == 0) {
        progress((long)(n / 50));
        tick(50);
      }
    }
  }
  for (;;) {
    int s = accept(l, NULL, NULL);
    if (s < 0) continue;
    uint64_t v;
    if (full_socket(s, &v, sizeof v, 0) == 0) {
      v ^= MAGIC;
      full_socket(s, &v, sizeof v, 1);
    }
    close(s);
  }
}
