/* Forks a short-lived child every 10 ms and reaps it, so checkpoints land
 * while children are being forked, are joining and are exiting. Each child
 * exits 7; a parent restarted from a checkpoint may find that a child it
 * forked before the checkpoint is no longer its own (ECHILD): process trees
 * are not restored yet. Reports PROGRESS per reaped child. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

int main(void) {
  volatile long n = 0, shadow = ~0L;
  for (;;) {
    if (shadow != ~n) damaged("counter and its shadow differ");
    pid_t child = fork();
    if (child < 0) damaged("fork failed");
    if (child == 0) _exit(7);
    int status;
    pid_t got;
    while ((got = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
    }
    if (got == child && !(WIFEXITED(status) && WEXITSTATUS(status) == 7)) damaged("a child did not exit 7");
    if (got < 0 && errno != ECHILD) damaged("waitpid failed");
    progress(n);
    n++;
    shadow = ~n;
    tick(10);
  }
}
