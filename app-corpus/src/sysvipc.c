/* System V IPC between a parent and its child, each checking its own view:
 *   - segment A (by key): a counter both increment under semaphore 0 of set S
 *     (by key), with how many increments each made; each process also keeps
 *     its own count in private memory, and the shared ones must match;
 *   - set S: semaphore 0 a mutex; semaphore 1 "tickets" the parent posts and
 *     the child waits for (blocking in semop most of the time), its value
 *     checked (GETVAL) against the posts and takes counted in A;
 *   - segment B (IPC_PRIVATE), marked for removal while both have it
 *     attached: its pattern, a tick the parent advances, and IPC_STAT saying
 *     SHM_DEST and two attachments;
 *   - segment C (IPC_PRIVATE), known but attached only now and then by the
 *     parent, which checks and advances a counter in it;
 *   - queue Q (by key): the parent keeps 3 to 6 messages waiting, numbered,
 *     of types 1..3; the child takes one when at least 4 are waiting and
 *     checks its number, type and text.
 * Both check that the keys still lead to the same ids and that
 * shmctl/semctl/msgctl work on the ids they hold. The parent reports
 * PROGRESS every 10 rounds. At the first start it writes the ids to
 * ipc-cleanup (ipcrm, for the harness: the first run's objects outlive it). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "progress.h"

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
};

struct shared {
  long counter, by_parent, by_child;
  long posted, taken;
};

#define B_SIZE 4096
#define C_SIZE (3 * 4096 + 100)
#define MSG_TEXT 64

struct msg {
  long type;
  char text[MSG_TEXT];
};

static key_t key_a, key_s, key_q;
static int id_a, id_s, id_q, id_b, id_c;
static struct shared *a;
static unsigned char *b;
static pid_t parent_pid;

static void sem(int num, int delta) {
  struct sembuf op = {(unsigned short)num, (short)delta, 0};
  if (semop(id_s, &op, 1) != 0) damaged(errno == EINTR ? "semop on set S was interrupted (EINTR)" : "semop on set S failed");
}

static void check_ids(const char *who) {
  char what[160];
  if (shmget(key_a, 0, 0) != id_a) {
    snprintf(what, sizeof what, "%s: the key of segment A leads to %d, not to id %d", who, shmget(key_a, 0, 0), id_a);
    damaged(what);
  }
  if (semget(key_s, 0, 0) != id_s) {
    snprintf(what, sizeof what, "%s: the key of set S leads to %d, not to id %d", who, semget(key_s, 0, 0), id_s);
    damaged(what);
  }
  if (msgget(key_q, 0) != id_q) {
    snprintf(what, sizeof what, "%s: the key of queue Q leads to %d, not to id %d", who, msgget(key_q, 0), id_q);
    damaged(what);
  }
  struct shmid_ds ds;
  if (shmctl(id_a, IPC_STAT, &ds) != 0) damaged("shmctl(IPC_STAT) on segment A failed");
  if (ds.shm_segsz != sizeof(struct shared) || ds.shm_nattch != 2 || (ds.shm_perm.mode & 0777) != 0640) {
    snprintf(what, sizeof what, "%s: segment A: IPC_STAT says %zu bytes, %lu attachments, mode %o", who,
             (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777);
    damaged(what);
  }
  if (shmctl(id_b, IPC_STAT, &ds) != 0) damaged("shmctl(IPC_STAT) on segment B (marked for removal) failed");
  if (ds.shm_segsz != B_SIZE || ds.shm_nattch != 2 || !(ds.shm_perm.mode & SHM_DEST)) {
    snprintf(what, sizeof what, "%s: segment B: IPC_STAT says %zu bytes, %lu attachments, %s", who,
             (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch,
             ds.shm_perm.mode & SHM_DEST ? "marked for removal" : "not marked for removal");
    damaged(what);
  }
  struct semid_ds sds;
  union semun arg = {.buf = &sds};
  if (semctl(id_s, 0, IPC_STAT, arg) != 0 || sds.sem_nsems != 2 || (sds.sem_perm.mode & 0777) != 0600)
    damaged("semctl(IPC_STAT) on set S failed or says other than 2 semaphores, mode 600");
  for (int i = 0; i < B_SIZE - 64; i++)
    if (b[64 + i] != (unsigned char)(i * 7 + 3)) damaged("segment B: its pattern is damaged");
}

static void child(void) {
  long mine = 0, expect = 0, last_tick = -1;
  for (;;) {
    if (getppid() != parent_pid) exit(0); /* the parent is gone: the computation is being killed */
    sem(1, -1); /* a ticket: blocks until the parent posts one */
    sem(0, -1);
    a->taken++;
    int v = semctl(id_s, 1, GETVAL);
    if (v < 0 || v != a->posted - a->taken) {
      char what[128];
      snprintf(what, sizeof what, "set S: semaphore 1 is %d, but %ld posted and %ld taken", v, a->posted, a->taken);
      damaged(what);
    }
    a->counter++;
    a->by_child++;
    mine++;
    if (a->by_child != mine || a->counter != a->by_parent + a->by_child)
      damaged("segment A: the counter or the child's count is wrong");
    sem(0, 1);
    long tick_now;
    memcpy(&tick_now, b, sizeof tick_now);
    if (tick_now < last_tick) damaged("segment B: its tick went back");
    last_tick = tick_now;
    struct msqid_ds q;
    if (msgctl(id_q, IPC_STAT, &q) != 0) damaged("msgctl(IPC_STAT) on queue Q failed");
    if (q.msg_qnum >= 4) {
      struct msg m;
      ssize_t n = msgrcv(id_q, &m, sizeof m.text, 0, 0);
      if (n < 0) damaged(errno == EINTR ? "msgrcv on queue Q was interrupted (EINTR)" : "msgrcv on queue Q failed");
      char want[MSG_TEXT];
      snprintf(want, sizeof want, "message %ld", expect);
      if (m.type != 1 + expect % 3 || (size_t)n != strlen(want) + 1 || strcmp(m.text, want) != 0) {
        char what[200];
        snprintf(what, sizeof what, "queue Q: got type %ld \"%.*s\", expected type %ld \"%s\"", m.type,
                 (int)(n > 0 ? n : 0), m.text, 1 + expect % 3, want);
        damaged(what);
      }
      expect++;
    }
    if (mine % 20 == 0) check_ids("child");
  }
}

static key_t fresh_key(int k) {
  return (key_t)(0x5d000000 | ((getpid() & 0xffff) << 4) | k);
}

int main(void) {
  parent_pid = getpid();
  for (int attempt = 0;; attempt++) {
    key_a = fresh_key(1) + attempt * 0x100000;
    key_s = fresh_key(2) + attempt * 0x100000;
    key_q = fresh_key(3) + attempt * 0x100000;
    id_a = shmget(key_a, sizeof(struct shared), IPC_CREAT | IPC_EXCL | 0640);
    if (id_a < 0 && errno == EEXIST && attempt < 8) continue;
    if (id_a < 0) damaged("shmget for segment A failed");
    id_s = semget(key_s, 2, IPC_CREAT | IPC_EXCL | 0600);
    id_q = msgget(key_q, IPC_CREAT | IPC_EXCL | 0600);
    if (id_s < 0 || id_q < 0) damaged("semget or msgget failed");
    break;
  }
  id_b = shmget(IPC_PRIVATE, B_SIZE, IPC_CREAT | 0600);
  id_c = shmget(IPC_PRIVATE, C_SIZE, IPC_CREAT | 0600);
  if (id_b < 0 || id_c < 0) damaged("shmget for segment B or C failed");
  FILE *f = fopen("ipc-cleanup", "w");
  if (f) {
    fprintf(f, "-m %d\n-m %d\n-m %d\n-s %d\n-q %d\n", id_a, id_b, id_c, id_s, id_q);
    fclose(f);
  }
  a = shmat(id_a, NULL, 0);
  b = shmat(id_b, NULL, 0);
  unsigned char *c = shmat(id_c, NULL, 0);
  if (a == (void *)-1 || b == (void *)-1 || c == (void *)-1) damaged("shmat failed");
  for (int i = 0; i < B_SIZE - 64; i++) b[64 + i] = (unsigned char)(i * 7 + 3);
  for (int i = 0; i < C_SIZE; i++) c[i] = (unsigned char)(i * 13 + 1);
  memset(c, 0, sizeof(long)); /* its counter */
  if (shmdt(c) != 0) damaged("shmdt of segment C failed");
  union semun arg = {.val = 1};
  if (semctl(id_s, 0, SETVAL, arg) != 0) damaged("semctl(SETVAL) failed");
  fflush(stdout);
  pid_t kid = fork();
  if (kid < 0) damaged("fork failed");
  if (kid == 0) child();
  if (shmctl(id_b, IPC_RMID, NULL) != 0) damaged("shmctl(IPC_RMID) on segment B failed");
  long mine = 0, sent = 0, c_count = 0;
  for (long round = 0;; round++) {
    sem(0, -1);
    a->counter++;
    a->by_parent++;
    mine++;
    if (a->by_parent != mine || a->counter != a->by_parent + a->by_child)
      damaged("segment A: the counter or the parent's count is wrong");
    if (a->posted - a->taken < 3) {
      a->posted++;
      sem(1, 1);
    }
    sem(0, 1);
    memcpy(b, &round, sizeof round);
    struct msqid_ds q;
    if (msgctl(id_q, IPC_STAT, &q) != 0) damaged("msgctl(IPC_STAT) on queue Q failed");
    for (unsigned long n = q.msg_qnum; n < 6; n++, sent++) {
      struct msg m = {1 + sent % 3, {0}};
      snprintf(m.text, sizeof m.text, "message %ld", sent);
      if (msgsnd(id_q, &m, strlen(m.text) + 1, 0) != 0)
        damaged(errno == EINTR ? "msgsnd on queue Q was interrupted (EINTR)" : "msgsnd on queue Q failed");
    }
    if (round % 10 == 0) {
      c = shmat(id_c, NULL, SHM_RDONLY * (round % 20 == 10));
      if (c == (void *)-1) damaged("shmat of segment C (known, not attached) failed");
      for (int i = (int)sizeof(long); i < C_SIZE; i++)
        if (c[i] != (unsigned char)(i * 13 + 1)) damaged("segment C: its contents are damaged");
      long seen;
      memcpy(&seen, c, sizeof seen);
      if (seen != c_count) damaged("segment C: its counter is not what the parent wrote last");
      c_count++;
      if (round % 20 != 10) memcpy(c, &c_count, sizeof c_count);
      else c_count--; /* read-only this time */
      if (shmdt(c) != 0) damaged("shmdt of segment C failed");
      check_ids("parent");
      progress(round / 10);
    }
    tick(10);
  }
}
