/* inotify watches by path. The kernel keeps only the watched inode (fdinfo
 * shows its device and number), so the wrapper of inotify_add_watch records
 * the absolute path each inode was added by; dmtcp_restart adds the watches
 * again by those paths. Runs in the program's thread: locks are fine, but
 * the table is read by the checkpoint thread while that thread may be parked
 * inside the wrapper, so entries are published only when complete. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_WATCH_PATHS 4096

struct watch_path { uint64_t dev, ino; char path[1024]; };
static struct watch_path g_paths[MAX_WATCH_PATHS];
static _Atomic uint32_t g_npaths;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* writers only */

static void remember_locked(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return;
  uint32_t n = atomic_load(&g_npaths);
  for (uint32_t i = 0; i < n; i++)
    if (g_paths[i].dev == (uint64_t)st.st_dev && g_paths[i].ino == (uint64_t)st.st_ino) return;
  if (n == MAX_WATCH_PATHS) return;
  struct watch_path *w = &g_paths[n];
  w->dev = (uint64_t)st.st_dev;
  w->ino = (uint64_t)st.st_ino;
  size_t len = 0;
  if (path[0] != '/') {
    if (!getcwd(w->path, sizeof w->path - 2)) return;
    len = strlen(w->path);
    w->path[len++] = '/';
  }
  if (len + strlen(path) >= sizeof w->path) return;
  strcpy(w->path + len, path);
  atomic_store(&g_npaths, n + 1);
}

static void remember(const char *path) {
  pthread_mutex_lock(&g_lock);
  remember_locked(path);
  pthread_mutex_unlock(&g_lock);
}

EXPORT int inotify_add_watch(int fd, const char *path, uint32_t mask) {
  static int (*next)(int, const char *, uint32_t);
  if (!next) next = (int (*)(int, const char *, uint32_t))dlsym(RTLD_NEXT, "inotify_add_watch");
  int wd = next(fd, path, mask);
  if (wd >= 0 && path) remember(path);
  return wd;
}

int inotify_path_of(uint64_t dev, uint64_t ino, char *out, size_t cap) {
  uint32_t n = atomic_load(&g_npaths);
  for (uint32_t i = 0; i < n; i++) {
    if (g_paths[i].dev == dev && g_paths[i].ino == ino) {
      rt_strlcpy(out, g_paths[i].path, cap);
      return 0;
    }
  }
  return -1;
}
