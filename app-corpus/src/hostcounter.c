/* A counter that says where it runs: each step appends "PROGRESS n <host name>"
 * to the file named by its argument (opened once, O_APPEND) and prints
 * "PROGRESS n". The host name is asked for at every step, so after a restart
 * on another host the lines say so. */
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "progress.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hostcounter LOGFILE\n");
    return 99;
  }
  int log = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    perror(argv[1]);
    return 99;
  }
  volatile long n = 0, shadow = ~0L;
  for (;;) {
    if (shadow != ~n) damaged("counter and its shadow differ");
    struct utsname u;
    uname(&u);
    char line[128];
    int len = snprintf(line, sizeof line, "PROGRESS %ld %s\n", (long)n, u.nodename);
    if (write(log, line, (size_t)len) != len) damaged("cannot write the log");
    progress(n);
    n++;
    shadow = ~n;
    tick(100);
  }
}
