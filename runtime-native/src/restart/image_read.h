/* Reading and validating checkpoint images (include/dmtcp/image_format.h).
 * Nothing of an image is trusted before image_open has checked it. */
#ifndef DMTCP_IMAGE_READ_H
#define DMTCP_IMAGE_READ_H
#include <stddef.h>
#include <stdint.h>

#include "dmtcp/image_format.h"

struct image {
  const char *path;
  const unsigned char *map;   /* the whole file, read-only */
  size_t size;
  const struct dmtcp_image_header *h;
  const struct dmtcp_region *regions;
  const struct dmtcp_thread *threads;
  const struct dmtcp_fd_record *fds;   /* num_fds entries, or NULL */
  const struct dmtcp_fd_extra *extras; /* num_fd_extras entries, or NULL */
  const char *strings;                 /* strings_len bytes */
  const unsigned char *ipc;            /* the IPC table (ipc_table_len bytes), or NULL (ipc_image.h) */
  const struct dmtcp_zombie *zombies;  /* num_zombies entries, or NULL */
};

/* A string of the image's string table (validated by image_open). */
const char *image_string(const struct image *img, uint32_t off);

/* A socket's address number which (0 its own, 1 its peer's, 2 where a moved
 * listener was at the checkpoint) from descriptor record r, decoded from its
 * hex form into out (cap bytes). Returns its length, or 0 if there is none or
 * it does not decode. */
size_t image_socket_address(const struct image *img, const struct dmtcp_fd_record *r, uint32_t which, void *out,
                            size_t cap);

/* Opens and validates header, tables and region table. strict: refuse an
 * image of another user. Returns 0, or -1 with the reason in err. */
int image_open(struct image *img, const char *path, int strict, char *err, size_t errlen);
void image_close(struct image *img);

/* One chunk of a region: where it is in the file and which pages it covers. */
struct chunk_ref {
  const struct dmtcp_chunk_header *hdr;
  const unsigned char *stored;
  uint64_t addr;              /* address of its first page in the process */
  uint32_t region;
  const struct chunk_ref *source; /* DMTCP_CODEC_REPEAT: the chunk whose bytes it repeats */
};

/* Lists every chunk of every region, checking the chunk headers and the
 * region checksums. *out is malloc'ed. Returns the count, or -1 with err. */
long image_chunks(const struct image *img, struct chunk_ref **out, char *err, size_t errlen);

/* Decodes a chunk into dest (npages pages, already zero), verifying its
 * checksum first. scratch: DMTCP_CHUNK_PAGES pages. Returns 0 or -1 with err. */
int chunk_decode(const struct chunk_ref *c, void *dest, void *scratch, char *err, size_t errlen);
/* Verifies a chunk's checksum without decoding it (for a region mapped from
 * its unchanged file, whose stored copy is not used). 0 or -1 with err. */
int chunk_check_stored(const struct chunk_ref *c, char *err, size_t errlen);

const char *region_kind_name(uint32_t kind);
#endif
