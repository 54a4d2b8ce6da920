/* A pseudo-terminal pair across a checkpoint. The parent holds the master;
 * the child is a session leader whose controlling terminal is the slave, in
 * raw mode with a window of 40x100 and VMIN 1. The parent types sequence
 * bytes into the master, 16 at a time, the child answers each one plus one,
 * and both check the modes, the window size and the controlling terminal stay
 * as they were. Each side waits a little before reading, so that most of the
 * time bytes are in flight one way or the other: a checkpoint must keep them
 * (a lost byte stops the pair: each waits for the other). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "fullio.h"
#include "progress.h"

static void check_slave(int fd) {
  struct termios t;
  struct winsize ws;
  if (tcgetattr(fd, &t) || (t.c_lflag & (ICANON | ECHO)) || t.c_cc[VMIN] != 1) damaged("the slave lost its raw mode");
  if (ioctl(fd, TIOCGWINSZ, &ws) || ws.ws_row != 40 || ws.ws_col != 100) damaged("the slave lost its window size");
  if (tcgetsid(fd) != getpid()) damaged("the slave is no longer the child's controlling terminal");
  int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) damaged("the child has no controlling terminal");
  close(tty);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) || unlockpt(master)) damaged("cannot make a pty");
  struct winsize ws = {.ws_row = 40, .ws_col = 100};
  ioctl(master, TIOCSWINSZ, &ws);
  char name[64];
  ptsname_r(master, name, sizeof name);
  int ready[2];
  if (pipe(ready)) damaged("pipe failed");
  fflush(stdout);
  if (fork() == 0) {
    close(master);
    close(ready[0]);
    setsid();
    int s = open(name, O_RDWR); /* the first terminal a session leader opens is its own */
    if (s < 0) damaged("the child cannot open the slave");
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    if (write(ready[1], "r", 1) != 1) damaged("the child cannot say it is ready");
    close(ready[1]);
    for (long n = 0;; n++) {
      unsigned char c;
      if (n % 16 == 0) tick(40); /* the parent's next 16 bytes wait in the slave's queue meanwhile */
      if (full(s, &c, 1, 0)) exit(0);
      c++;
      if (full(s, &c, 1, 1)) exit(0);
      if (n % 64 == 0) check_slave(s);
    }
  }
  close(ready[1]);
  char r;
  if (read(ready[0], &r, 1) != 1) damaged("the child did not set up its terminal");
  close(ready[0]);
  unsigned char next = 0;
  for (long n = 0;; n++) {
    unsigned char burst[16], back[16];
    for (int k = 0; k < 16; k++) burst[k] = (unsigned char)(next + k);
    if (full(master, burst, 16, 1)) exit(0);
    tick(60); /* the child's answers wait in the master's queue meanwhile */
    if (full(master, back, 16, 0)) exit(0);
    for (int k = 0; k < 16; k++)
      if (back[k] != (unsigned char)(burst[k] + 1)) damaged("the pty pair lost or mangled a byte");
    next = (unsigned char)(next + 16);
    struct winsize now;
    if (ioctl(master, TIOCGWINSZ, &now) || now.ws_row != 40 || now.ws_col != 100) damaged("the master lost the window size");
    progress(n);
    tick(40);
  }
}
