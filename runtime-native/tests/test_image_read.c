/* Validation of images: a well-formed synthetic image is accepted and
 * decodes to what was written; each kind of damage is refused with a reason
 * that names it. */
#define XXH_INLINE_ALL
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "check.h"
#include "restart/image_read.h"

#define PAGE 4096

static unsigned char image[4 << 20];
static size_t image_len;
static char pages[3 * PAGE];

static void seal_header(struct dmtcp_image_header *h) {
  h->header_checksum = 0;
  h->header_checksum = XXH64(h, sizeof *h, 0);
}

/* One anonymous region of 3 pages (the middle one zero), zstd-compressed. */
static int g_plain; /* build() stores the chunk with DMTCP_CODEC_NONE */

static void build(void) {
  memset(image, 0, sizeof image);
  for (int i = 0; i < PAGE; i++) {
    pages[i] = (char)('a' + i % 26);
    pages[2 * PAGE + i] = (char)('A' + i % 7);
  }
  struct dmtcp_image_header *h = (void *)image;
  memcpy(h->magic, DMTCP_IMAGE_MAGIC, 8);
  h->version = DMTCP_IMAGE_VERSION;
  h->header_size = DMTCP_IMAGE_HEADER_SIZE;
  h->arch = DMTCP_ARCH_X86_64;
  h->page_size = PAGE;
  h->uid = (uint32_t)getuid();
  h->num_regions = 1;
  h->num_threads = 1;
  h->region_table_offset = DMTCP_IMAGE_HEADER_SIZE;
  h->thread_table_offset = h->region_table_offset + sizeof(struct dmtcp_region);
  h->state_offset = h->thread_table_offset + sizeof(struct dmtcp_thread);
  h->state_len = 16;
  h->data_offset = 8192;
  struct dmtcp_region *r = (void *)(image + h->region_table_offset);
  r->start = 0x100000000ull;
  r->end = r->start + 3 * PAGE;
  r->prot = PROT_READ | PROT_WRITE;
  r->flags = DMTCP_RF_HAS_DATA;
  r->num_chunks = 1;
  r->data_offset = h->data_offset;
  struct dmtcp_thread *t = (void *)(image + h->thread_table_offset);
  t->is_main = 1;
  memset(image + h->state_offset, 7, 16);

  struct dmtcp_chunk_header *c = (void *)(image + h->data_offset);
  c->magic = DMTCP_CHUNK_MAGIC;
  c->npages = 3;
  c->zero_bitmap[0] = 1u << 1;
  c->raw_len = 2 * PAGE;
  char raw[2 * PAGE];
  memcpy(raw, pages, PAGE);
  memcpy(raw + PAGE, pages + 2 * PAGE, PAGE);
  unsigned char *stored = image + h->data_offset + sizeof *c;
  size_t z;
  if (g_plain) { /* stored as it is */
    z = sizeof raw;
    memcpy(stored, raw, z);
    c->codec = DMTCP_CODEC_NONE;
  } else {
    z = ZSTD_compress(stored, 2 * PAGE + 512, raw, sizeof raw, 1);
    c->codec = DMTCP_CODEC_ZSTD;
  }
  c->stored_len = (uint32_t)z;
  c->checksum = 0;
  c->checksum = XXH64(stored, z, XXH64(c, sizeof *c, 0));
  r->data_len = sizeof *c + z;
  r->checksum = XXH64(&c->checksum, sizeof c->checksum, 0);
  image_len = h->data_offset + r->data_len;
  h->file_size = image_len;
  XXH64_state_t s;
  XXH64_reset(&s, 0);
  XXH64_update(&s, r, sizeof *r);
  XXH64_update(&s, t, sizeof *t);
  XXH64_update(&s, image + h->state_offset, 16);
  h->tables_checksum = XXH64_digest(&s);
  seal_header(h);
}

static const char *path = "/tmp/dmtcp-test-image.dmtcp";

static void save(size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0 && write(fd, image, len) == (ssize_t)len);
  close(fd);
}

/* Opens, lists and decodes the saved image; returns the first error or "". */
static const char *validate(int strict) {
  static char err[512];
  struct image img;
  err[0] = '\0';
  if (image_open(&img, path, strict, err, sizeof err) == 0) {
    struct chunk_ref *chunks = NULL;
    long n = image_chunks(&img, &chunks, err, sizeof err);
    static char dest[3 * PAGE], scratch[DMTCP_CHUNK_PAGES * PAGE];
    memset(dest, 0, sizeof dest);
    for (long i = 0; i < n; i++)
      if (chunk_decode(&chunks[i], dest, scratch, err, sizeof err) != 0) break;
    if (n >= 0 && !err[0] && memcmp(dest, pages, sizeof dest) != 0) strcpy(err, "decoded pages differ");
    free(chunks);
  }
  image_close(&img);
  return err;
}

/* Checks the stored bytes of every chunk without decoding (how a region mapped
 * from its unchanged file is checked); returns the first error or "". */
static const char *check_stored(void) {
  static char err[512];
  struct image img;
  err[0] = '\0';
  if (image_open(&img, path, 1, err, sizeof err) == 0) {
    struct chunk_ref *chunks = NULL;
    long n = image_chunks(&img, &chunks, err, sizeof err);
    for (long i = 0; i < n; i++)
      if (chunk_check_stored(&chunks[i], err, sizeof err) != 0) break;
    free(chunks);
  }
  image_close(&img);
  return err;
}

static void expect(const char *what, int strict, const char *needle) {
  const char *err = validate(strict);
  if (!strstr(err, needle)) {
    fprintf(stderr, "%s: expected an error containing '%s', got '%s'\n", what, needle, err);
    check_failures++;
  }
}

/* build(), plus a zombie table of n entries after the state blob (checksums redone). */
static void build_zombies(const struct dmtcp_zombie *z, uint32_t n) {
  build();
  struct dmtcp_image_header *h = (void *)image;
  h->vpid = 100;
  h->zombie_table_offset = (h->state_offset + h->state_len + 7) & ~(uint64_t)7;
  h->num_zombies = n;
  memcpy(image + h->zombie_table_offset, z, n * sizeof *z);
  XXH64_state_t s;
  XXH64_reset(&s, 0);
  XXH64_update(&s, image + h->region_table_offset, sizeof(struct dmtcp_region));
  XXH64_update(&s, image + h->thread_table_offset, sizeof(struct dmtcp_thread));
  XXH64_update(&s, image + h->state_offset, h->state_len);
  XXH64_update(&s, image + h->zombie_table_offset, n * sizeof *z);
  h->tables_checksum = XXH64_digest(&s);
  seal_header(h);
}

static void zombie_tables(void) {
  struct dmtcp_image_header *h = (void *)image;
  const struct dmtcp_zombie good[3] = {{101, DMTCP_ZOMBIE_EXITED, 255, 0}, {102, DMTCP_ZOMBIE_KILLED, SIGTERM, 0},
                                       {200, DMTCP_ZOMBIE_DUMPED, SIGQUIT, 0}};
  build_zombies(good, 3); save(image_len);
  CHECK(strcmp(validate(1), "") == 0);
  struct dmtcp_zombie z[3];
  memcpy(z, good, sizeof z); z[0].status = 256; build_zombies(z, 3); save(image_len);
  expect("zombie exit code", 1, "corrupted zombie table (entry 0: child 101)");
  memcpy(z, good, sizeof z); z[1].status = SIGCHLD; build_zombies(z, 3); save(image_len);
  expect("zombie signal that cannot kill", 1, "corrupted zombie table (entry 1");
  memcpy(z, good, sizeof z); z[2].how = 4; build_zombies(z, 3); save(image_len);
  expect("zombie kind", 1, "corrupted zombie table (entry 2");
  memcpy(z, good, sizeof z); z[1].pid = 101; build_zombies(z, 3); save(image_len);
  expect("zombie pid twice", 1, "corrupted zombie table (entry 1");
  memcpy(z, good, sizeof z); z[0].pid = 100; build_zombies(z, 3); save(image_len);
  expect("zombie is the process itself", 1, "corrupted zombie table (entry 0");
  memcpy(z, good, sizeof z); z[0].pid = 1; build_zombies(z, 3); save(image_len);
  expect("zombie is process 1", 1, "corrupted zombie table (entry 0");
  build_zombies(good, 3); image[h->zombie_table_offset + 4] ^= 2; save(image_len);
  expect("zombie table bit flip", 1, "checksum mismatch");
  build_zombies(good, 3); h->zombie_table_offset += 4; seal_header(h); save(image_len);
  expect("zombie table misaligned", 1, "tables out of range");
  build_zombies(good, 3); h->num_zombies = DMTCP_MAX_ZOMBIES + 1; seal_header(h); save(image_len);
  expect("too many zombies", 1, "tables out of range");
  build_zombies(good, 3); h->zombie_table_offset = image_len - 8; seal_header(h); save(image_len);
  expect("zombie table past the end", 1, "tables out of range");
}

/* A region of two 1 MiB chunks, the second a DMTCP_CODEC_REPEAT of the first
 * (first_zero: the first has a zero page, so it may not be repeated;
 * repeat_zero: the repeat claims a zero page of its own, which it may not). */
static char big[2 * DMTCP_CHUNK_PAGES * PAGE];

static void build_repeat(int first_zero, int repeat_first, int repeat_zero) {
  build();
  struct dmtcp_image_header *h = (void *)image;
  struct dmtcp_region *r = (void *)(image + h->region_table_offset);
  r->end = r->start + sizeof big;
  r->num_chunks = 2;
  for (size_t i = 0; i < sizeof big / 2; i++) big[i] = (char)(i % 4096 / 97 + 1);
  if (first_zero) memset(big, 0, PAGE);
  memcpy(big + sizeof big / 2, big, sizeof big / 2);
  unsigned char *at = image + h->data_offset;
  XXH64_state_t sum;
  XXH64_reset(&sum, 0);
  for (int k = 0; k < 2; k++) {
    struct dmtcp_chunk_header hc, *c = &hc; /* aligned here, not in the image */
    memset(c, 0, sizeof *c);
    c->magic = DMTCP_CHUNK_MAGIC;
    c->npages = DMTCP_CHUNK_PAGES;
    unsigned char *stored = at + sizeof *c;
    if (k == (repeat_first ? 0 : 1)) {
      c->codec = DMTCP_CODEC_REPEAT;
      c->raw_len = DMTCP_CHUNK_PAGES * PAGE;
      if (repeat_zero) { c->zero_bitmap[0] = 1; c->raw_len -= PAGE; }
    } else {
      const char *from = big + (size_t)k * sizeof big / 2;
      size_t len = sizeof big / 2;
      if (first_zero && k == 0) { c->zero_bitmap[0] = 1; from += PAGE; len -= PAGE; }
      c->raw_len = (uint32_t)len;
      c->codec = DMTCP_CODEC_ZSTD;
      c->stored_len = (uint32_t)ZSTD_compress(stored, sizeof image / 4, from, len, 1);
    }
    c->checksum = XXH64(stored, c->stored_len, XXH64(c, sizeof *c, 0));
    memcpy(at, c, sizeof *c);
    XXH64_update(&sum, &c->checksum, sizeof c->checksum);
    at = stored + c->stored_len;
  }
  r->data_len = (uint64_t)(at - (image + h->data_offset));
  r->checksum = XXH64_digest(&sum);
  image_len = (size_t)(at - image);
  h->file_size = image_len;
  XXH64_state_t s;
  XXH64_reset(&s, 0);
  XXH64_update(&s, r, sizeof *r);
  XXH64_update(&s, image + h->thread_table_offset, sizeof(struct dmtcp_thread));
  XXH64_update(&s, image + h->state_offset, 16);
  h->tables_checksum = XXH64_digest(&s);
  seal_header(h);
}

/* Decodes every chunk into a copy of the region; returns the first error, or
 * "" when the copy is big. */
static const char *decode_repeat(void) {
  static char err[512], dest[sizeof big], scratch[DMTCP_CHUNK_PAGES * PAGE];
  struct image img;
  err[0] = '\0';
  memset(dest, 0, sizeof dest);
  if (image_open(&img, path, 1, err, sizeof err) == 0) {
    struct chunk_ref *chunks = NULL;
    long n = image_chunks(&img, &chunks, err, sizeof err);
    for (long i = 0; i < n; i++)
      if (chunk_decode(&chunks[i], dest + (chunks[i].addr - 0x100000000ull), scratch, err, sizeof err) != 0) break;
    if (n == 2 && !err[0] && memcmp(dest, big, sizeof big) != 0) strcpy(err, "decoded pages differ");
    free(chunks);
  }
  image_close(&img);
  return err;
}

static void repeat_chunks(void) {
  struct dmtcp_image_header *h = (void *)image;
  build_repeat(0, 0, 0); save(image_len);
  CHECK(strcmp(decode_repeat(), "") == 0);
  build_repeat(0, 0, 0); image[h->data_offset + sizeof(struct dmtcp_chunk_header) + 2] ^= 4; save(image_len);
  CHECK(strstr(decode_repeat(), "checksum mismatch") != NULL); /* the repeated chunk is damaged */
  build_repeat(0, 1, 0); save(image_len);
  CHECK(strstr(decode_repeat(), "corrupted chunk 0") != NULL); /* a repeat of nothing */
  build_repeat(1, 0, 0); save(image_len);
  CHECK(strstr(decode_repeat(), "corrupted chunk 1") != NULL); /* of a chunk with a zero page */
  build_repeat(0, 0, 1); save(image_len);
  CHECK(strstr(decode_repeat(), "corrupted chunk 1") != NULL); /* a repeat with a zero page of its own */
}

int main(void) {
  struct dmtcp_image_header *h = (void *)image;
  build(); save(image_len);
  CHECK(strcmp(validate(1), "") == 0);

  build(); image[200] ^= 1; save(image_len);
  expect("header bit flip", 1, "corrupted header");
  build(); save(image_len - 10);
  expect("truncation", 1, "truncated");
  build(); save(1000);
  expect("no header", 1, "truncated");
  build(); image[0] = 'X'; save(image_len);
  expect("magic", 1, "bad magic");
  build(); h->version = DMTCP_IMAGE_VERSION + 1; seal_header(h); save(image_len);
  expect("version", 1, "this dmtcp_restart reads version");
  build(); h->arch = DMTCP_ARCH_AARCH64; seal_header(h); save(image_len);
  expect("architecture", 1, "image is for aarch64");
  build(); h->uid = (uint32_t)getuid() + 1; seal_header(h); save(image_len);
  expect("other user", 1, "belongs to uid");
  CHECK(strcmp(validate(0), "") == 0); /* --no-strict-checking */
  build(); image[DMTCP_IMAGE_HEADER_SIZE + 3] ^= 0x40; save(image_len);
  expect("region table", 1, "region or thread table");
  build(); image[h->data_offset + sizeof(struct dmtcp_chunk_header) + 5] ^= 0x10; save(image_len);
  expect("chunk data", 1, "corrupted data");
  build(); save(image_len);
  CHECK(strcmp(check_stored(), "") == 0);
  build(); image[image_len - 1] ^= 0x01; save(image_len);
  CHECK(strstr(check_stored(), "corrupted data") != NULL); /* seen without decoding */
  /* a compressed chunk that decompresses but is not what was stored: refused before it is decoded */
  build(); image[h->data_offset + sizeof(struct dmtcp_chunk_header) + 1] ^= 0x01; save(image_len);
  expect("stored bytes", 1, "checksum mismatch");
  g_plain = 1;
  build(); save(image_len);
  CHECK(strcmp(validate(1), "") == 0 && strcmp(check_stored(), "") == 0);
  build(); image[image_len - 1] ^= 0x01; save(image_len);
  CHECK(strstr(check_stored(), "corrupted data") != NULL); /* a plain chunk, seen without decoding */
  expect("plain chunk data", 1, "corrupted data");
  g_plain = 0;
  build(); ((struct dmtcp_chunk_header *)(image + h->data_offset))->zero_bitmap[0] ^= 1; save(image_len);
  expect("zero bitmap", 1, "corrupted chunk");
  zombie_tables();
  repeat_chunks();
  unlink(path);
  CHECK_DONE("test_image_read");
}
