/* Two processes over TCP on 127.0.0.1 whose bytes in flight sit in the
 * receive queues, sent and acknowledged, most of the time: each round both
 * write a 64 KiB block to the other, wait 300 ms, then read the other's
 * block and check every byte (round and sender). A checkpoint then finds
 * both ends with nothing unsent: the runtime copies the queues without
 * taking them (docs/descriptors.md), so a resume must find them exactly as
 * they were, and a restart must put them back from the image. A lost,
 * doubled or reordered byte shows as the wrong byte at the wrong place. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

#define BLOCK (64 * 1024) /* well within a loopback receive queue: never left unsent */

static unsigned char byte_of(long round, int from, size_t i) {
  return (unsigned char)(i * 131 + (size_t)round * 17 + (size_t)from * 7);
}

static void full(int fd, unsigned char *p, size_t n, int writing) {
  while (n) {
    ssize_t got = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) damaged(writing ? "send to the peer failed" : "the peer's connection ended");
    p += got;
    n -= (size_t)got;
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int lst = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof a) != 0 || listen(lst, 1) != 0 ||
      getsockname(lst, (struct sockaddr *)&a, &len) != 0)
    damaged("cannot listen on 127.0.0.1");
  pid_t child = fork();
  if (child < 0) damaged("fork failed");
  int me = child == 0, fd;
  if (me) {
    close(lst);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) damaged("child: cannot connect");
  } else {
    fd = accept(lst, NULL, NULL);
    close(lst);
    if (fd < 0) damaged("parent: accept failed");
  }
  static unsigned char out[BLOCK], in[BLOCK];
  for (long round = 0;; round++) {
    for (size_t i = 0; i < BLOCK; i++) out[i] = byte_of(round, me, i);
    full(fd, out, BLOCK, 1);
    tick(300); /* the block waits in the peer's queue, acknowledged */
    full(fd, in, BLOCK, 0);
    for (size_t i = 0; i < BLOCK; i++)
      if (in[i] != byte_of(round, !me, i)) {
        char what[128];
        snprintf(what, sizeof what, "%s: byte %zu of round %ld from the peer is wrong", me ? "child" : "parent", i,
                 round);
        damaged(what);
      }
    if (!me) progress(round);
  }
}
