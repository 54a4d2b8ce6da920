/* 16 threads with a mutex, a condition variable and thread-local counters.
 * Workers take turns (condition variable), each adding to the shared total
 * and to its own thread-local count; the main thread checks that the shared
 * total equals the sum of what the threads report for themselves. */
#include <pthread.h>

#include "progress.h"

#define N 16
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static long total, reported[N];
static int turn;
static __thread long mine;

static void *worker(void *arg) {
  int id = (int)(long)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (turn != id) pthread_cond_wait(&turn_changed, &lock);
    mine++;
    total++;
    reported[id] = mine;
    turn = (turn + 1) % N;
    pthread_cond_broadcast(&turn_changed);
    pthread_mutex_unlock(&lock);
    tick(1);
  }
  return NULL;
}

int main(void) {
  pthread_t t[N];
  for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (long n = 0;; n++) {
    tick(100);
    pthread_mutex_lock(&lock);
    long sum = 0;
    for (int i = 0; i < N; i++) sum += reported[i];
    int ok = sum == total;
    long snapshot = total;
    pthread_mutex_unlock(&lock);
    if (!ok) damaged("shared total differs from the threads' own counts");
    if (n > 5 && snapshot == 0) damaged("the worker threads stopped");
    progress(n);
  }
}
