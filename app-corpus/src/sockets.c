/* Unix sockets across a checkpoint, between a parent and a child:
 * - a stream socketpair the parent fills with sequence numbers, the child
 *   reading behind (bytes in flight);
 * - a seqpacket socketpair with messages of varying length (boundaries kept);
 * - a datagram socketpair the child answers on;
 * - descriptors passed with SCM_RIGHTS: the parent sends the child the read
 *   end of a fresh pipe holding a number, the child reads it through it;
 * - a named listener (a path in the working directory) with a connection
 *   the child made and the parent never accepts: it stays in the backlog;
 * - a listener with an abstract name, and a connection through it the two
 *   exchange a byte on every round.
 * Every check names the socket that broke. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fullio.h"
#include "progress.h"

static void pass_fd(int sock, int fd, uint64_t tag) {
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {&tag, sizeof tag};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) exit(0);
}

static int take_fd(int sock, uint64_t *tag) {
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {tag, sizeof *tag};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t got;
  while ((got = recvmsg(sock, &mh, 0)) < 0 && errno == EINTR) {
  }
  if (got == 0) exit(0);
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  if (got != (ssize_t)sizeof *tag || !c || c->cmsg_type != SCM_RIGHTS) damaged("a message on the rights socket came without its descriptor");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static struct sockaddr_un g_abstract = {.sun_family = AF_UNIX};
static socklen_t g_abstract_len;

static void child(int stream, int seq, int dgram, int rights) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, "sockets-listener");
  int pending = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(pending, (struct sockaddr *)&a, sizeof a)) damaged("the child cannot reach the named listener");
  int ab = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(ab, (struct sockaddr *)&g_abstract, g_abstract_len)) damaged("the child cannot reach the abstract listener");
  uint64_t expect = 0;
  for (uint64_t n = 0;; n++) {
    uint64_t v[64];
    if (full_socket(stream, v, sizeof v, 0)) exit(0);
    for (int k = 0; k < 64; k++)
      if (v[k] != expect++) damaged("the stream socketpair lost or reordered bytes");
    if (n % 16 == 0) {
      char msg[512];
      ssize_t got = recv(seq, msg, sizeof msg, 0);
      if (got == 0) exit(0);
      size_t want = 1 + (n / 16) % 500;
      if (got != (ssize_t)want || msg[0] != (char)(n / 16) || msg[got - 1] != (char)(n / 16))
        damaged("the seqpacket socketpair lost a message or its boundary");
      uint64_t reply = n / 16;
      if (send(dgram, &reply, sizeof reply, MSG_NOSIGNAL) != (ssize_t)sizeof reply) exit(0);
      char b = (char)reply;
      if (full_socket(ab, &b, 1, 1)) exit(0);
      uint64_t tag;
      int pr = take_fd(rights, &tag);
      uint64_t in_pipe;
      if (read(pr, &in_pipe, sizeof in_pipe) != (ssize_t)sizeof in_pipe || in_pipe != tag)
        damaged("a descriptor passed with SCM_RIGHTS is not the pipe it was");
      close(pr);
    }
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int st[2], sq[2], dg[2], rt[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) ||
      socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || socketpair(AF_UNIX, SOCK_STREAM, 0, rt))
    damaged("socketpair failed");
  unlink("sockets-listener");
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, "sockets-listener");
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) damaged("cannot listen on a path");
  int n_ab = snprintf(g_abstract.sun_path + 1, sizeof g_abstract.sun_path - 1, "dmtcp-corpus-sockets-%d", (int)getpid());
  g_abstract_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n_ab);
  int al = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(al, (struct sockaddr *)&g_abstract, g_abstract_len) || listen(al, 4)) damaged("cannot listen on an abstract name");
  fflush(stdout);
  if (fork() == 0) {
    close(st[0]);
    close(sq[0]);
    close(dg[0]);
    close(rt[0]);
    close(l);
    child(st[1], sq[1], dg[1], rt[1]);
  }
  close(st[1]);
  close(sq[1]);
  close(dg[1]);
  close(rt[1]);
  int abc = accept(al, NULL, NULL);
  if (abc < 0) damaged("cannot accept on the abstract listener");
  fcntl(abc, F_SETFL, O_NONBLOCK);
  uint64_t ab_seen = 0;
  fcntl(st[0], F_SETFL, O_NONBLOCK);
  uint64_t next = 0, sent_msgs = 0, replies = 0;
  char pending_msg[512];
  for (long n = 0;; n++) {
    /* fill the stream until it would block: bytes in flight */
    for (int k = 0; k < 200; k++) {
      uint64_t v[64];
      for (int j = 0; j < 64; j++) v[j] = next + (uint64_t)j;
      ssize_t put = send(st[0], v, sizeof v, MSG_NOSIGNAL);
      if (put == (ssize_t)sizeof v) {
        next += 64;
        if ((next / 64 - 1) % 16 == 0) {
          size_t want = 1 + sent_msgs % 500;
          memset(pending_msg, (char)sent_msgs, want);
          if (send(sq[0], pending_msg, want, MSG_NOSIGNAL) != (ssize_t)want) exit(0);
          int p[2];
          if (pipe(p)) damaged("pipe failed");
          uint64_t tag = sent_msgs * 7 + 1;
          if (write(p[1], &tag, sizeof tag) != (ssize_t)sizeof tag) damaged("pipe write failed");
          pass_fd(rt[0], p[0], tag);
          close(p[0]);
          close(p[1]);
          sent_msgs++;
        }
        continue;
      }
      if (put >= 0) damaged("a partial 512-byte write on the stream socketpair");
      if (errno == EAGAIN) break;
      if (errno == EPIPE || errno == ECONNRESET) exit(0);
      damaged("the stream socketpair failed");
    }
    uint64_t r;
    while (recv(dg[0], &r, sizeof r, MSG_DONTWAIT) == (ssize_t)sizeof r) {
      if (r != replies) damaged("the datagram socketpair lost or reordered a reply");
      replies++;
    }
    char b;
    while (recv(abc, &b, 1, MSG_DONTWAIT) == 1) {
      if (b != (char)ab_seen) damaged("the connection through the abstract listener lost or reordered a byte");
      ab_seen++;
    }
    struct sockaddr_un bound;
    socklen_t bl = sizeof bound;
    if (getsockname(al, (struct sockaddr *)&bound, &bl) || bl != g_abstract_len ||
        memcmp(bound.sun_path, g_abstract.sun_path, bl - offsetof(struct sockaddr_un, sun_path)))
      damaged("the abstract listener lost its name");
    struct pollfd pl = {l, POLLIN, 0};
    if (n > 5 && poll(&pl, 1, 0) != 1) damaged("the connection waiting in the named listener's backlog is gone");
    progress(n);
    tick(50);
  }
}
