/* Writing a checkpoint image (format: include/dmtcp/image_format.h).
 *
 * Runs in the checkpoint thread while every user thread is parked, possibly
 * holding malloc or stdio locks: nothing here calls malloc or stdio. Memory
 * comes from mmap, files are written with raw system calls, and zstd gets an
 * mmap-backed allocator. Chunks are encoded on both cores, by the checkpoint
 * thread and a raw worker thread (cloned without glibc's knowledge, so it
 * leaves no trace in the image); the checkpoint thread writes them all in
 * order. The two take the next chunk to encode from a shared counter, the
 * checkpoint thread only while the chunk it must write next is not ready: on
 * incompressible data writing is its whole job, on compressible data it
 * encodes about half.
 *
 * A durable image (the default) is written with O_DIRECT: its bytes must reach
 * the device before the rename anyway, and streaming them from an aligned
 * buffer skips filling (and then flushing) a page-cache copy of the whole
 * image, which on a machine short of free pages costs more than the write. */
#define XXH_INLINE_ALL
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "fds/fds.h"
#include "maps.h"
#include "runtime.h"
#include "zstd_lazy.h"

#define PAGE 4096u
#define CHUNK_BYTES (DMTCP_CHUNK_PAGES * PAGE)
#define RING 16
#define BATCH 8   /* chunks per writev: large writes let the page cache use large folios */
#define MAX_REGIONS 8192
#define MAX_PRIVATE 128
/* O_DIRECT write size: 8 MiB streams at the device's speed; a smaller image
 * gets a smaller buffer, a 32nd of its data down to 1 MiB, so that a small
 * process faults in (and then keeps, g_kept) only a little of it. */
#define SINK_MAX (8u << 20)
#define SINK_MIN (1u << 20)

/* Memory of the runtime itself that must not go into the image. */
static struct { uintptr_t start, end; } g_private[MAX_PRIVATE];
static int g_nprivate;

/* The encoders' ring and the O_DIRECT buffer outlive a checkpoint: each page
 * of a fresh mapping costs a fault (on a VM, a host fault too), about a third
 * of a 32-process checkpoint here. Between checkpoints they are MADV_FREE: the
 * kernel takes them back when it needs memory, and until then they cost no
 * fault. (The zstd contexts are made anew: their tables must keep their
 * contents, so they could not be MADV_FREE.) A restarted process never had
 * them (image_forget_private). */
static struct {
  int have;
  char *gather[RING], *zbuf[RING];
  char *sink;
  size_t sink_cap, zcap;
} g_kept;

void image_register_private(void *addr, size_t len) {
  if (g_nprivate < MAX_PRIVATE) {
    g_private[g_nprivate].start = (uintptr_t)addr;
    g_private[g_nprivate].end = (uintptr_t)addr + len;
    g_nprivate++;
  }
}

/* In the restarted process: the buffers the image was written with were
 * never restored, and their address ranges are free for the program (with
 * randomization off, its next mappings land exactly there). Ranges still
 * listed would be cut out of every later image. */
void image_forget_private(void) {
  g_nprivate = 0;
  memset(&g_kept, 0, sizeof g_kept);
}

static void unregister_private(void *addr) {
  for (int i = 0; i < g_nprivate; i++) {
    if (g_private[i].start == (uintptr_t)addr) {
      g_private[i] = g_private[--g_nprivate];
      return;
    }
  }
}

static void *private_map(size_t len) {
  void *p = rt_mmap(len);
  if (p) image_register_private(p, len);
  return p;
}

static void private_unmap(void *p, size_t len) {
  if (!p) return;
  unregister_private(p);
  rt_munmap(p, len);
}

/* zstd allocator backed by mmap; the size lives in front of the block. */
static void *zalloc(void *opaque, size_t size) {
  (void)opaque;
  size_t total = (size + 16 + PAGE - 1) & ~(size_t)(PAGE - 1);
  char *p = private_map(total);
  if (!p) return NULL;
  *(size_t *)p = total;
  return p + 16;
}

static void zfree(void *opaque, void *ptr) {
  (void)opaque;
  if (!ptr) return;
  char *p = (char *)ptr - 16;
  private_unmap(p, *(size_t *)p);
}

/* One unit of work: up to DMTCP_CHUNK_PAGES pages of one region. */
struct chunk_job {
  uint32_t region;
  uint32_t npages;
  uintptr_t addr;
  int anon;                         /* private anonymous memory: pages never touched are zero */
};

/* Job j uses slot j % RING, free once job j - RING is written. */
struct ring_slot {
  _Atomic int full;                 /* 0 empty or being encoded, 1 encoded */
  struct dmtcp_chunk_header hdr;
  const void *data;                 /* stored bytes: into memory, gather or zbuf */
  char *gather;                     /* CHUNK_BYTES */
  char *zbuf;                       /* zstd bound of CHUNK_BYTES */
};

struct writer {
  struct dmtcp_region *regions;
  uint32_t nregions;
  struct chunk_job *jobs;
  size_t njobs;
  struct ring_slot ring[RING];
  size_t zcap;
  int compress;
  ZSTD_CCtx *cctx[2][2];            /* [encoder][long-distance matching] */
  int pagemap_fd;                   /* /proc/self/pagemap, or -1 */
  _Atomic size_t next_claim;        /* the next job either encoder may take */
  _Atomic size_t written;           /* jobs written: their slots are free */
  _Atomic int written_seq;          /* futex word: bumped when written grows */
};

static int page_is_zero(const void *p) {
  const uint64_t *w = p;
  if (w[0] | w[1] | w[511]) return 0;
  uint64_t acc = 0;
  for (unsigned i = 0; i < PAGE / 8; i += 8)
    acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
  return acc == 0;
}

/* Encodes job j into slot s with the given zstd context. */
static void encode(struct writer *w, size_t j, struct ring_slot *s, ZSTD_CCtx *const cctx[2]) {
  const struct chunk_job *job = &w->jobs[j];
  struct dmtcp_chunk_header *h = &s->hdr;
  memset(h, 0, sizeof *h);
  h->magic = DMTCP_CHUNK_MAGIC;
  h->npages = job->npages;
  uint32_t nonzero = 0;
  /* Private anonymous pages that are neither present nor swapped out have
   * never been written (or were discarded): zero, without touching them, so
   * a large reservation (64 GiB of MAP_NORESERVE) costs a pagemap read per
   * chunk instead of a fault per page. */
  uint64_t pm[DMTCP_CHUNK_PAGES];
  int have_pm = job->anon && w->pagemap_fd >= 0 &&
                pread(w->pagemap_fd, pm, job->npages * sizeof pm[0], (off_t)(job->addr / PAGE * sizeof pm[0])) ==
                    (ssize_t)(job->npages * sizeof pm[0]);
  for (uint32_t p = 0; p < job->npages; p++) {
    if ((have_pm && !(pm[p] & (3ull << 62))) || page_is_zero((const char *)job->addr + (size_t)p * PAGE))
      h->zero_bitmap[p / 64] |= 1ull << (p % 64);
    else
      nonzero++;
  }
  const char *raw;
  if (nonzero == job->npages) {
    raw = (const char *)job->addr;
    /* The same bytes as the chunk before it (memory filled with one value
     * or record): nothing to store. A compare usually stops within the first
     * bytes; where it runs to the end it costs a tenth of compressing.
     * (Not with --no-gzip, which writes every chunk as it is.) */
    const struct chunk_job *prev = j > 0 ? &w->jobs[j - 1] : NULL;
    if (w->compress && prev && prev->region == job->region && prev->npages == job->npages &&
        memcmp(raw, (const char *)prev->addr, (size_t)job->npages * PAGE) == 0) {
      h->codec = DMTCP_CODEC_REPEAT;
      h->raw_len = job->npages * PAGE;
      h->stored_len = 0;
      s->data = raw;
      h->checksum = XXH64(raw, 0, XXH64(h, sizeof *h, 0));
      return;
    }
  } else {
    char *g = s->gather;
    for (uint32_t p = 0; p < job->npages; p++) {
      if (!(h->zero_bitmap[p / 64] & (1ull << (p % 64)))) {
        memcpy(g, (const char *)job->addr + (size_t)p * PAGE, PAGE);
        g += PAGE;
      }
    }
    raw = s->gather;
  }
  h->raw_len = nonzero * PAGE;
  h->codec = DMTCP_CODEC_NONE;
  h->stored_len = h->raw_len;
  s->data = raw;
  if (w->compress && h->raw_len) {
    /* A quick trial on a sample: incompressible data is stored as it is, so it
     * costs a copy and nothing more. Data that compresses very well may repeat
     * with a long period, which only long-distance matching finds (an array of
     * 4 KiB records); it is several times slower where the period is short,
     * so it is used only when it does better on the sample too. */
    int worth = 1, ldm = 0;
    if (h->raw_len >= 128 * 1024) {
      size_t sample = 16 * 1024;
      const char *at = raw + h->raw_len / 2;
      size_t got = g_zstd.compress2(cctx[0], s->zbuf, w->zcap, at, sample);
      worth = !g_zstd.is_error(got) && got < sample * 15 / 16;
      if (worth && got < sample / 8) {
        size_t far = g_zstd.compress2(cctx[1], s->zbuf, w->zcap, at, sample);
        ldm = !g_zstd.is_error(far) && far <= got * 3 / 4;
      }
    }
    if (worth) {
      size_t got = g_zstd.compress2(cctx[ldm], s->zbuf, w->zcap, raw, h->raw_len);
      if (!g_zstd.is_error(got) && got < (size_t)h->raw_len * 31 / 32) {
        h->codec = DMTCP_CODEC_ZSTD;
        h->stored_len = (uint32_t)got;
        s->data = s->zbuf;
      }
    }
  }
  h->checksum = 0;
  h->checksum = XXH64(s->data, h->stored_len, XXH64(h, sizeof *h, 0));
}

static void slot_wait(_Atomic int *a, int while_value) {
  while (atomic_load(a) == while_value)
    syscall(SYS_futex, (int *)a, FUTEX_WAIT_PRIVATE, while_value, NULL, NULL, 0);
}

static void slot_set(_Atomic int *a, int v) {
  atomic_store(a, v);
  syscall(SYS_futex, (int *)a, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Takes the next job if its slot is free: its index, or -1 when the ring is
 * full (then *seq is the written_seq the caller may wait on), or -2 when
 * every job is taken. */
static long claim(struct writer *w, int *seq) {
  for (;;) {
    size_t k = atomic_load(&w->next_claim);
    if (k >= w->njobs) return -2;
    *seq = atomic_load(&w->written_seq);
    if (k >= atomic_load(&w->written) + RING) return -1;
    if (atomic_compare_exchange_weak(&w->next_claim, &k, k + 1)) return (long)k;
  }
}

/* The worker: encodes whatever job is next. Runs in a raw clone sharing the
 * checkpoint thread's TLS, so it calls nothing that touches TLS or locks. */
static void worker_main(void *arg) {
  struct writer *w = arg;
  for (;;) {
    int seq;
    long k = claim(w, &seq);
    if (k == -2) return;
    if (k == -1) {
      syscall(SYS_futex, (int *)&w->written_seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
      continue;
    }
    encode(w, (size_t)k, &w->ring[k % RING], w->cctx[1]);
    slot_set(&w->ring[k % RING].full, 1);
  }
}

static int write_all(int fd, const struct iovec *iov, int n) {
  struct iovec v[2 * BATCH];
  memcpy(v, iov, (size_t)n * sizeof *v);
  int i = 0;
  while (i < n) {
    ssize_t got = writev(fd, v + i, n - i);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    while (i < n && (size_t)got >= v[i].iov_len) {
      got -= (ssize_t)v[i].iov_len;
      i++;
    }
    if (i < n) {
      v[i].iov_base = (char *)v[i].iov_base + got;
      v[i].iov_len -= (size_t)got;
    }
  }
  return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off) {
  const char *p = buf;
  while (len) {
    ssize_t got = pwrite(fd, p, len, off);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += got;
    len -= (size_t)got;
    off += got;
  }
  return 0;
}

/* Where the data stream goes: straight to the file, or, with O_DIRECT, through
 * an aligned buffer written in pieces of its size at aligned offsets. */
struct sink {
  int fd;
  int direct;
  char *buf;          /* cap bytes, page aligned; NULL when not direct */
  size_t cap;
  size_t fill;
  uint64_t buf_off;   /* file offset of buf[0] */
};

/* A filesystem that accepts O_DIRECT at open but not on write gets buffered
 * writes from then on; the bytes in the buffer are not lost. */
static int sink_flush(struct sink *k, size_t len) {
  if (pwrite_all(k->fd, k->buf, len, (off_t)k->buf_off) == 0) return 0;
  if (errno != EINVAL || !k->direct) return -1;
  int fl = fcntl(k->fd, F_GETFL);
  if (fl < 0 || fcntl(k->fd, F_SETFL, fl & ~O_DIRECT) != 0) return -1;
  k->direct = 0;
  return pwrite_all(k->fd, k->buf, len, (off_t)k->buf_off);
}

static int sink_put(struct sink *k, const struct iovec *iov, int n) {
  if (!k->buf) return write_all(k->fd, iov, n);
  for (int i = 0; i < n; i++) {
    const char *p = iov[i].iov_base;
    size_t len = iov[i].iov_len;
    while (len) {
      size_t take = k->cap - k->fill < len ? k->cap - k->fill : len;
      memcpy(k->buf + k->fill, p, take);
      k->fill += take;
      p += take;
      len -= take;
      if (k->fill == k->cap) {
        if (sink_flush(k, k->cap) != 0) return -1;
        k->buf_off += k->cap;
        k->fill = 0;
      }
    }
  }
  return 0;
}

/* Writes the rest, padded to a whole page, then cuts the file to its size
 * (also a reused file that was longer). */
static int sink_finish(struct sink *k, uint64_t file_size) {
  if (k->buf && k->fill) {
    size_t len = (k->fill + PAGE - 1) & ~(size_t)(PAGE - 1);
    memset(k->buf + k->fill, 0, len - k->fill);
    if (sink_flush(k, len) != 0) return -1;
  }
  return ftruncate(k->fd, (off_t)file_size);
}

/* The image file, written over in place when it exists: the runtime moved the
 * previous generation's image there (checkpoint_now), and overwriting a
 * file reuses its blocks and page cache, where a new file must be given both
 * (on a virtual machine a fresh page also costs a host fault: 1 GiB took
 * 0.6-1.0 s here against 0.17 s in place). Only a regular file of ours with
 * no other name is reused; anything else there is replaced. The header is
 * written last, so until the end the file still reads as the old generation,
 * which dmtcp_restart never takes for the new one. */
static int open_image(const char *path, int extra) {
  struct stat st;
  if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_uid != getuid() || st.st_nlink != 1)) unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | extra, 0600);
  if (fd >= 0 || errno == EINVAL) return fd;
  unlink(path);
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | extra, 0600);
}

/* The first private range overlapping [start, end), or NULL. The kernel may
 * merge our mappings with the program's neighbouring ones into one line of
 * /proc/self/maps, so private ranges are cut out of entries, not matched. */
static const void *first_private(uint64_t start, uint64_t end, uint64_t *ps, uint64_t *pe) {
  const void *found = NULL;
  for (int i = 0; i < g_nprivate; i++) {
    if (start < g_private[i].end && g_private[i].start < end &&
        (!found || g_private[i].start < *ps)) {
      *ps = g_private[i].start;
      *pe = g_private[i].end;
      found = &g_private[i];
    }
  }
  return found;
}

static void fmt_err(char *err, size_t errlen, const char *a, const char *b) {
  size_t n = rt_strlcpy(err, a, errlen);
  if (b && n < errlen) n += rt_strlcpy(err + n, b, errlen - n);
  if (n < errlen && errno) {
    n += rt_strlcpy(err + n, ": ", errlen - n);
    rt_strlcpy(err + n, strerror(errno), errlen - n);
  }
}

static int add_region(struct writer *w, const struct map_entry *e, uint64_t start, uint64_t end);

/* Fills the region table from /proc/self/maps. */
static int collect_regions(struct writer *w, char *maps, size_t mapscap) {
  long len = maps_read(maps, mapscap);
  if (len < 0) return -1;
  size_t pos = 0;
  struct map_entry e;
  while (maps_next(maps, (size_t)len, &pos, &e)) {
    if (strcmp(e.path, "[vsyscall]") == 0) continue;
    uint64_t ps = 0, pe = 0, start = e.start;
    while (start < e.end) {
      uint64_t end = e.end;
      if (first_private(start, e.end, &ps, &pe)) {
        if (ps <= start) {
          start = pe < e.end ? pe : e.end;
          continue;
        }
        end = ps;
      }
      if (add_region(w, &e, start, end) != 0) return -1;
      start = end;
    }
  }
  return 0;
}

/* Whether a private file mapping has a page of its own (written, so copied
 * from the file): pagemap says present or swapped, and not a file page. */
static int has_private_pages(const struct writer *w, uint64_t start, uint64_t end) {
  if (w->pagemap_fd < 0) return 1;
  uint64_t pm[512];
  for (uint64_t a = start; a < end;) {
    uint64_t n = (end - a) / PAGE;
    if (n > 512) n = 512;
    if (pread(w->pagemap_fd, pm, n * sizeof pm[0], (off_t)(a / PAGE * sizeof pm[0])) != (ssize_t)(n * sizeof pm[0])) return 1;
    for (uint64_t k = 0; k < n; k++)
      if ((pm[k] & (3ull << 62)) && !(pm[k] & (1ull << 61))) return 1;
    a += n * PAGE;
  }
  return 0;
}

/* QUICK-START's heuristic for file mappings: a file the user may only read is
 * taken as it is at restart (not stored), when that loses nothing: mapped
 * MAP_SHARED, or MAP_PRIVATE with no page of its own. A file the user may
 * write keeps the checkpointed contents (stored). The file's size and mtime
 * are recorded so that a restart never maps a file that changed. */
static int from_current_file(const struct writer *w, struct dmtcp_region *r, const struct map_entry *e) {
  if ((r->kind != DMTCP_REGION_FILE && r->kind != DMTCP_REGION_SHARED_FILE) || e->path[0] != '/') return 0;
  struct stat st;
  if (stat(e->path, &st) != 0) return 0; /* unlinked, or gone: store it */
  r->file_size = (uint64_t)st.st_size;
  r->file_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  if ((uint64_t)st.st_ino != e->ino) return 0;
  /* A shared mapping the program cannot write through holds exactly the file:
   * the file as it is, whoever may write it (never written back at restart). */
  int shared_read_only = r->kind == DMTCP_REGION_SHARED_FILE && !(e->prot & PROT_WRITE);
  int file_bytes = r->kind == DMTCP_REGION_FILE && !(e->prot & PROT_WRITE) && (e->prot & PROT_READ) &&
                   !has_private_pages(w, r->start, r->end);
  if (!shared_read_only && access(e->path, W_OK) == 0) {
    /* stored (the user may change the file), but a restart that finds it as it
     * was maps it instead of decoding it */
    if (file_bytes && r->end - r->start <= (64u << 20) &&
        r->file_offset + (r->end - r->start) <= (((uint64_t)st.st_size + PAGE - 1) & ~(uint64_t)(PAGE - 1))) {
      r->file_hash = XXH64((const void *)(uintptr_t)r->start, r->end - r->start, 0);
      r->flags |= DMTCP_RF_FILE_SAME | DMTCP_RF_FILE_HASHED;
    }
    return 0;
  }
  if (r->kind == DMTCP_REGION_FILE && !file_bytes) return 0;
  if (r->file_offset + (r->end - r->start) > (((uint64_t)st.st_size + PAGE - 1) & ~(uint64_t)(PAGE - 1)))
    return 0; /* mapped beyond the end of the file: keep what the memory holds */
  r->flags |= DMTCP_RF_FROM_FILE;
  /* The bytes it maps, so a file that was only touched (a cache regenerated
   * the same) is still taken at restart; larger ones are known by size and mtime. */
  if ((e->prot & PROT_READ) && r->end - r->start <= (64u << 20)) {
    r->file_hash = XXH64((const void *)(uintptr_t)r->start, r->end - r->start, 0);
    r->flags |= DMTCP_RF_FILE_HASHED;
  }
  return 1;
}

static int add_region(struct writer *w, const struct map_entry *ep, uint64_t start, uint64_t end) {
  const struct map_entry e = *ep;
  {
    if (w->nregions == MAX_REGIONS) return -1;
    struct dmtcp_region *r = &w->regions[w->nregions++];
    memset(r, 0, sizeof *r);
    r->start = start;
    r->end = end;
    r->prot = (uint32_t)e.prot;
    r->file_offset = e.offset + (start - e.start);
    r->object_dev = e.dev;
    r->object_ino = e.ino;
    rt_strlcpy(r->path, e.path, sizeof r->path);
    struct dmtcp_fd_record *owner = fds_record_of_mapping(start, end);
    if (owner) { /* a descriptor's file contents, mapped for the image only */
      r->kind = DMTCP_REGION_FD_DATA;
      r->flags |= DMTCP_RF_HAS_DATA;
      r->file_offset = 0;
      owner->data_region = w->nregions; /* 1 + its index */
      return 0;
    }
    if (strcmp(e.path, "[vdso]") == 0) r->kind = DMTCP_REGION_VDSO;
    else if (strncmp(e.path, "[vvar", 5) == 0) r->kind = DMTCP_REGION_VVAR;
    else if (strcmp(e.path, "[heap]") == 0) r->kind = DMTCP_REGION_HEAP;
    else if (strcmp(e.path, "[stack]") == 0) r->kind = DMTCP_REGION_STACK;
    else if (e.shared) r->kind = e.path[0] == '/' ? DMTCP_REGION_SHARED_FILE : DMTCP_REGION_SHARED_ANON;
    else r->kind = e.path[0] == '/' ? DMTCP_REGION_FILE : DMTCP_REGION_ANON;
    if (r->kind == DMTCP_REGION_STACK) r->flags |= DMTCP_RF_GROWSDOWN;
    if (sysv_content_only(start)) r->flags |= DMTCP_RF_CONTENT_ONLY;
    if (from_current_file(w, r, &e)) return 0;
    /* Unreadable regions (guard pages, reservations) are recreated empty. */
    if (r->kind != DMTCP_REGION_VDSO && r->kind != DMTCP_REGION_VVAR && (e.prot & PROT_READ))
      r->flags |= DMTCP_RF_HAS_DATA;
  }
  return 0;
}

static void fill_header(struct dmtcp_image_header *h, const struct writer *w) {
  memset(h, 0, sizeof *h);
  memcpy(h->magic, DMTCP_IMAGE_MAGIC, 8);
  h->version = DMTCP_IMAGE_VERSION;
  h->header_size = DMTCP_IMAGE_HEADER_SIZE;
#if defined(__x86_64__)
  h->arch = DMTCP_ARCH_X86_64;
#elif defined(__aarch64__)
  h->arch = DMTCP_ARCH_AARCH64;
#endif
  h->page_size = PAGE;
  h->flags = (w->compress ? DMTCP_HF_COMPRESSED : 0) | (g_settings.standalone ? DMTCP_HF_STANDALONE : 0);
  h->codec = w->compress ? DMTCP_CODEC_ZSTD : DMTCP_CODEC_NONE;
  h->uid = (uint32_t)getuid();
  h->gid = (uint32_t)getgid();
  h->num_regions = w->nregions;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  h->ckpt_time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  h->monotonic_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  h->generation = g_generation;
  h->num_members = g_num_members;
  h->vpid = (uint32_t)getpid();
  h->real_pid = (uint32_t)getpid();
  h->vppid = (uint32_t)getppid();
  h->vpgid = (uint32_t)getpgid(0);
  h->vsid = (uint32_t)getsid(0);
  h->ckpt_signal = (uint32_t)g_settings.ckpt_signal;
  h->saved_brk = (uint64_t)syscall(SYS_brk, 0);
  for (uint32_t i = 0; i < w->nregions; i++)
    if (w->regions[i].kind == DMTCP_REGION_HEAP) h->start_brk = w->regions[i].start;
  rt_strlcpy(h->program, g_program, sizeof h->program);
  ssize_t n = readlink("/proc/self/exe", h->exe_path, sizeof h->exe_path - 1);
  if (n > 0) h->exe_path[n] = '\0';
  rt_strlcpy(h->upid, g_upid, sizeof h->upid);
  rt_strlcpy(h->comp_id, g_comp_id, sizeof h->comp_id);
  gethostname(h->hostname, sizeof h->hostname - 1);
  /* argv from /proc/self/cmdline, NULs turned into spaces */
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t got = read(fd, h->argv, sizeof h->argv - 1);
    close(fd);
    for (ssize_t i = 0; i < got; i++)
      if (h->argv[i] == '\0') h->argv[i] = (i == got - 1) ? '\0' : ' ';
  }
}

static void kept_free(void) {
  for (int i = 0; i < RING; i++) {
    private_unmap(g_kept.gather[i], CHUNK_BYTES);
    private_unmap(g_kept.zbuf[i], g_kept.zcap);
  }
  private_unmap(g_kept.sink, g_kept.sink_cap);
  memset(&g_kept, 0, sizeof g_kept);
}

static int kept_alloc(void) {
  if (g_kept.have) return 0;
  g_kept.zcap = ZSTD_COMPRESSBOUND(CHUNK_BYTES);
  for (int i = 0; i < RING; i++) {
    g_kept.gather[i] = private_map(CHUNK_BYTES);
    g_kept.zbuf[i] = private_map(g_kept.zcap);
    if (!g_kept.gather[i] || !g_kept.zbuf[i]) goto fail;
  }
  g_kept.have = 1;
  return 0;
fail:
  kept_free();
  return -1;
}

/* The O_DIRECT buffer, at least cap bytes. */
static char *kept_sink(size_t cap) {
  if (g_kept.sink_cap < cap) {
    private_unmap(g_kept.sink, g_kept.sink_cap);
    g_kept.sink = private_map(cap);
    g_kept.sink_cap = g_kept.sink ? cap : 0;
  }
  return g_kept.sink;
}

/* Their contents mean nothing until the next checkpoint. */
static void kept_release(void) {
  for (int i = 0; i < RING; i++) {
    if (g_kept.gather[i]) madvise(g_kept.gather[i], CHUNK_BYTES, MADV_FREE);
    if (g_kept.zbuf[i]) madvise(g_kept.zbuf[i], g_kept.zcap, MADV_FREE);
  }
  if (g_kept.sink) madvise(g_kept.sink, g_kept.sink_cap, MADV_FREE);
}

int image_write(const char *path, const struct ctx *ckpt_ctx, char *err, size_t errlen) {
  errno = 0;
  struct writer w;
  memset(&w, 0, sizeof w);
  struct sink sink = {.fd = -1};
  int rc = -1, fd = -1;
  size_t maps_cap = 4u << 20, regions_cap = MAX_REGIONS * sizeof(struct dmtcp_region);
  size_t state_cap = 1u << 20, jobs_cap = 0, fds_len = 0, ipc_cap = 0, ipc_len = 0;
  size_t zombies_cap = DMTCP_MAX_ZOMBIES * sizeof(struct dmtcp_zombie);
  struct dmtcp_fd_record *fds = NULL;
  char *ipc = NULL;
  struct dmtcp_zombie *zombies = private_map(zombies_cap);
  char *maps = private_map(maps_cap);
  w.regions = private_map(regions_cap);
  char *state = private_map(state_cap);
  size_t worker_stack_len = 256 * 1024;
  char *worker_stack = NULL;
  w.compress = g_settings.gzip && g_zstd.compress2; /* not loaded: stored as it is (zstd_lazy.c) */
  w.pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  worker_stack = private_map(worker_stack_len);
  if (!maps || !w.regions || !state || !worker_stack || !zombies || kept_alloc() != 0) goto out_nomem;
  w.zcap = g_kept.zcap;
  for (int i = 0; i < RING; i++) {
    w.ring[i].gather = g_kept.gather[i];
    w.ring[i].zbuf = g_kept.zbuf[i];
  }
  ZSTD_customMem mem = {zalloc, zfree, NULL};
  for (int i = 0; i < 2 && w.compress; i++) {
    for (int ldm = 0; ldm < 2; ldm++) {
      ZSTD_CCtx *c = w.cctx[i][ldm] = g_zstd.create_cctx_advanced(mem);
      if (!c) goto out_nomem;
      /* Level 1 for speed. Its match finder takes the nearest candidate, so
       * data that repeats with a long period (an array of records) compresses
       * worse than gzip; long-distance matching over the chunk finds those. */
      g_zstd.set_parameter(c, ZSTD_c_compressionLevel, 1);
      g_zstd.set_parameter(c, ZSTD_c_windowLog, 20);
      g_zstd.set_parameter(c, ZSTD_c_enableLongDistanceMatching, ldm ? ZSTD_ps_enable : ZSTD_ps_disable);
    }
  }

  size_t state_len = procstate_save(state, state_cap);
  /* before the regions: it attaches the segments the process knows but has
   * not attached, so that their contents are regions too (sysv.c) */
  sysv_checkpoint_begin(maps, maps_cap);
  uint32_t nzombies = (uint32_t)zombies_collect(zombies, DMTCP_MAX_ZOMBIES);
  if (collect_regions(&w, maps, maps_cap) != 0) {
    fmt_err(err, errlen, "cannot read /proc/self/maps", NULL);
    goto out;
  }
  ipc_cap = (sysv_table_len() + PAGE - 1) & ~(size_t)(PAGE - 1);
  if (ipc_cap && !(ipc = private_map(ipc_cap))) goto out_nomem;
  uint32_t nipc = ipc ? sysv_table_write(ipc, ipc_cap, &ipc_len) : 0;

  /* Jobs: every chunk of every region with data. */
  size_t njobs = 0;
  uint64_t data_bytes = 0; /* at most: zero pages are holes */
  for (uint32_t i = 0; i < w.nregions; i++) {
    if (!(w.regions[i].flags & DMTCP_RF_HAS_DATA)) continue;
    njobs += (w.regions[i].end - w.regions[i].start + CHUNK_BYTES - 1) / CHUNK_BYTES;
    data_bytes += w.regions[i].end - w.regions[i].start;
  }
  jobs_cap = (njobs * sizeof(struct chunk_job) + PAGE) & ~(size_t)(PAGE - 1);
  w.jobs = private_map(jobs_cap);
  if (!w.jobs) goto out_nomem;
  for (uint32_t i = 0; i < w.nregions; i++) {
    struct dmtcp_region *r = &w.regions[i];
    if (!(r->flags & DMTCP_RF_HAS_DATA)) continue;
    for (uint64_t a = r->start; a < r->end; a += CHUNK_BYTES) {
      uint64_t n = (r->end - a) / PAGE;
      struct chunk_job *j = &w.jobs[w.njobs++];
      j->region = i;
      j->addr = a;
      j->npages = (uint32_t)(n < DMTCP_CHUNK_PAGES ? n : DMTCP_CHUNK_PAGES);
      j->anon = r->kind == DMTCP_REGION_ANON || r->kind == DMTCP_REGION_HEAP || r->kind == DMTCP_REGION_STACK;
      r->num_chunks++;
    }
  }

  /* Layout: header, region table, thread table, descriptor tables, strings, state blob, zombie
   * table, data. The thread table names the checkpoint thread too (last): dmtcp_restart keeps
   * every tid of it free until its thread is back. */
  uint32_t nthreads = 1;
  for (int i = 0; i < g_nthreads; i++)
    if (atomic_load(&g_threads[i].state) == T_SUSPENDED) nthreads++;
  const struct fd_table *ft = fds_table();
  uint32_t nfds = ft->n, nextras = ft->nextras;
  fds_len = (nfds * sizeof(struct dmtcp_fd_record) + PAGE) & ~(size_t)(PAGE - 1);
  fds = private_map(fds_len);
  if (!fds) goto out_nomem;
  for (uint32_t i = 0; i < nfds; i++) { /* in descriptor order (in-flight ones came last) */
    uint32_t k = i;
    for (; k > 0 && fds[k - 1].fd > ft->entries[i].rec.fd; k--) fds[k] = fds[k - 1];
    fds[k] = ft->entries[i].rec;
  }
  uint64_t region_off = DMTCP_IMAGE_HEADER_SIZE;
  uint64_t thread_off = region_off + (uint64_t)w.nregions * sizeof(struct dmtcp_region);
  uint64_t fd_off = thread_off + (uint64_t)nthreads * sizeof(struct dmtcp_thread);
  uint64_t extra_off = fd_off + (uint64_t)nfds * sizeof(struct dmtcp_fd_record);
  uint64_t strings_off = extra_off + (uint64_t)nextras * sizeof(struct dmtcp_fd_extra);
  uint64_t state_off = strings_off + ft->strings_len;
  uint64_t ipc_off = (state_off + state_len + 7) & ~(uint64_t)7;
  uint64_t zombie_off = (ipc_off + ipc_len + 7) & ~(uint64_t)7;
  uint64_t zombies_len = (uint64_t)nzombies * sizeof(struct dmtcp_zombie);
  uint64_t data_off = (zombie_off + zombies_len + PAGE - 1) & ~(uint64_t)(PAGE - 1);

  sink.buf_off = data_off;
  if (g_settings.direct) {
    sink.cap = SINK_MIN;
    while (sink.cap < SINK_MAX && (uint64_t)sink.cap * 32 < data_bytes) sink.cap *= 2;
    sink.buf = kept_sink(sink.cap);
    if (!sink.buf) goto out_nomem;
    sink.cap = g_kept.sink_cap;
    fd = open_image(path, O_DIRECT);
    if (fd < 0 && errno == EINVAL) sink.buf = NULL; /* a filesystem without O_DIRECT */
  }
  if (!sink.buf) fd = open_image(path, 0);
  if (fd < 0) {
    fmt_err(err, errlen, "cannot create ", path);
    goto out;
  }
  sink.fd = fd;
  sink.direct = sink.buf != NULL;
  if (lseek(fd, (off_t)data_off, SEEK_SET) < 0) goto out_io;

  /* Encode on both cores, write in order. */
  long worker = -1;
  _Atomic int worker_ctid = 0;
  if (w.njobs > 1) {
    atomic_store(&worker_ctid, 1);
    worker = clone_call(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                            CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
                        worker_stack + worker_stack_len, worker_main, &w, (int *)&worker_ctid);
    if (worker < 0) atomic_store(&worker_ctid, 0);
  }
  uint64_t off = data_off;
  uint32_t cur_region = UINT32_MAX;
  XXH64_state_t region_sum;
  int io_failed = 0;
  struct iovec iov[2 * BATCH];
  size_t batch_first = 0, nbatch = 0;
  for (size_t j = 0; j < w.njobs; j++) {
    struct ring_slot *s = &w.ring[j % RING];
    while (!atomic_load(&s->full)) {
      int seq;
      long k = claim(&w, &seq);
      if (k >= 0) { /* job j is not ready: encode one instead of waiting */
        encode(&w, (size_t)k, &w.ring[k % RING], w.cctx[0]);
        atomic_store(&w.ring[k % RING].full, 1);
      } else {
        slot_wait(&s->full, 0); /* nothing left to take: the worker is encoding job j */
      }
    }
    struct dmtcp_region *r = &w.regions[w.jobs[j].region];
    if (w.jobs[j].region != cur_region) {
      if (cur_region != UINT32_MAX) w.regions[cur_region].checksum = XXH64_digest(&region_sum);
      cur_region = w.jobs[j].region;
      XXH64_reset(&region_sum, 0);
      r->data_offset = off;
    }
    XXH64_update(&region_sum, &s->hdr.checksum, sizeof s->hdr.checksum);
    iov[2 * nbatch] = (struct iovec){&s->hdr, sizeof s->hdr};
    iov[2 * nbatch + 1] = (struct iovec){(void *)s->data, s->hdr.stored_len};
    nbatch++;
    off += sizeof s->hdr + s->hdr.stored_len;
    r->data_len += sizeof s->hdr + s->hdr.stored_len;
    if (nbatch == BATCH || j + 1 == w.njobs) {
      if (!io_failed && sink_put(&sink, iov, (int)(2 * nbatch)) != 0) io_failed = errno ? errno : EIO;
      /* the batch is written: its slots are free */
      for (size_t k = batch_first; k <= j; k++) atomic_store(&w.ring[k % RING].full, 0);
      atomic_store(&w.written, j + 1);
      atomic_fetch_add(&w.written_seq, 1);
      syscall(SYS_futex, (int *)&w.written_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
      batch_first = j + 1;
      nbatch = 0;
    }
  }
  if (cur_region != UINT32_MAX) w.regions[cur_region].checksum = XXH64_digest(&region_sum);
  while (atomic_load(&worker_ctid) != 0)
    syscall(SYS_futex, (int *)&worker_ctid, FUTEX_WAIT, 1, NULL, NULL, 0);
  if (!io_failed && sink_finish(&sink, off) != 0) io_failed = errno ? errno : EIO;
  if (io_failed) {
    errno = io_failed;
    goto out_io;
  }

  /* Tables, then the header last. */
  struct dmtcp_thread *threads = (struct dmtcp_thread *)maps; /* maps buffer is free now */
  uint32_t t = 0;
  for (int i = 0; i < g_nthreads; i++) {
    struct thread_slot *s = &g_threads[i];
    if (atomic_load(&s->state) != T_SUSPENDED) continue;
    memset(&threads[t], 0, sizeof threads[t]);
    threads[t].tid = threads[t].vtid = (uint32_t)s->tid;
    threads[t].is_main = (uint32_t)s->is_main;
    threads[t].fs_base = s->fs_base;
    threads[t].context = (uint64_t)(uintptr_t)&s->ctx;
    t++;
  }
  memset(&threads[t], 0, sizeof threads[t]);
  threads[t].tid = threads[t].vtid = (uint32_t)g_ckpt_tid; /* this thread */
  threads[t].is_ckpt_thread = 1;
  threads[t].fs_base = g_ckpt_fs_base;
  threads[t].context = (uint64_t)(uintptr_t)ckpt_ctx;
  struct dmtcp_image_header *h = (struct dmtcp_image_header *)w.ring[0].gather;
  fill_header(h, &w);
  h->num_threads = nthreads;
  h->region_table_offset = region_off;
  h->thread_table_offset = thread_off;
  h->fd_table_offset = fd_off;
  h->num_fds = nfds;
  h->fd_extra_offset = extra_off;
  h->num_fd_extras = nextras;
  h->strings_offset = strings_off;
  h->strings_len = ft->strings_len;
  h->state_offset = state_off;
  h->state_len = state_len;
  h->num_ipc = nipc;
  h->ipc_table_offset = nipc ? ipc_off : 0;
  h->ipc_table_len = nipc ? ipc_len : 0;
  h->zombie_table_offset = zombie_off;
  h->num_zombies = nzombies;
  h->data_offset = data_off;
  h->file_size = off;
  extern void dmtcp_restore_entry(struct dmtcp_restore_info *);
  h->restore_entry = (uint64_t)(uintptr_t)dmtcp_restore_entry;
  for (int i = 0; i < g_nthreads; i++)
    if (g_threads[i].is_main && atomic_load(&g_threads[i].state) == T_SUSPENDED)
      h->restore_fs_base = g_threads[i].fs_base;
  XXH64_state_t tables;
  XXH64_reset(&tables, 0);
  XXH64_update(&tables, w.regions, (size_t)w.nregions * sizeof(struct dmtcp_region));
  XXH64_update(&tables, threads, (size_t)nthreads * sizeof(struct dmtcp_thread));
  XXH64_update(&tables, fds, (size_t)nfds * sizeof(struct dmtcp_fd_record));
  XXH64_update(&tables, ft->extras, (size_t)nextras * sizeof(struct dmtcp_fd_extra));
  XXH64_update(&tables, ft->strings, ft->strings_len);
  XXH64_update(&tables, state, state_len);
  if (nipc) XXH64_update(&tables, ipc, ipc_len);
  XXH64_update(&tables, zombies, zombies_len);
  h->tables_checksum = XXH64_digest(&tables);
  h->header_checksum = 0;
  h->header_checksum = XXH64(h, sizeof *h, 0);
  /* Header and tables in one page-aligned block before the data (aligned as O_DIRECT wants). */
  char *prefix = private_map(data_off);
  if (!prefix) goto out_nomem;
  memcpy(prefix, h, sizeof *h);
  memcpy(prefix + region_off, w.regions, (size_t)w.nregions * sizeof(struct dmtcp_region));
  memcpy(prefix + thread_off, threads, (size_t)nthreads * sizeof(struct dmtcp_thread));
  memcpy(prefix + fd_off, fds, (size_t)nfds * sizeof(struct dmtcp_fd_record));
  memcpy(prefix + extra_off, ft->extras, (size_t)nextras * sizeof(struct dmtcp_fd_extra));
  memcpy(prefix + strings_off, ft->strings, ft->strings_len);
  memcpy(prefix + state_off, state, state_len);
  if (nipc) memcpy(prefix + ipc_off, ipc, ipc_len);
  memcpy(prefix + zombie_off, zombies, zombies_len);
  struct sink head = {.fd = fd, .direct = sink.direct, .buf = prefix, .buf_off = 0};
  int head_failed = sink_flush(&head, data_off);
  private_unmap(prefix, data_off);
  if (head_failed) goto out_io;
  /* FSYNC_BEFORE: durable before the rename (FSYNC_AFTER syncs once the program runs again). */
  if (g_settings.fsync == FSYNC_BEFORE && fsync(fd) != 0) goto out_io;
  rc = 0;
  goto out;

out_io:
  fmt_err(err, errlen, "cannot write ", path);
  goto out;
out_nomem:
  fmt_err(err, errlen, "out of memory writing ", path);
out:
  sysv_checkpoint_end();
  private_unmap(ipc, ipc_cap);
  if (fd >= 0) close(fd);
  if (w.pagemap_fd >= 0) close(w.pagemap_fd);
  if (rc != 0) unlink(path);
  kept_release();
  for (int i = 0; i < 2; i++)
    for (int ldm = 0; ldm < 2; ldm++)
      if (w.cctx[i][ldm]) g_zstd.free_cctx(w.cctx[i][ldm]);
  private_unmap(w.jobs, jobs_cap);
  private_unmap(worker_stack, worker_stack_len);
  private_unmap(state, state_cap);
  private_unmap(zombies, zombies_cap);
  private_unmap(fds, fds_len);
  private_unmap(w.regions, regions_cap);
  private_unmap(maps, maps_cap);
  return rc;
}
