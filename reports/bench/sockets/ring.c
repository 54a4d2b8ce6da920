/* N processes in a ring over TCP on 127.0.0.1, each with MIB MiB in flight
 * to the next: process i listens on BASE+i, connects to BASE+(i+1)%N, writes
 * MIB MiB of a pattern into that connection and reads nothing, so the bytes
 * stay in the sockets' queues. On SIGUSR1 each reads what came from the
 * previous one, checks it and writes it again; process 0 prints "VERIFY ok"
 * once every process has (or "VERIFY ERROR ..."). usage: ring N MIB BASE */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fullio.h" /* app-corpus/src: the corpus programs' whole transfers */

static volatile sig_atomic_t verify;
static void on_usr1(int s) { (void)s; verify = 1; }

static unsigned char byte_of(int from, size_t i) { return (unsigned char)(i * 131 + (size_t)from * 7); }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 64, base = argc > 3 ? atoi(argv[3]) : 31000;
  size_t bytes = (size_t)(argc > 2 ? atof(argv[2]) * 1048576.0 : 1048576.0);
  signal(SIGPIPE, SIG_IGN);
  int me = 0;
  int report[2];
  if (pipe(report)) return 1;
  for (int i = 1; i < n; i++) {
    if (fork() == 0) {
      me = i;
      break;
    }
  }
  int one = 1, buf = (int)(bytes / 2 + 262144);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(l, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf)) setsockopt(l, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  a.sin_port = htons((uint16_t)(base + me));
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) return 1;
  int out = -1;
  a.sin_port = htons((uint16_t)(base + (me + 1) % n));
  for (int tries = 0; tries < 2000; tries++) {
    out = socket(AF_INET, SOCK_STREAM, 0);
    if (setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf)) setsockopt(out, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (connect(out, (struct sockaddr *)&a, sizeof a) == 0) break;
    close(out);
    out = -1;
    usleep(5000);
  }
  int in = accept(l, NULL, NULL);
  if (out < 0 || in < 0) return 1;
  unsigned char *data = malloc(bytes), *got = malloc(bytes);
  for (size_t i = 0; i < bytes; i++) data[i] = byte_of(me, i);
  signal(SIGUSR1, on_usr1);
  if (full_socket(out, data, bytes, 1)) return 1;
  if (me == 0) {
    printf("READY %d processes, %zu bytes in flight each\n", n, bytes);
    fflush(stdout);
  }
  for (;;) {
    pause();
    if (!verify) continue;
    verify = 0;
    int prev = (me + n - 1) % n, ok = full_socket(in, got, bytes, 0) == 0;
    for (size_t i = 0; ok && i < bytes; i++) ok = got[i] == byte_of(prev, i);
    if (full_socket(out, data, bytes, 1)) ok = 0;
    if (me != 0) {
      char r = ok ? 'y' : 'n';
      if (write(report[1], &r, 1) != 1) return 1;
      continue;
    }
    int all = ok;
    for (int k = 1; k < n; k++) {
      char r;
      if (read(report[0], &r, 1) != 1 || r != 'y') all = 0;
    }
    printf(all ? "VERIFY ok\n" : "VERIFY ERROR a ring link lost or changed bytes\n");
    fflush(stdout);
  }
}
