/* Validation of checkpoint images: every field is checked before it is used,
 * so a truncated, corrupted or foreign image is refused with a reason. */
#define XXH_INLINE_ALL
#include "image_read.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define PAGE 4096u
#define USER_TOP 0x800000000000ull

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static uint32_t this_arch(void) {
#if defined(__x86_64__)
  return DMTCP_ARCH_X86_64;
#elif defined(__aarch64__)
  return DMTCP_ARCH_AARCH64;
#else
  return 0;
#endif
}

static const char *arch_name(uint32_t a) {
  return a == DMTCP_ARCH_X86_64 ? "x86_64" : a == DMTCP_ARCH_AARCH64 ? "aarch64" : "unknown";
}

const char *region_kind_name(uint32_t kind) {
  static const char *names[] = {"anon", "file", "shared-anon", "shared-file", "heap", "stack", "vdso", "vvar", "fd-data"};
  return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

static int within(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

static int string_ok(const struct image *img, uint32_t off, uint32_t len) {
  uint64_t n = img->h->strings_len;
  return (uint64_t)off + len < n && img->strings[off + len] == '\0' && memchr(img->strings + off, '\0', len) == NULL;
}

const char *image_string(const struct image *img, uint32_t off) {
  return off < img->h->strings_len ? img->strings + off : "";
}

static int unhex(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

size_t image_socket_address(const struct image *img, const struct dmtcp_fd_record *r, uint32_t which, void *out,
                            size_t cap) {
  for (uint32_t x = 0; x < r->num_extras; x++) {
    const struct dmtcp_fd_extra *e = &img->extras[r->first_extra + x];
    if (e->kind != DMTCP_FX_SOCKADDR || e->a != which || !e->path_len) continue;
    const char *h = image_string(img, e->path_off);
    size_t n = e->path_len / 2;
    if (n > cap || n != e->b) return 0;
    unsigned char *o = out;
    for (size_t i = 0; i < n; i++) {
      int hi = unhex(h[2 * i]), lo = unhex(h[2 * i + 1]);
      if (hi < 0 || lo < 0) return 0;
      o[i] = (unsigned char)(hi << 4 | lo);
    }
    return n;
  }
  return 0;
}

/* The descriptor table: kinds known, strings inside the string table and
 * terminated, extras and data regions where they should be. */
static int check_fd_tables(const struct image *img, char *err, size_t errlen) {
  const struct dmtcp_image_header *h = img->h;
  if (h->strings_len && img->strings[h->strings_len - 1] != '\0')
    return fail(err, errlen, "corrupted descriptor table (unterminated string table)");
  for (uint32_t i = 0; i < h->num_fds; i++) {
    const struct dmtcp_fd_record *r = &img->fds[i];
    if (r->fd < 0 || r->kind == 0 || r->kind > DMTCP_FD_OTHER || (i && r->fd <= img->fds[i - 1].fd) ||
        (r->path_len && !string_ok(img, r->path_off, r->path_len)) ||
        (uint64_t)r->first_extra + r->num_extras > h->num_fd_extras ||
        r->data_region > h->num_regions ||
        (r->data_region && img->regions[r->data_region - 1].kind != DMTCP_REGION_FD_DATA))
      return fail(err, errlen, "corrupted descriptor table (descriptor %d)", r->fd);
  }
  for (uint32_t i = 0; i < h->num_fd_extras; i++) {
    const struct dmtcp_fd_extra *x = &img->extras[i];
    if (x->kind == 0 || x->kind > DMTCP_FX_SOCKADDR || (x->path_len && !string_ok(img, x->path_off, x->path_len)))
      return fail(err, errlen, "corrupted descriptor table (entry %u)", i);
  }
  return 0;
}

/* A signal that can end a process (not one whose default is to ignore or stop). */
static int signal_can_kill(uint32_t sig) {
  return sig >= 1 && sig <= 64 && sig != SIGCHLD && sig != SIGCONT && sig != SIGURG && sig != SIGWINCH &&
         sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU;
}

/* The zombie table: children of this process (not itself, not process 1), in
 * pid order without repeats, each ended in a way a process can end. */
static int check_zombies(const struct image *img, char *err, size_t errlen) {
  const struct dmtcp_image_header *h = img->h;
  for (uint32_t i = 0; i < h->num_zombies; i++) {
    const struct dmtcp_zombie *z = &img->zombies[i];
    int ended = z->how == DMTCP_ZOMBIE_EXITED ? z->status <= 255
              : (z->how == DMTCP_ZOMBIE_KILLED || z->how == DMTCP_ZOMBIE_DUMPED) && signal_can_kill(z->status);
    if (z->pid <= 1 || z->pid == h->vpid || (i && z->pid <= img->zombies[i - 1].pid) || !ended)
      return fail(err, errlen, "corrupted zombie table (entry %u: child %u)", i, z->pid);
  }
  return 0;
}

int image_open(struct image *img, const char *path, int strict, char *err, size_t errlen) {
  memset(img, 0, sizeof *img);
  img->path = path;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(err, errlen, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(err, errlen, "not a regular file");
  }
  if ((uint64_t)st.st_size < DMTCP_IMAGE_HEADER_SIZE) {
    close(fd);
    return fail(err, errlen, "truncated: %lld bytes, not even a header", (long long)st.st_size);
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return fail(err, errlen, "cannot map: %s", strerror(errno));
  img->map = m;
  img->size = (size_t)st.st_size;
  const struct dmtcp_image_header *h = m;
  img->h = h;
  if (memcmp(h->magic, DMTCP_IMAGE_MAGIC, 8) != 0) return fail(err, errlen, "not a checkpoint image (bad magic)");
  if (h->version != DMTCP_IMAGE_VERSION)
    return fail(err, errlen, "image format version %u, this dmtcp_restart reads version %u", h->version, DMTCP_IMAGE_VERSION);
  if (h->arch != this_arch())
    return fail(err, errlen, "image is for %s, this machine is %s", arch_name(h->arch), arch_name(this_arch()));
  struct dmtcp_image_header copy;
  memcpy(&copy, h, sizeof copy);
  copy.header_checksum = 0;
  if (XXH64(&copy, sizeof copy, 0) != h->header_checksum) return fail(err, errlen, "corrupted header (checksum mismatch)");
  if (h->file_size != img->size)
    return fail(err, errlen, "truncated or extended: %zu bytes, the header says %llu", img->size, (unsigned long long)h->file_size);
  if (strict && h->uid != getuid())
    return fail(err, errlen, "image belongs to uid %u, not to you (uid %u); use --no-strict-checking to restart it anyway", h->uid, (unsigned)getuid());
  if (h->header_size != DMTCP_IMAGE_HEADER_SIZE || h->page_size != PAGE || h->num_regions == 0 ||
      h->num_regions > 1000000 || h->num_threads == 0 || h->num_threads > 100000 ||
      !within(h->region_table_offset, (uint64_t)h->num_regions * sizeof(struct dmtcp_region), img->size) ||
      !within(h->thread_table_offset, (uint64_t)h->num_threads * sizeof(struct dmtcp_thread), img->size) ||
      !within(h->state_offset, h->state_len, img->size) || h->data_offset > img->size ||
      h->num_fds > DMTCP_MAX_FDS || h->num_fd_extras > DMTCP_MAX_FD_EXTRAS || h->strings_len > DMTCP_MAX_STRINGS ||
      !within(h->fd_table_offset, (uint64_t)h->num_fds * sizeof(struct dmtcp_fd_record), img->size) ||
      !within(h->fd_extra_offset, (uint64_t)h->num_fd_extras * sizeof(struct dmtcp_fd_extra), img->size) ||
      !within(h->strings_offset, h->strings_len, img->size) ||
      h->num_ipc > 65536 || (h->num_ipc == 0) != (h->ipc_table_len == 0) || h->ipc_table_offset % 8 ||
      h->ipc_table_len < (uint64_t)h->num_ipc * sizeof(struct dmtcp_ipc_record) ||
      (h->num_ipc && !within(h->ipc_table_offset, h->ipc_table_len, img->size)) ||
      h->num_zombies > DMTCP_MAX_ZOMBIES ||
      (h->num_zombies && (h->zombie_table_offset % 8 ||
                          !within(h->zombie_table_offset, (uint64_t)h->num_zombies * sizeof(struct dmtcp_zombie), img->size))))
    return fail(err, errlen, "corrupted header (tables out of range)");
  img->regions = (const void *)(img->map + h->region_table_offset);
  img->threads = (const void *)(img->map + h->thread_table_offset);
  img->fds = h->num_fds ? (const void *)(img->map + h->fd_table_offset) : NULL;
  img->extras = h->num_fd_extras ? (const void *)(img->map + h->fd_extra_offset) : NULL;
  img->strings = (const char *)(img->map + h->strings_offset);
  img->ipc = h->num_ipc ? img->map + h->ipc_table_offset : NULL;
  img->zombies = h->num_zombies ? (const void *)(img->map + h->zombie_table_offset) : NULL;
  XXH64_state_t t;
  XXH64_reset(&t, 0);
  XXH64_update(&t, img->regions, (size_t)h->num_regions * sizeof(struct dmtcp_region));
  XXH64_update(&t, img->threads, (size_t)h->num_threads * sizeof(struct dmtcp_thread));
  if (h->num_fds) XXH64_update(&t, img->fds, (size_t)h->num_fds * sizeof(struct dmtcp_fd_record));
  if (h->num_fd_extras) XXH64_update(&t, img->extras, (size_t)h->num_fd_extras * sizeof(struct dmtcp_fd_extra));
  XXH64_update(&t, img->strings, h->strings_len);
  XXH64_update(&t, img->map + h->state_offset, h->state_len);
  if (h->num_ipc) XXH64_update(&t, img->ipc, h->ipc_table_len);
  if (h->num_zombies) XXH64_update(&t, img->zombies, (size_t)h->num_zombies * sizeof(struct dmtcp_zombie));
  if (XXH64_digest(&t) != h->tables_checksum) return fail(err, errlen, "corrupted region or thread table (checksum mismatch)");
  if (check_fd_tables(img, err, errlen) != 0 || check_zombies(img, err, errlen) != 0) return -1;
  uint64_t prev_end = 0;
  int has_main = 0;
  for (uint32_t i = 0; i < h->num_regions; i++) {
    const struct dmtcp_region *r = &img->regions[i];
    if (r->start >= r->end || r->start % PAGE || r->end % PAGE || r->end > USER_TOP || r->start < prev_end)
      return fail(err, errlen, "corrupted region table (region %u: %llx-%llx)", i, (unsigned long long)r->start, (unsigned long long)r->end);
    prev_end = r->end;
    uint64_t chunks = (r->end - r->start + (uint64_t)DMTCP_CHUNK_PAGES * PAGE - 1) / ((uint64_t)DMTCP_CHUNK_PAGES * PAGE);
    if ((r->flags & DMTCP_RF_HAS_DATA) ? (r->num_chunks != chunks || !within(r->data_offset, r->data_len, img->size) ||
                                          r->data_offset < h->data_offset)
                                       : r->num_chunks != 0)
      return fail(err, errlen, "corrupted region table (region %u data)", i);
  }
  for (uint32_t i = 0; i < h->num_threads; i++) has_main |= img->threads[i].is_main == 1;
  if (!has_main) return fail(err, errlen, "corrupted thread table (no main thread)");
  return 0;
}

void image_close(struct image *img) {
  if (img->map) munmap((void *)img->map, img->size);
  img->map = NULL;
}

static unsigned popcount_pages(const struct dmtcp_chunk_header *c) {
  unsigned n = 0;
  for (unsigned i = 0; i < DMTCP_CHUNK_PAGES / 64; i++) n += (unsigned)__builtin_popcountll(c->zero_bitmap[i]);
  return n;
}

long image_chunks(const struct image *img, struct chunk_ref **out, char *err, size_t errlen) {
  size_t total = 0;
  for (uint32_t i = 0; i < img->h->num_regions; i++) total += img->regions[i].num_chunks;
  /* Chunk headers follow stored bytes of any length, so most are not aligned
   * in the file: each is copied to an aligned one, after the references in
   * the same block (the caller frees one pointer). */
  size_t slots = total ? total : 1;
  struct chunk_ref *refs = calloc(slots, sizeof *refs + sizeof(struct dmtcp_chunk_header));
  if (!refs) return fail(err, errlen, "out of memory");
  struct dmtcp_chunk_header *hdrs = (struct dmtcp_chunk_header *)(void *)(refs + slots);
  size_t k = 0;
  for (uint32_t i = 0; i < img->h->num_regions; i++) {
    const struct dmtcp_region *r = &img->regions[i];
    if (!(r->flags & DMTCP_RF_HAS_DATA)) continue;
    uint64_t off = r->data_offset, end = r->data_offset + r->data_len, addr = r->start;
    XXH64_state_t sum;
    XXH64_reset(&sum, 0);
    for (uint32_t c = 0; c < r->num_chunks; c++) {
      if (!within(off, sizeof(struct dmtcp_chunk_header), end)) {
        free(refs);
        return fail(err, errlen, "truncated data of region %u", i);
      }
      memcpy(&hdrs[k], img->map + off, sizeof hdrs[k]);
      const struct dmtcp_chunk_header *ch = &hdrs[k];
      uint64_t want_pages = (r->end - addr) / PAGE;
      if (want_pages > DMTCP_CHUNK_PAGES) want_pages = DMTCP_CHUNK_PAGES;
      int bad_bits = 0;
      for (uint32_t p = ch->npages; p < DMTCP_CHUNK_PAGES && !bad_bits; p++)
        bad_bits = (ch->zero_bitmap[p / 64] >> (p % 64)) & 1;
      /* a repeat has no zero page and follows a chunk of as many pages, none of them zero, in its region */
      const struct chunk_ref *prev = c > 0 ? &refs[k - 1] : NULL;
      int repeat_ok = ch->codec == DMTCP_CODEC_REPEAT && ch->stored_len == 0 && ch->raw_len == ch->npages * PAGE && prev &&
                      prev->hdr->npages == ch->npages && prev->hdr->raw_len == ch->npages * PAGE;
      if (ch->magic != DMTCP_CHUNK_MAGIC || ch->npages != want_pages || bad_bits ||
          ch->raw_len != (ch->npages - popcount_pages(ch)) * PAGE ||
          (ch->codec == DMTCP_CODEC_NONE ? ch->stored_len != ch->raw_len
                                         : ch->codec != DMTCP_CODEC_ZSTD && !repeat_ok) ||
          !within(off + sizeof *ch, ch->stored_len, end)) {
        free(refs);
        return fail(err, errlen, "corrupted chunk %u of region %u (at byte %llu)", c, i, (unsigned long long)off);
      }
      refs[k].hdr = ch;
      refs[k].stored = img->map + off + sizeof *ch;
      refs[k].addr = addr;
      refs[k].region = i;
      if (ch->codec == DMTCP_CODEC_REPEAT) refs[k].source = prev->source ? prev->source : prev;
      k++;
      XXH64_update(&sum, &ch->checksum, sizeof ch->checksum);
      off += sizeof *ch + ch->stored_len;
      addr += (uint64_t)ch->npages * PAGE;
    }
    if (off != end || XXH64_digest(&sum) != r->checksum) {
      free(refs);
      return fail(err, errlen, "corrupted data of region %u (checksum mismatch)", i);
    }
  }
  *out = refs;
  return (long)k;
}

/* A chunk's checksum covers its header (with checksum = 0, as the seed) and
 * its bytes as stored. */
int chunk_check_stored(const struct chunk_ref *c, char *err, size_t errlen) {
  struct dmtcp_chunk_header copy;
  memcpy(&copy, c->hdr, sizeof copy);
  copy.checksum = 0;
  if (XXH64(c->stored, c->hdr->stored_len, XXH64(&copy, sizeof copy, 0)) != c->hdr->checksum)
    return fail(err, errlen, "corrupted data at %llx (checksum mismatch)", (unsigned long long)c->addr);
  return 0;
}

int chunk_decode(const struct chunk_ref *c, void *dest, void *scratch, char *err, size_t errlen) {
  const struct dmtcp_chunk_header *h = c->hdr;
  if (chunk_check_stored(c, err, errlen) != 0) return -1;
  if (c->source) return chunk_decode(c->source, dest, scratch, err, errlen); /* full, never sparse */
  if (h->raw_len == 0) return 0;
  int sparse = h->raw_len != h->npages * PAGE;
  const unsigned char *raw = c->stored; /* DMTCP_CODEC_NONE: the stored bytes are the raw bytes */
  if (h->codec == DMTCP_CODEC_ZSTD) {
    char *out = sparse ? scratch : dest;
    size_t got = ZSTD_decompress(out, h->raw_len, c->stored, h->stored_len);
    if (ZSTD_isError(got) || got != h->raw_len)
      return fail(err, errlen, "corrupted data at %llx (cannot decompress)", (unsigned long long)c->addr);
    if (!sparse) return 0;
    raw = (const unsigned char *)out;
  } else if (!sparse) {
    memcpy(dest, raw, h->raw_len);
    return 0;
  }
  for (uint32_t p = 0; p < h->npages; p++) { /* the non-zero pages, in address order */
    if ((h->zero_bitmap[p / 64] >> (p % 64)) & 1) continue;
    memcpy((char *)dest + (size_t)p * PAGE, raw, PAGE);
    raw += PAGE;
  }
  return 0;
}
