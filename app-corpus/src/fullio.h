/* Whole transfers for the corpus programs: each returns 0 once all n bytes
 * went, or -1 at the end of the stream or an error (EINTR is retried). */
#ifndef CORPUS_FULLIO_H
#define CORPUS_FULLIO_H
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* On a pipe, FIFO or terminal: read or write. */
static inline int full(int fd, void *buf, size_t n, int writing) {
  char *p = buf;
  while (n) {
    ssize_t got = writing ? write(fd, p, n) : read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* On a socket: send (never SIGPIPE) or recv. */
static inline int full_socket(int fd, void *buf, size_t n, int writing) {
  char *p = buf;
  while (n) {
    ssize_t got = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}
#endif
