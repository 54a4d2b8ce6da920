/* One player of a ring passing a token over TCP (like DMTCP's frisbee):
 * frisbee MY_PORT NEXT_PORT STARTER. Each listens on 127.0.0.1:MY_PORT,
 * connects to the next player, accepts the previous one, and passes the token
 * on, incremented. With three players each sees the token grow by 3 from
 * throw to throw; the starter throws first and prints PROGRESS every 100
 * rounds. Anything else is damage. */
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

int main(int argc, char **argv) {
  if (argc != 4) damaged("usage: frisbee MY_PORT NEXT_PORT STARTER");
  signal(SIGPIPE, SIG_IGN);
  int me = atoi(argv[1]), next = atoi(argv[2]), starter = atoi(argv[3]), one = 1;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)me), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) damaged("a player cannot listen");
  int out = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = htons((uint16_t)next);
  for (int tries = 0; connect(out, (struct sockaddr *)&a, sizeof a) != 0; tries++) {
    if (tries > 500) damaged("a player cannot reach the next one");
    close(out);
    out = socket(AF_INET, SOCK_STREAM, 0);
    tick(10);
  }
  int in = accept(l, NULL, NULL);
  if (in < 0) damaged("a player cannot accept the previous one");
  uint64_t token = 0, last = 0;
  int first = 1;
  if (starter && full_socket(out, &token, sizeof token, 1)) exit(0);
  for (long rounds = 0;;) {
    if (full_socket(in, &token, sizeof token, 0)) exit(0);
    if (!first && token != last + 3) damaged("the token skipped or went back");
    first = 0;
    last = token;
    token++;
    if (full_socket(out, &token, sizeof token, 1)) exit(0);
    if (starter && ++rounds % 100 == 0) {
      progress(rounds / 100 - 1);
      tick(50);
    }
  }
}
