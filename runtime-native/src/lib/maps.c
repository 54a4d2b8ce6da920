/* /proc/self/maps reader. Async-signal-safe: raw read into a caller buffer. */
#include "maps.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

long maps_read(char *buf, size_t cap) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  for (;;) {
    if (n == cap) {
      close(fd);
      return -1;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  return (long)n;
}

static uint64_t hex(const char *buf, size_t len, size_t *i) {
  uint64_t v = 0;
  for (; *i < len; (*i)++) {
    char c = buf[*i];
    if (c >= '0' && c <= '9') v = v * 16 + (uint64_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v = v * 16 + (uint64_t)(c - 'a' + 10);
    else break;
  }
  return v;
}

int maps_next(const char *buf, size_t len, size_t *pos, struct map_entry *e) {
  size_t i = *pos;
  if (i >= len) return 0;
  e->start = hex(buf, len, &i);
  i++; /* '-' */
  e->end = hex(buf, len, &i);
  i++; /* ' ' */
  e->prot = 0;
  if (i + 4 <= len) {
    if (buf[i] == 'r') e->prot |= PROT_READ;
    if (buf[i + 1] == 'w') e->prot |= PROT_WRITE;
    if (buf[i + 2] == 'x') e->prot |= PROT_EXEC;
    e->shared = buf[i + 3] == 's';
  }
  i += 5;
  e->offset = hex(buf, len, &i);
  /* device (major:minor, hex) and inode (decimal) */
  while (i < len && buf[i] == ' ') i++;
  uint64_t major = hex(buf, len, &i);
  if (i < len && buf[i] == ':') i++;
  uint64_t minor = hex(buf, len, &i);
  e->dev = major << 32 | minor;
  while (i < len && buf[i] == ' ') i++;
  e->ino = 0;
  for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) e->ino = e->ino * 10 + (uint64_t)(buf[i] - '0');
  while (i < len && buf[i] == ' ') i++;
  size_t p = 0;
  while (i < len && buf[i] != '\n') {
    if (p + 1 < sizeof e->path) e->path[p++] = buf[i];
    i++;
  }
  e->path[p] = '\0';
  *pos = i + 1;
  return 1;
}
