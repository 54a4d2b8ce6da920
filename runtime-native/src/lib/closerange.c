/* Programs that close every inherited descriptor at start (ssh does, through
 * close_range) would close the runtime's coordinator connection with the
 * rest, and the process would fall out of the computation. close_range and
 * closefrom leave that one descriptor open; to the program it is not there. */
#include <errno.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

#define EXPORT __attribute__((visibility("default")))

static int raw_close_range(unsigned first, unsigned last, int flags) {
  return (int)syscall(SYS_close_range, first, last, flags);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  int keep = g_coord_fd;
  /* setting close-on-exec harms nothing: the connection has it already */
  if (!g_runtime_active || keep < 0 || (flags & CLOSE_RANGE_CLOEXEC) || (unsigned)keep < first ||
      (unsigned)keep > last)
    return raw_close_range(first, last, flags);
  if (first > last) {
    errno = EINVAL;
    return -1;
  }
  if ((unsigned)keep > first && raw_close_range(first, (unsigned)keep - 1, flags) != 0) return -1;
  if ((unsigned)keep < last) return raw_close_range((unsigned)keep + 1, last, flags);
  return 0;
}

EXPORT void closefrom(int lowfd) {
  if (lowfd < 0) lowfd = 0;
  close_range((unsigned)lowfd, ~0u, 0);
}
