/* Named pipes across a checkpoint: a parent and a child pass sequence
 * numbers around through two FIFOs in the working directory, with up to
 * 32 KiB in flight, and check every number arrives once, in order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fullio.h"
#include "progress.h"

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  unlink("fifo-out");
  unlink("fifo-back");
  if (mkfifo("fifo-out", 0600) || mkfifo("fifo-back", 0600)) damaged("mkfifo failed");
  fflush(stdout);
  if (fork() == 0) {
    int in = open("fifo-out", O_RDONLY), out = open("fifo-back", O_WRONLY);
    if (in < 0 || out < 0) damaged("the child cannot open the FIFOs");
    for (uint64_t expect = 0;; expect++) {
      uint64_t v;
      if (full(in, &v, sizeof v, 0)) exit(0);
      if (v != expect) damaged("the child got a number out of order from fifo-out");
      if (full(out, &v, sizeof v, 1)) exit(0);
    }
  }
  int out = open("fifo-out", O_WRONLY), in = open("fifo-back", O_RDONLY);
  if (in < 0 || out < 0) damaged("the parent cannot open the FIFOs");
  uint64_t sent = 0, back = 0;
  for (;;) {
    while (sent - back < 4096) { /* 32 KiB in flight */
      if (full(out, &sent, sizeof sent, 1)) exit(0);
      sent++;
    }
    for (int k = 0; k < 1000; k++) {
      uint64_t v;
      if (full(in, &v, sizeof v, 0)) exit(0);
      if (v != back) damaged("a number came back out of order or twice through fifo-back");
      back++;
    }
    progress((long)(back / 1000));
    tick(20);
  }
}
