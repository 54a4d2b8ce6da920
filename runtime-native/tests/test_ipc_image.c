/* The IPC table of an image: a well-formed one is accepted; each kind of bad
 * or inconsistent data, resealed so that every checksum matches, is refused
 * with a reason that names it; two records of one object must agree. */
#define XXH_INLINE_ALL
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "restart/image_read.h"
#include "restart/ipc_image.h"

#define PAGE 4096

static unsigned char image[1 << 16];
static size_t image_len;
static struct dmtcp_image_header *h = (void *)image;
static struct dmtcp_region *region;
static struct dmtcp_ipc_record *rec;   /* [0] SHM id 7, [1] SEM id 5, [2] MSG id 9 */

static void add_msg(unsigned char **p, int64_t type, const char *text) {
  struct dmtcp_ipc_msg m = {type, (uint32_t)strlen(text), 0};
  memcpy(*p, &m, sizeof m);
  memcpy(*p + sizeof m, text, m.len);
  *p += (sizeof m + m.len + 7) & ~(size_t)7;
}

/* Header, one region (an attachment of segment 7, no data), a thread, a
 * state blob and the IPC table; no data section. */
static void build(void) {
  memset(image, 0, sizeof image);
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
  h->ipc_table_offset = h->state_offset + 16;
  h->num_ipc = 3;
  region = (void *)(image + h->region_table_offset);
  region->start = 0x7f0000000000ull;
  region->end = region->start + 2 * PAGE;
  region->prot = PROT_READ | PROT_WRITE;
  region->kind = DMTCP_REGION_SHARED_FILE;
  region->object_ino = 7;
  strcpy(region->path, "/SYSV00001234 (deleted)");
  struct dmtcp_thread *t = (void *)(image + h->thread_table_offset);
  t->is_main = 1;
  rec = (void *)(image + h->ipc_table_offset);
  rec[0] = (struct dmtcp_ipc_record){.kind = DMTCP_IPC_SHM, .id = 7, .key = 0x1234, .mode = 0640, .size = 3 * PAGE - 100};
  rec[1] = (struct dmtcp_ipc_record){.kind = DMTCP_IPC_SEM, .id = 5, .mode = 0600, .count = 3};
  rec[2] = (struct dmtcp_ipc_record){.kind = DMTCP_IPC_MSG, .id = 9, .key = 0x99, .mode = 0600, .count = 2, .size = 16384};
  unsigned char *base = (unsigned char *)rec, *p = base + 3 * sizeof *rec;
  rec[1].payload_offset = (uint64_t)(p - base);
  rec[1].payload_len = 8;
  uint16_t values[3] = {1, 0, 32767};
  memcpy(p, values, sizeof values);
  p += 8;
  rec[2].payload_offset = (uint64_t)(p - base);
  add_msg(&p, 1, "message 0");
  add_msg(&p, 3, "message 1 is longer");
  rec[2].payload_len = (uint64_t)(p - base) - rec[2].payload_offset;
  h->ipc_table_len = (uint64_t)(p - base);
  h->data_offset = (h->ipc_table_offset + h->ipc_table_len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
  image_len = h->data_offset;
}

/* Every checksum made to match again: only the IPC checks can object. */
static void seal(void) {
  h->file_size = image_len;
  XXH64_state_t s;
  XXH64_reset(&s, 0);
  XXH64_update(&s, image + h->region_table_offset, h->num_regions * sizeof(struct dmtcp_region));
  XXH64_update(&s, image + h->thread_table_offset, sizeof(struct dmtcp_thread));
  XXH64_update(&s, image + h->state_offset, h->state_len);
  if (h->num_ipc && h->ipc_table_offset + h->ipc_table_len <= sizeof image)
    XXH64_update(&s, image + h->ipc_table_offset, h->ipc_table_len);
  h->tables_checksum = XXH64_digest(&s);
  h->header_checksum = 0;
  h->header_checksum = XXH64(h, sizeof *h, 0);
}

static const char *path = "/tmp/dmtcp-test-ipc-image.dmtcp";

static const char *validate(void) {
  static char err[512];
  seal();
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0 && write(fd, image, image_len) == (ssize_t)image_len);
  close(fd);
  struct image img;
  err[0] = '\0';
  if (image_open(&img, path, 1, err, sizeof err) == 0) ipc_check_table(&img, err, sizeof err);
  image_close(&img);
  return err;
}

static void expect(const char *what, const char *needle) {
  const char *err = validate();
  if (!strstr(err, needle)) {
    fprintf(stderr, "%s: expected an error containing '%s', got '%s'\n", what, needle, err);
    check_failures++;
  }
}

int main(void) {
  build();
  const char *first = validate();
  if (first[0]) fprintf(stderr, "the well-formed image: %s\n", first);
  CHECK(first[0] == '\0');
  {
    struct image img;
    char err[256];
    CHECK(image_open(&img, path, 1, err, sizeof err) == 0);
    CHECK(ipc_region_shmid(&img.regions[0]) == 7);
    CHECK(ipc_find(&img, DMTCP_IPC_SEM, 5, NULL) == &ipc_records(&img)[1]);
    CHECK(ipc_find(&img, DMTCP_IPC_SEM, 7, NULL) == NULL);
    image_close(&img);
  }

  build(); image[h->ipc_table_offset + 4] ^= 1; /* not resealed: the checksum sees it */
  {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(write(fd, image, image_len) == (ssize_t)image_len);
    close(fd);
    struct image img;
    char err[256] = "";
    CHECK(image_open(&img, path, 1, err, sizeof err) != 0 && strstr(err, "checksum mismatch"));
    image_close(&img);
  }
  build(); h->ipc_table_len = 100000;
  expect("table beyond the file", "tables out of range");
  build(); h->num_ipc = 0;
  expect("records but no count", "tables out of range");
  build(); rec[1].kind = 9;
  expect("unknown kind", "unknown kind 9");
  build(); rec[1].flags = DMTCP_IPCF_REMOVED;
  expect("flag of another kind", "semaphore set id 5: unknown flags");
  build(); rec[0].mode = 01777;
  expect("mode", "shared memory id 7: mode 1777");
  build(); rec[0].size = 0;
  expect("empty segment", "shared memory id 7: size 0");
  build(); rec[1].payload_offset = h->ipc_table_len;
  expect("payload outside", "semaphore set id 5: its contents lie outside the table");
  build(); rec[1].count = 5;
  expect("semaphores", "semaphore set id 5: 5 semaphores in 8 bytes");
  build(); ((uint16_t *)(void *)((unsigned char *)rec + rec[1].payload_offset))[1] = 40000;
  expect("semaphore value", "semaphore 1 has value 40000");
  build(); rec[2].count = 3;
  expect("a message too many", "message queue id 9: message 2 is cut off");
  build(); rec[2].count = 1;
  expect("a message too few", "message queue id 9: 1 messages do not fill");
  build(); ((struct dmtcp_ipc_msg *)(void *)((unsigned char *)rec + rec[2].payload_offset))->type = 0;
  expect("message type", "message 0 has type 0");
  build(); ((struct dmtcp_ipc_msg *)(void *)((unsigned char *)rec + rec[2].payload_offset))->len = 5000;
  expect("message length", "message 0 is cut off");
  build(); rec[2] = rec[1];
  expect("twice", "semaphore set id 5 is listed twice");
  build(); rec[0].id = 8; /* a "/SYSV" mapping of an unlisted segment: restored as any shared mapping */
  CHECK(strcmp(validate(), "") == 0);
  build(); rec[0].id = 8; region->flags = DMTCP_RF_CONTENT_ONLY;
  expect("contents of an unlisted segment", "holds the contents of a System V segment it does not list");
  build(); region->file_offset = 2 * PAGE;
  expect("region beyond its segment", "does not fit System V segment 7");
  build(); region->flags = DMTCP_RF_CONTENT_ONLY;
  expect("content-only region not the whole segment", "does not fit System V segment 7");
  build(); rec[0].kind = DMTCP_IPC_MQ; rec[0].id = -1; strcpy(rec[0].name, "/a/b"); rec[0].limit = 10;
  expect("queue name", "POSIX message queue /a/b: not a queue name");
  build(); rec[0].kind = DMTCP_IPC_MQ; rec[0].id = -1; strcpy(rec[0].name, "/q"); rec[0].limit = 10;
  rec[0].size = 8; rec[0].flags = DMTCP_IPCF_MESSAGES; rec[0].payload_offset = rec[2].payload_offset;
  rec[0].payload_len = rec[2].payload_len; rec[0].count = 2;
  expect("queue message longer than its msgsize", "(priority 1, 9 bytes) does not fit the queue");

  /* two images' records of one object */
  char err[256];
  struct dmtcp_ipc_record a = {.kind = DMTCP_IPC_SHM, .id = 7, .key = 1, .size = 4096}, b = a;
  CHECK(ipc_records_agree(&a, &b, err, sizeof err) == 0);
  b.size = 8192;
  CHECK(ipc_records_agree(&a, &b, err, sizeof err) != 0 && strstr(err, "size 8192 here and 4096 there"));
  b = a;
  b.flags = DMTCP_IPCF_REMOVED;
  CHECK(ipc_records_agree(&a, &b, err, sizeof err) != 0 && strstr(err, "marked for removal in one image only"));
  b = a;
  b.key = 2;
  CHECK(ipc_records_agree(&a, &b, err, sizeof err) != 0 && strstr(err, "key 0x2 here and 0x1 there"));
  struct dmtcp_ipc_record s1 = {.kind = DMTCP_IPC_SEM, .id = 5, .count = 2}, s2 = s1;
  s2.count = 3;
  CHECK(ipc_records_agree(&s1, &s2, err, sizeof err) != 0 && strstr(err, "3 semaphores here and 2 there"));
  unlink(path);
  CHECK_DONE("test_ipc_image");
}
