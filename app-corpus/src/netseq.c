/* A TCP server and client on different hosts, with megabytes in flight:
 *   netseq serve PORT LOG          listens on every address, takes one client;
 *   netseq connect HOST PORT LOG   streams sequence numbers to it.
 * The server reads slowly, so the queues stay full, and answers with the
 * count it has seen every 10,000 numbers; both check every number and every
 * answer. Each appends "PROGRESS n <host name>" (the server) or "ERROR what"
 * to LOG, opened O_APPEND, as hostcounter does. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fullio.h"
#include "progress.h"

static int g_log = -1;

static void say(const char *what, long n) {
  struct utsname u;
  uname(&u);
  char line[256];
  int len = what ? snprintf(line, sizeof line, "ERROR %s\n", what) : snprintf(line, sizeof line, "PROGRESS %ld %s\n", n, u.nodename);
  if (write(g_log, line, (size_t)len) != len) exit(1);
  if (what) exit(1);
}

static void serve(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) say("the server cannot listen", 0);
  int s = accept(l, NULL, NULL);
  if (s < 0) say("the server cannot accept", 0);
  uint64_t expect = 0;
  for (long n = 0;; n++) {
    uint64_t block[1250];
    for (int r = 0; r < 8; r++) {
      if (full_socket(s, block, sizeof block, 0)) exit(0);
      for (int k = 0; k < 1250; k++)
        if (block[k] != expect++) say("the server got a number out of order, twice or not at all", 0);
    }
    if (full_socket(s, &expect, sizeof expect, 1)) exit(0);
    say(NULL, n);
    tick(100);
  }
}

static void connect_to(const char *host, const char *port) {
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
  int c = -1;
  for (int tries = 0; tries < 600 && c < 0; tries++) {
    if (getaddrinfo(host, port, &hints, &ai) == 0) {
      c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(c);
        c = -1;
      }
      freeaddrinfo(ai);
    }
    if (c < 0) tick(100);
  }
  if (c < 0) say("the client cannot reach the server", 0);
  uint64_t block[1024], next = 0, acked = 0;
  for (;;) {
    for (int k = 0; k < 1024; k++) block[k] = next++;
    if (full_socket(c, block, sizeof block, 1)) exit(0);
    uint64_t ack;
    while (recv(c, &ack, sizeof ack, MSG_DONTWAIT | MSG_PEEK) == (ssize_t)sizeof ack) {
      if (full_socket(c, &ack, sizeof ack, 0)) exit(0);
      if (ack != acked + 10000) say("the client got an acknowledgement out of order", 0);
      acked = ack;
    }
  }
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  int serving = argc == 4 && !strcmp(argv[1], "serve"), connecting = argc == 5 && !strcmp(argv[1], "connect");
  if (!serving && !connecting) {
    fprintf(stderr, "usage: netseq serve PORT LOG | netseq connect HOST PORT LOG\n");
    return 99;
  }
  g_log = open(argv[argc - 1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (g_log < 0) return 99;
  if (serving) serve(atoi(argv[2]));
  else connect_to(argv[2], argv[3]);
  return 0;
}
