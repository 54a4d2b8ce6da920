/* The contents of files that will not be there to reopen at restart: files
 * unlinked while open, memfds, and (with --ckpt-open-files) every open
 * regular file. Each is mapped read-only while the image is written, so
 * image_write stores it as a region of kind DMTCP_REGION_FD_DATA, with its
 * chunks, zero pages as holes, compression and checksums, and dmtcp_restart
 * writes it back into the file it recreates. No malloc, no stdio. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/fds/fds.h"
#include "lib/runtime.h"

/* Temporary files (in /tmp, /var/tmp or $TMPDIR) are saved too, up to these
 * sizes: their owners delete them when a process they wait for dies, so after
 * a kill they are often gone (gcc's driver removes the .s its cc1 was writing). */
#define TEMP_FILE_MAX (64ull << 20)
#define TEMP_TOTAL_MAX (256ull << 20)
static uint64_t g_temp_total;

static int under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  return n > 1 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int temporary(const struct dmtcp_fd_record *r) {
  const char *path = fds_table()->strings + r->path_off;
  const char *tmp = getenv("TMPDIR"); /* user threads are stopped: environ holds still */
  if (!(under(path, "/tmp") || under(path, "/var/tmp") || (tmp && *tmp == '/' && under(path, tmp)))) return 0;
  if (r->size > TEMP_FILE_MAX || g_temp_total + r->size > TEMP_TOTAL_MAX) return 0;
  g_temp_total += r->size;
  return 1;
}

static int wants_contents(const struct dmtcp_fd_record *r) {
  if (!(r->flags & DMTCP_FDF_LEADER)) return 0; /* one copy per description */
  if (r->kind == DMTCP_FD_MEMFD) return 1;
  if (r->kind != DMTCP_FD_FILE) return 0;
  if (r->flags & DMTCP_FDF_DELETED) return 1;
  return g_settings.ckpt_open_files || temporary(r);
}

void fds_contents_reset(void) { g_temp_total = 0; }

void fd_map_contents(struct fd_entry *e) {
  struct dmtcp_fd_record *r = &e->rec;
  if (!wants_contents(r)) return;
  if (r->kind == DMTCP_FD_FILE && !(r->flags & DMTCP_FDF_DELETED)) r->flags |= DMTCP_FDF_SAVED;
  if (g_settings.allow_file_overwrite) r->flags |= DMTCP_FDF_OVERWRITE;
  if (r->size == 0) return;
  /* Through the program's own descriptor when it can read: opening and closing
   * another one would drop the process's POSIX locks on the file. */
  int fd = r->fd;
  if ((r->status_flags & O_ACCMODE) == O_WRONLY) {
    for (uint32_t x = 0; x < r->num_extras; x++)
      if (fds_table()->extras[r->first_extra + x].kind == DMTCP_FX_LOCK) {
        rt_log("not saving a write-only locked file (reading it would drop its locks): ", fds_table()->strings + r->path_off);
        r->flags &= ~(uint32_t)DMTCP_FDF_SAVED;
        return;
      }
    char path[64];
    size_t n = rt_strlcpy(path, "/proc/self/fd/", sizeof path);
    rt_utoa(path + n, (unsigned long)r->fd);
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    rt_log("cannot read the contents of an open file to save them: ", fds_table()->strings + r->path_off);
    return;
  }
  size_t len = ((size_t)r->size + 4095) & ~(size_t)4095;
  void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  if (fd != r->fd) close(fd);
  if (m == MAP_FAILED) {
    rt_log("cannot map the contents of an open file to save them: ", fds_table()->strings + r->path_off);
    return;
  }
  e->map = m;
  e->map_len = len;
}

void fd_unmap_contents(struct fd_entry *e) {
  if (e->map) munmap(e->map, e->map_len);
  e->map = NULL;
  e->map_len = 0;
}
