/* fork(): the child of a checkpointed process joins the computation as a
 * member of its own, and forks and checkpoints exclude each other.
 *
 * A child forked while its parent's threads are being parked would copy a
 * half-stopped process, so the forking thread holds the fork guard from
 * pthread_atfork's prepare step until fork returns, and the checkpoint thread
 * holds it from suspending the threads until it releases them. In the
 * prepare step the parent also makes and announces the child's connection
 * (coord.c), so the child joins without waiting for the coordinator. vfork,
 * posix_spawn, system and popen need nothing here: their children exec, and
 * the exec'd program's constructor joins. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "runtime.h"

static _Atomic int g_fork_guard; /* 0 free, 1 held */

void fork_guard_lock(void) {
  for (;;) {
    int expected = 0;
    if (atomic_compare_exchange_weak(&g_fork_guard, &expected, 1)) return;
    futex_wait(&g_fork_guard, 1);
  }
}

void fork_guard_unlock(void) {
  atomic_store(&g_fork_guard, 0);
  futex_wake(&g_fork_guard);
}

static int g_child_fd = -1; /* the connection made for the child, from prepare to fork's return */

static void before_fork(void) {
  fork_guard_lock();
  g_child_fd = coord_connect_for_child();
}

/* Whether the fork succeeded or not: a connection whose child never came
 * ends here, and the coordinator counts it as a member that left at once. */
static void after_fork_in_parent(void) {
  if (g_child_fd >= 0) close(g_child_fd);
  g_child_fd = -1;
  fork_guard_unlock();
}

static void after_fork_in_child(void) {
  atomic_store(&g_fork_guard, 0); /* only this thread exists here */
  coord_after_fork_child();
  int fd = g_child_fd;
  g_child_fd = -1;
  runtime_after_fork_child(fd);
}

void fork_install_handlers(void) {
  /* Registered before the program's own handlers: our prepare runs last and
   * our child handler first, closest to the fork itself. */
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}
