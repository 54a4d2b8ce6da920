/* Checking an image's IPC table: nothing in it is used before every record
 * has been found well-formed, so a bad table is refused in one line. */
#include "restart/ipc_image.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096u
#define SEM_VALUE_MAX_ 32767u   /* SEMVMX */
#define MQ_PRIO_LIMIT 32768u    /* MQ_PRIO_MAX */

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

const struct dmtcp_ipc_record *ipc_records(const struct image *img) {
  return img->ipc ? (const struct dmtcp_ipc_record *)(const void *)img->ipc : NULL;
}

const unsigned char *ipc_payload(const struct image *img, const struct dmtcp_ipc_record *r) {
  return img->ipc + r->payload_offset;
}

void ipc_describe(const struct dmtcp_ipc_record *r, char *out, size_t outlen) {
  switch (r->kind) {
    case DMTCP_IPC_SHM: snprintf(out, outlen, "System V shared memory id %d", r->id); break;
    case DMTCP_IPC_SEM: snprintf(out, outlen, "System V semaphore set id %d", r->id); break;
    case DMTCP_IPC_MSG: snprintf(out, outlen, "System V message queue id %d", r->id); break;
    case DMTCP_IPC_MQ: snprintf(out, outlen, "POSIX message queue %.255s", r->name); break;
    default: snprintf(out, outlen, "IPC object of unknown kind %u", r->kind); break;
  }
}

static int same_object(const struct dmtcp_ipc_record *a, const struct dmtcp_ipc_record *b) {
  if (a->kind != b->kind) return 0;
  return a->kind == DMTCP_IPC_MQ ? strncmp(a->name, b->name, sizeof a->name) == 0 : a->id == b->id;
}

const struct dmtcp_ipc_record *ipc_find(const struct image *img, uint32_t kind, int32_t id, const char *name) {
  const struct dmtcp_ipc_record *recs = ipc_records(img);
  for (uint32_t i = 0; recs && i < img->h->num_ipc; i++) {
    if (recs[i].kind != kind) continue;
    if (kind == DMTCP_IPC_MQ ? strncmp(recs[i].name, name, sizeof recs[i].name) == 0 : recs[i].id == id)
      return &recs[i];
  }
  return NULL;
}

int ipc_region_shmid(const struct dmtcp_region *r) {
  if (r->kind != DMTCP_REGION_SHARED_FILE && r->kind != DMTCP_REGION_SHARED_ANON) return -1;
  const char *p = r->path;
  if (strncmp(p, "/SYSV", 5) != 0) return -1;
  for (int i = 5; i < 13; i++)
    if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return -1;
  if (!(p[13] == '\0' || strcmp(p + 13, " (deleted)") == 0) || r->object_ino > INT32_MAX) return -1;
  return (int)r->object_ino;
}

static uint64_t page_up(uint64_t n) { return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1); }

/* Messages of a MSG or MQ record: count of them, exactly filling the payload. */
static int check_messages(const struct image *img, const struct dmtcp_ipc_record *r, const char *what, char *err,
                          size_t errlen) {
  const unsigned char *p = ipc_payload(img, r);
  uint64_t off = 0;
  for (uint32_t m = 0; m < r->count; m++) {
    struct dmtcp_ipc_msg h;
    if (r->payload_len - off < sizeof h) return fail(err, errlen, "%s: message %u is cut off", what, m);
    memcpy(&h, p + off, sizeof h);
    if (h.len > r->payload_len - off - sizeof h) return fail(err, errlen, "%s: message %u is cut off", what, m);
    if (r->kind == DMTCP_IPC_MSG && h.type <= 0)
      return fail(err, errlen, "%s: message %u has type %lld", what, m, (long long)h.type);
    if (r->kind == DMTCP_IPC_MQ && (h.type < 0 || h.type >= MQ_PRIO_LIMIT || h.len > r->size))
      return fail(err, errlen, "%s: message %u (priority %lld, %u bytes) does not fit the queue", what, m,
                  (long long)h.type, h.len);
    off += (sizeof h + h.len + 7) & ~(uint64_t)7;
  }
  if (off != r->payload_len) return fail(err, errlen, "%s: %u messages do not fill its %llu bytes", what, r->count,
                                         (unsigned long long)r->payload_len);
  return 0;
}

static int check_record(const struct image *img, uint32_t i, char *err, size_t errlen) {
  const struct dmtcp_ipc_record *r = &ipc_records(img)[i];
  const struct dmtcp_image_header *h = img->h;
  char what[320];
  if (r->kind == DMTCP_IPC_MQ && memchr(r->name, '\0', sizeof r->name) == NULL)
    return fail(err, errlen, "record %u: a POSIX message queue name without an end", i);
  ipc_describe(r, what, sizeof what);
  if (r->kind < DMTCP_IPC_SHM || r->kind > DMTCP_IPC_MQ) return fail(err, errlen, "record %u: %s", i, what);
  uint32_t known = r->kind == DMTCP_IPC_SHM ? DMTCP_IPCF_REMOVED : r->kind == DMTCP_IPC_MQ ? DMTCP_IPCF_MESSAGES | DMTCP_IPCF_REMOVED : 0;
  if (r->flags & ~known) return fail(err, errlen, "%s: unknown flags %#x", what, r->flags);
  if (r->mode > 0777) return fail(err, errlen, "%s: mode %o", what, r->mode);
  uint64_t table = h->ipc_table_len, records = (uint64_t)h->num_ipc * sizeof *r;
  if (r->payload_len && (r->payload_offset % 8 || r->payload_offset < records || r->payload_offset > table ||
                         r->payload_len > table - r->payload_offset))
    return fail(err, errlen, "%s: its contents lie outside the table", what);
  switch (r->kind) {
    case DMTCP_IPC_SHM:
      if (r->id < 0 || r->size == 0 || r->size > (1ull << 46) || r->count || r->payload_len)
        return fail(err, errlen, "%s: size %llu", what, (unsigned long long)r->size);
      break;
    case DMTCP_IPC_SEM: {
      if (r->id < 0 || r->count == 0 || r->count > 65536 || r->payload_len != ((uint64_t)r->count * 2 + 7) / 8 * 8)
        return fail(err, errlen, "%s: %u semaphores in %llu bytes", what, r->count, (unsigned long long)r->payload_len);
      const unsigned char *p = ipc_payload(img, r);
      for (uint32_t k = 0; k < r->count; k++) {
        uint16_t v;
        memcpy(&v, p + 2 * k, sizeof v);
        if (v > SEM_VALUE_MAX_) return fail(err, errlen, "%s: semaphore %u has value %u", what, k, v);
      }
      break;
    }
    case DMTCP_IPC_MSG:
      if (r->id < 0) return fail(err, errlen, "%s", what);
      return check_messages(img, r, what, err, errlen);
    case DMTCP_IPC_MQ:
      if (r->id != -1 || r->name[0] != '/' || r->name[1] == '\0' || strchr(r->name + 1, '/'))
        return fail(err, errlen, "%s: not a queue name", what);
      if (r->limit == 0 || r->limit > 65536 || r->size == 0 || r->size > (16u << 20) || r->count > r->limit ||
          (r->count && !(r->flags & DMTCP_IPCF_MESSAGES)))
        return fail(err, errlen, "%s: %u messages, at most %llu of %llu bytes", what, r->count,
                    (unsigned long long)r->limit, (unsigned long long)r->size);
      return check_messages(img, r, what, err, errlen);
  }
  return 0;
}

int ipc_check_table(const struct image *img, char *err, size_t errlen) {
  const struct dmtcp_image_header *h = img->h;
  char inner[400];
  for (uint32_t i = 0; i < h->num_ipc; i++) {
    if (check_record(img, i, inner, sizeof inner) != 0)
      return fail(err, errlen, "corrupted IPC table (%s)", inner);
    for (uint32_t j = 0; j < i; j++) {
      if (!same_object(&ipc_records(img)[j], &ipc_records(img)[i])) continue;
      ipc_describe(&ipc_records(img)[i], inner, sizeof inner);
      return fail(err, errlen, "corrupted IPC table (%s is listed twice)", inner);
    }
  }
  for (uint32_t k = 0; k < h->num_regions; k++) {
    const struct dmtcp_region *r = &img->regions[k];
    int id = ipc_region_shmid(r);
    const struct dmtcp_ipc_record *seg = id >= 0 ? ipc_find(img, DMTCP_IPC_SHM, id, NULL) : NULL;
    if (!seg) {
      /* a "/SYSV" mapping with no record is restored as any shared mapping */
      if (r->flags & DMTCP_RF_CONTENT_ONLY)
        return fail(err, errlen, "corrupted IPC table (region %u holds the contents of a System V segment it does not list)", k);
      continue;
    }
    uint64_t len = r->end - r->start, seglen = page_up(seg->size);
    int fits = r->file_offset % PAGE == 0 && r->file_offset <= seglen && len <= seglen - r->file_offset &&
               r->start >= r->file_offset;
    if ((r->flags & DMTCP_RF_CONTENT_ONLY) && (r->file_offset != 0 || len != seglen)) fits = 0;
    if (!fits)
      return fail(err, errlen,
                  "corrupted IPC table (region %u, %llu bytes at offset %llu, does not fit System V segment %d of %llu bytes)",
                  k, (unsigned long long)len, (unsigned long long)r->file_offset, id, (unsigned long long)seg->size);
  }
  return 0;
}

int ipc_records_agree(const struct dmtcp_ipc_record *a, const struct dmtcp_ipc_record *b, char *err, size_t errlen) {
  char what[320];
  ipc_describe(a, what, sizeof what);
  if (a->kind != DMTCP_IPC_MQ && a->key != b->key)
    return fail(err, errlen, "%s has key %#x here and %#x there", what, (unsigned)b->key, (unsigned)a->key);
  if (a->size != b->size && a->kind != DMTCP_IPC_SEM)
    return fail(err, errlen, "%s has size %llu here and %llu there", what, (unsigned long long)b->size,
                (unsigned long long)a->size);
  if (a->kind == DMTCP_IPC_SEM && a->count != b->count)
    return fail(err, errlen, "%s has %u semaphores here and %u there", what, b->count, a->count);
  if (a->kind == DMTCP_IPC_SHM && (a->flags & DMTCP_IPCF_REMOVED) != (b->flags & DMTCP_IPCF_REMOVED))
    return fail(err, errlen, "%s is marked for removal in one image only", what);
  if (a->kind == DMTCP_IPC_MQ && a->limit != b->limit)
    return fail(err, errlen, "%s holds at most %llu messages here and %llu there", what, (unsigned long long)b->limit,
                (unsigned long long)a->limit);
  if (a->kind == DMTCP_IPC_MQ && (a->flags & b->flags & DMTCP_IPCF_MESSAGES))
    return fail(err, errlen, "%s has its messages in two images", what);
  return 0;
}
