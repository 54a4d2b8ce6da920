/* Pseudo-terminal pairs across a checkpoint: the bytes in flight both ways
 * (what the slave side wrote and the master has not read, what was typed into
 * the master and the slave side has not read) are taken out by the leader of
 * the master before the image is written, and put back after it and after a
 * restart, so a program talking to itself through a pty loses nothing.
 *
 * The master's leader does both directions itself: it reaches the slave
 * through TIOCGPTPEER, so it does not matter which process holds the slave.
 * The slave's input queue is taken in raw mode only (see fd_pty_drain), and
 * both queues are put back with the slave's termios raw for a moment when
 * they are not, so nothing is echoed, translated or turned into a signal a
 * second time. Runs on the
 * checkpoint thread, which blocks every signal, so changing the termios of a
 * terminal that is its process's controlling one cannot stop it (SIGTTOU).
 * No malloc, no stdio. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

#define QUEUE_MAX (256 * 1024) /* more than a tty buffers either way */

static int open_slave(int master) {
  return ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
}

/* Reads fd until it has nothing more (it is non-blocking); returns the bytes read. */
static size_t read_available(int fd, char *to, size_t room) {
  size_t got = 0;
  while (got < room) {
    ssize_t n = read(fd, to + got, room - got);
    if (n > 0) got += (size_t)n;
    else if (!(n < 0 && errno == EINTR)) break;
  }
  return got;
}

void fd_pty_drain(struct fd_entry *e) {
  int slave = open_slave(e->rec.fd);
  if (slave < 0) return; /* still locked, or the kernel is too old: nothing can be in flight to the slave */
  struct termios saved;
  e->data = tcgetattr(slave, &saved) == 0 ? rt_mmap(2 * QUEUE_MAX) : NULL;
  if (!e->data) {
    close(slave);
    return;
  }
  e->cap = 2 * QUEUE_MAX;
  /* what the slave side wrote: the master's queue, through the program's
   * descriptor (opening /dev/ptmx again would make a new pty) */
  int flags = fcntl(e->rec.fd, F_GETFL);
  fcntl(e->rec.fd, F_SETFL, flags | O_NONBLOCK);
  e->pty_split = read_available(e->rec.fd, e->data, QUEUE_MAX);
  fcntl(e->rec.fd, F_SETFL, flags);
  /* what was typed into the master: the slave's input queue. Only in raw
   * mode, and without touching the modes: the slave's holder describes them
   * for its image meanwhile. In canonical mode a partial line cannot be read
   * without changing them, and taking the whole lines before it would put
   * them back behind it: that queue stays (after a restart it is lost). */
  e->len = e->pty_split;
  if (!(saved.c_lflag & ICANON)) e->len += read_available(slave, e->data + e->pty_split, QUEUE_MAX);
  close(slave);
}

/* The bytes came out of these queues, so there is room for them again; a
 * queue that stays full for 2 s (a reader that put bytes in meanwhile) gives
 * up rather than hold the barrier. */
static int write_all(int fd, const char *p, size_t n) {
  int idle = 0;
  while (n) {
    ssize_t put = write(fd, p, n);
    if (put > 0) {
      p += put;
      n -= (size_t)put;
      idle = 0;
    } else if (put < 0 && errno == EAGAIN) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      if (poll(&pfd, 1, 100) == 0 && ++idle >= 20) return -1;
    } else if (!(put < 0 && errno == EINTR)) {
      return -1;
    }
  }
  return 0;
}

void fd_pty_refill(struct fd_entry *e) {
  if (!e->data || !e->len) {
    fd_pipe_release(e);
    return;
  }
  int slave = open_slave(e->rec.fd);
  struct termios saved, raw;
  if (slave < 0 || tcgetattr(slave, &saved) != 0) {
    rt_log("a pty pair was not restored; its bytes in flight are lost", NULL);
    if (slave >= 0) close(slave);
    fd_pipe_release(e);
    return;
  }
  raw = saved;
  raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IUCLC | IMAXBEL);
  raw.c_oflag &= ~(tcflag_t)OPOST;
  raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  /* (modes changed only when they differ: a program's raw mode is raw enough) */
  int changed = memcmp(&raw, &saved, sizeof raw) != 0;
  int ok = !changed || tcsetattr(slave, TCSANOW, &raw) == 0;
  size_t to_slave = e->len - e->pty_split;
  ok = ok && write_all(slave, e->data, e->pty_split) == 0 && write_all(e->rec.fd, e->data + e->pty_split, to_slave) == 0;
  /* The master's writes reach the slave's line discipline later, from a
   * kernel worker: wait until they are there before its modes come back. */
  for (int waited = 0; ok && changed && to_slave && waited < 1000; waited++) {
    int queued = 0;
    if (ioctl(slave, FIONREAD, &queued) != 0 || (size_t)queued >= to_slave) break;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  if (changed) tcsetattr(slave, TCSANOW, &saved);
  close(slave);
  if (!ok) rt_log("a pty pair could not take back all of its bytes in flight", NULL);
  fd_pipe_release(e);
}
