/* Parsing /proc/self/maps without malloc or stdio. */
#ifndef DMTCP_MAPS_H
#define DMTCP_MAPS_H
#include <stddef.h>
#include <stdint.h>

struct map_entry {
  uint64_t start, end, offset;
  int prot;          /* PROT_* */
  int shared;        /* 's' in the perms */
  uint64_t dev;      /* major << 32 | minor of the backing object */
  uint64_t ino;      /* its inode: with dev, the identity of a shared object */
  char path[256];    /* "" for anonymous */
};

/* Reads /proc/self/maps into buf (cap bytes). Returns bytes read or -1. */
long maps_read(char *buf, size_t cap);
/* Parses the line starting at *pos; advances *pos. Returns 1 for an entry, 0 at the end. */
int maps_next(const char *buf, size_t len, size_t *pos, struct map_entry *e);
#endif
