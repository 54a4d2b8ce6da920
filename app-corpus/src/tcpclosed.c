/* A server that answers and closes at once, as python3's http.server does,
 * over TCP on 127.0.0.1. Each round the client (the child) connects and
 * sends a 1000-byte request; the server (the parent) waits before accepting
 * it, reads and checks it, sends a 2 MiB answer and closes; the client waits
 * before reading the answer, then checks every byte and the end.
 *
 * A checkpoint in the first wait finds the connection in the listener's
 * accept queue, its request sent; one in the second finds the server's end
 * closed by the server with most of the answer still on its way (the kernel
 * keeps sending it): no process holds that end. Both must come back whole,
 * after a resume and after a restart. The waits are TCPCLOSED_PAUSE_MS
 * (default 300) each; the program says "WAITING n" (once the connection is
 * queued) and "CLOSED n" as each begins, so that a test can checkpoint
 * inside one. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

#define REQUEST 1000
#define ANSWER (2 * 1024 * 1024)

static unsigned char byte_of(long round, int answer, size_t i) {
  return (unsigned char)(i * 151 + (size_t)round * 13 + (size_t)answer * 101 + i / 4096);
}

static void say(const char *what, long round) {
  printf("%s %ld\n", what, round);
  fflush(stdout);
}

static void send_all(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t put = send(fd, p, n, MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) damaged("send failed");
    p += put;
    n -= (size_t)put;
  }
}

/* Reads exactly n bytes, then expects the end when end is set. */
static void read_all(int fd, unsigned char *p, size_t n, int end) {
  while (n) {
    ssize_t got = recv(fd, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) damaged("recv failed");
    if (got == 0) damaged("the connection ended early");
    p += got;
    n -= (size_t)got;
  }
  unsigned char extra;
  ssize_t got;
  while (end && (got = recv(fd, &extra, 1, 0)) < 0 && errno == EINTR) {
  }
  if (end && got != 0) damaged("bytes after the end of the answer");
}

static void check(const unsigned char *p, size_t n, long round, int answer, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != byte_of(round, answer, i)) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s of round %ld: byte %zu is wrong", what, round, i);
      damaged(msg);
    }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const char *env = getenv("TCPCLOSED_PAUSE_MS");
  long pause = env && *env ? atol(env) : 300;
  int lst = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof a) != 0 || listen(lst, 4) != 0 ||
      getsockname(lst, (struct sockaddr *)&a, &len) != 0)
    damaged("cannot listen on 127.0.0.1");
  static unsigned char buf[ANSWER];
  pid_t child = fork();
  if (child < 0) damaged("fork failed");
  for (long round = 0;; round++) {
    if (child == 0) {
      if (round == 0) close(lst);
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) damaged("client: cannot connect");
      for (size_t i = 0; i < REQUEST; i++) buf[i] = byte_of(round, 0, i);
      send_all(fd, buf, REQUEST);
      read_all(fd, buf, 1, 0); /* the server's first byte: it has answered and closed */
      say("CLOSED", round);
      tick(pause);
      read_all(fd, buf + 1, ANSWER - 1, 1);
      check(buf, ANSWER, round, 1, "the answer");
      close(fd);
      progress(round);
    } else {
      /* the client's connection is in the accept queue: wait before taking it */
      struct pollfd p = {lst, POLLIN, 0};
      while (poll(&p, 1, -1) != 1) {
      }
      say("WAITING", round);
      tick(pause);
      int fd = accept(lst, NULL, NULL);
      if (fd < 0) damaged("server: accept failed");
      read_all(fd, buf, REQUEST, 0);
      check(buf, REQUEST, round, 0, "the request");
      for (size_t i = 0; i < ANSWER; i++) buf[i] = byte_of(round, 1, i);
      send_all(fd, buf, ANSWER);
      close(fd);
    }
  }
}
