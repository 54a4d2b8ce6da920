/* POSIX message queues between a parent and its child:
 *   - queue Q, by name: the parent sends numbered messages of priorities 0, 5
 *     and 10 through a non-blocking descriptor it keeps at number 50, as long
 *     as there is room (8 messages of at most 64 bytes); the child, which
 *     opened Q by name itself, takes one whenever at least 4 are waiting, and
 *     checks that each priority's messages come in order, none missing, each
 *     with the priority its text names. So messages of several priorities
 *     are always in flight;
 *   - queue G, unlinked once both hold it (the child by inheritance): the
 *     child sends numbered messages back, the parent checks them, and that
 *     G's name leads nowhere while Q's still opens.
 * Both check their descriptors' attributes and flags. The parent reports
 * PROGRESS every 10 rounds. Q's name goes to ipc-cleanup (the harness
 * unlinks the first run's queue, which outlives it). */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define QFD 50
#define NPRIO 3
static const unsigned PRIO[NPRIO] = {0, 5, 10};

static char q_name[64], g_name[64];
static pid_t parent_pid;

static void check_attr(mqd_t q, long maxmsg, long msgsize, int nonblock, const char *what) {
  struct mq_attr a;
  if (mq_getattr(q, &a) != 0) damaged(what);
  if (a.mq_maxmsg != maxmsg || a.mq_msgsize != msgsize || ((a.mq_flags & O_NONBLOCK) != 0) != nonblock) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s: mq_getattr says %ld messages of %ld bytes, %sblocking", what, a.mq_maxmsg,
             a.mq_msgsize, a.mq_flags & O_NONBLOCK ? "non-" : "");
    damaged(msg);
  }
}

static long waiting(mqd_t q) {
  struct mq_attr a;
  if (mq_getattr(q, &a) != 0) damaged("mq_getattr failed");
  return a.mq_curmsgs;
}

static void child(mqd_t g) {
  mqd_t q = mq_open(q_name, O_RDONLY);
  if (q == (mqd_t)-1) damaged("child: mq_open of queue Q by name failed");
  long expect[NPRIO] = {0, 0, 0}, sent_back = 0;
  for (;;) {
    if (getppid() != parent_pid) exit(0); /* the parent is gone: the computation is being killed */
    check_attr(q, 8, 64, 0, "child: queue Q");
    if (waiting(q) >= 4) {
      char buf[64];
      unsigned prio;
      ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
      if (n < 0) damaged("child: mq_receive on queue Q failed");
      int p = -1;
      for (int i = 0; i < NPRIO; i++)
        if (PRIO[i] == prio) p = i;
      char want[64];
      snprintf(want, sizeof want, "priority %u number %ld", prio, p >= 0 ? expect[p] : -1L);
      if (p < 0 || (size_t)n != strlen(want) + 1 || strcmp(buf, want) != 0) {
        char what[200];
        snprintf(what, sizeof what, "child: queue Q gave \"%.*s\" at priority %u, expected \"%s\"", (int)(n > 0 ? n - 1 : 0),
                 buf, prio, want);
        damaged(what);
      }
      expect[p]++;
    }
    if (waiting(g) < 3) {
      char buf[32];
      snprintf(buf, sizeof buf, "back %ld", sent_back);
      if (mq_send(g, buf, strlen(buf) + 1, 1) != 0) damaged("child: mq_send on the unlinked queue G failed");
      sent_back++;
    }
    tick(5);
  }
}

int main(void) {
  parent_pid = getpid();
  snprintf(q_name, sizeof q_name, "/dmtcp-corpus-posixmq-%d", (int)getpid());
  snprintf(g_name, sizeof g_name, "/dmtcp-corpus-posixmq-%d-gone", (int)getpid());
  struct mq_attr qa = {.mq_maxmsg = 8, .mq_msgsize = 64}, ga = {.mq_maxmsg = 4, .mq_msgsize = 32};
  mqd_t q0 = mq_open(q_name, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK, 0640, &qa);
  mqd_t g = mq_open(g_name, O_RDWR | O_CREAT | O_EXCL, 0600, &ga);
  if (q0 == (mqd_t)-1 || g == (mqd_t)-1) damaged("mq_open (create) failed");
  if (dup2(q0, QFD) != QFD) damaged("dup2 of queue Q's descriptor failed");
  close(q0);
  FILE *f = fopen("ipc-cleanup", "a");
  if (f) {
    fprintf(f, "mq %s\n", q_name);
    fclose(f);
  }
  fflush(stdout);
  pid_t kid = fork();
  if (kid < 0) damaged("fork failed");
  if (kid == 0) child(g);
  if (mq_unlink(g_name) != 0) damaged("mq_unlink of queue G failed");
  long sent[NPRIO] = {0, 0, 0}, total = 0, back = 0;
  for (long round = 0;; round++) {
    check_attr(QFD, 8, 64, 1, "parent: queue Q (descriptor 50)");
    check_attr(g, 4, 32, 0, "parent: unlinked queue G");
    int fl = fcntl(QFD, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) != O_WRONLY || !(fl & O_NONBLOCK)) damaged("parent: descriptor 50 lost its flags");
    for (;;) {
      int p = (int)(total % NPRIO);
      char buf[64];
      snprintf(buf, sizeof buf, "priority %u number %ld", PRIO[p], sent[p]);
      if (mq_send(QFD, buf, strlen(buf) + 1, PRIO[p]) != 0) {
        if (errno == EAGAIN) break; /* full */
        damaged("parent: mq_send on queue Q failed");
      }
      sent[p]++;
      total++;
    }
    while (waiting(g) >= 2) {
      char buf[32], want[32];
      unsigned prio;
      ssize_t n = mq_receive(g, buf, sizeof buf, &prio);
      snprintf(want, sizeof want, "back %ld", back);
      if (n < 0 || strcmp(buf, want) != 0) {
        char what[120];
        snprintf(what, sizeof what, "parent: unlinked queue G gave \"%s\", expected \"%s\"", n < 0 ? "nothing" : buf, want);
        damaged(what);
      }
      back++;
    }
    if (round % 10 == 0) {
      mqd_t again = mq_open(g_name, O_RDONLY);
      if (again != (mqd_t)-1 || errno != ENOENT) damaged("parent: the unlinked queue G can be opened by name");
      again = mq_open(q_name, O_RDONLY);
      if (again == (mqd_t)-1) damaged("parent: queue Q cannot be opened by name");
      mq_close(again);
      progress(round / 10);
    }
    tick(10);
  }
}
