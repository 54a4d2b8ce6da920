/* dmtcp_restart [OPTIONS] image... | directory
 *
 * Restores each image in a process of its own (the first in this process).
 * Everything that can fail is done before the point of no return: the image
 * is validated, every region is decompressed into staging memory at addresses
 * free both here and in the image, and every checksum is checked. Only then
 * does the restorer (restorer.c) unmap this program and move the staged
 * regions into place. Our own failures exit 99 (or $DMTCP_FAIL_RC). */
#define XXH_INLINE_ALL
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/rseq.h>
#include <xxhash.h>

#include "common/coord_select.h"
#include "restart/fds/fdrestore.h"
#include "restart/image_read.h"
#include "restart/restorer.h"
#include "restart/sysv_restore.h"
#include "restart/tree.h"
#include "restart/zombies.h"

#define VERSION "0.1.0"
#define PAGE 4096ull
#define STAGING_BASE 0x600000000000ull

static int g_fail_rc = 99;
static int g_quiet;

static _Noreturn void die(const char *file, const char *reason) {
  if (file) fprintf(stderr, "dmtcp_restart: %s: %s\n", file, reason);
  else fprintf(stderr, "dmtcp_restart: %s\n", reason);
  exit(g_fail_rc);
}

static void usage(FILE *out) {
  fputs(
      "Usage: dmtcp_restart [OPTIONS] <ckpt1.dmtcp> [ckpt2.dmtcp...] | <directory>\n\n"
      "Restart processes from a checkpoint image.\n\n"
      DMTCP_COORD_HELP
      DMTCP_INTERVAL_HELP
      "Other options:\n"
      "  --no-strict-checking (environment variable DMTCP_DISABLE_STRICT_CHECKING)\n"
      "              Allow an image to be restarted by a user other than its owner\n"
      "  --ckptdir (environment variable DMTCP_CHECKPOINT_DIR)\n"
      "              Directory to store checkpoint images (default: the image's)\n"
      "  --tmpdir PATH (environment variable DMTCP_TMPDIR)\n"
      "              Directory to store temp files (default: $TMDPIR or /tmp)\n"
      "  -q, --quiet (or set environment variable DMTCP_QUIET = 0, 1, or 2)\n"
      "              Skip NOTE messages; if given twice, also skip WARNINGs\n"
      "  --debug-restart-pause (or set env. var. DMTCP_RESTART_PAUSE =1)\n"
      "              Print the pid and wait for SIGCONT before the memory is replaced\n"
      "  (environment variable DMTCP_RESTART_NO_PIDNS=1)\n"
      "              Restart without a pid namespace: new pids, each process on its own\n"
      "  --help      Print this message and exit.\n"
      "  --version   Print version information and exit.\n",
      out);
}

/* ---- address space ------------------------------------------------------ */

struct span { uint64_t start, end; char name[64]; };

static int read_maps(struct span **out) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  int n = 0, cap = 256;
  struct span *s = malloc((size_t)cap * sizeof *s);
  char line[4096];
  while (s && fgets(line, sizeof line, f)) {
    if (n == cap) {
      cap *= 2;
      struct span *ns = realloc(s, (size_t)cap * sizeof *s);
      if (!ns) break;
      s = ns;
    }
    unsigned long a, b;
    char name[4096] = "";
    if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &a, &b, name) < 2) continue;
    s[n].start = a;
    s[n].end = b;
    snprintf(s[n].name, sizeof s[n].name, "%s", name);
    n++;
  }
  fclose(f);
  *out = s;
  return n;
}

static int overlaps_image(const struct image *img, uint64_t a, uint64_t len) {
  for (uint32_t i = 0; i < img->h->num_regions; i++)
    if (a < img->regions[i].end && img->regions[i].start < a + len) return 1;
  return sysv_span_overlaps(img, a, len);
}

#define HUGE (2ull << 20)

/* Maps len bytes at an address free here and in the image, congruent to
 * want_align modulo 2 MiB: staging then shares the target's huge-page
 * alignment, so it can be backed by transparent huge pages (a 4 KiB fault is
 * costly, on virtual machines above all) and mremap moves whole 2 MiB entries
 * to the target instead of splitting them. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static void *map_safe(const struct image *img, uint64_t *cursor, uint64_t len, uint64_t want_align) {
  for (int tries = 0; tries < 100000; tries++) {
    uint64_t a = ((*cursor + HUGE - 1) & ~(HUGE - 1)) + (want_align & (HUGE - 1));
    *cursor = a + ((len + HUGE) & ~(HUGE - 1)) + HUGE;
    if (a + len > 0x7f0000000000ull) break;
    if (overlaps_image(img, a, len)) continue;
    void *p = mmap((void *)a, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
    if (p == (void *)a) {
      if (len >= HUGE) madvise(p, len, MADV_HUGEPAGE);
      return p;
    }
    if (p != MAP_FAILED) munmap(p, len);
  }
  return NULL;
}

/* ---- staging ------------------------------------------------------------ */

struct stager {
  const struct image *img;
  struct chunk_ref *chunks;
  long nchunks;
  uint64_t *staging;           /* per region: staging address, or 0 */
  pthread_mutex_t lock;
  long next;
  char err[512];
};

static void *stage_worker(void *arg) {
  struct stager *s = arg;
  void *scratch = mmap(NULL, DMTCP_CHUNK_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (scratch == MAP_FAILED) return (void *)1;
  for (;;) {
    pthread_mutex_lock(&s->lock);
    long i = s->err[0] ? s->nchunks : s->next++;
    pthread_mutex_unlock(&s->lock);
    if (i >= s->nchunks) break;
    const struct chunk_ref *c = &s->chunks[i];
    const struct dmtcp_region *r = &s->img->regions[c->region];
    if (!s->staging[c->region]) continue; /* a shared object, filled by tree.c */
    char *dest = (char *)(uintptr_t)(s->staging[c->region] + (c->addr - r->start));
    char err[256];
    if (chunk_decode(c, dest, scratch, err, sizeof err) != 0) {
      pthread_mutex_lock(&s->lock);
      if (!s->err[0]) snprintf(s->err, sizeof s->err, "%s", err);
      pthread_mutex_unlock(&s->lock);
      break;
    }
  }
  munmap(scratch, DMTCP_CHUNK_PAGES * PAGE);
  return NULL;
}

/* ---- restore ------------------------------------------------------------ */

static uint64_t kernel_start_brk(void) {
  FILE *f = fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  /* field 47 is start_brk; p points at the end of field 2 */
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
    if (++field == 47) return strtoull(tok, NULL, 10);
  }
  return 0;
}

static int special_index(const char *name) {
  if (!strcmp(name, "[vvar]")) return 0;
  if (!strcmp(name, "[vvar_vclock]")) return 1;
  if (!strcmp(name, "[vdso]")) return 2;
  return -1;
}

static int by_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* Closes every descriptor not in keep (close_range over the gaps). */
static void close_all_but(int *keep, int n) {
  qsort(keep, (size_t)n, sizeof *keep, by_int);
  unsigned int from = 0;
  for (int k = 0; k < n; k++) {
    if (keep[k] < 0) continue;
    if ((unsigned)keep[k] > from) syscall(SYS_close_range, from, (unsigned)keep[k] - 1, 0);
    if ((unsigned)keep[k] + 1 > from) from = (unsigned)keep[k] + 1;
  }
  syscall(SYS_close_range, from, ~0u, 0);
}

/* A file mapping taken from the file as it is now (QUICK-START's heuristic:
 * the most recent file). One whose size or mtime changed since the checkpoint
 * is still taken when it maps the same bytes; code that changed is refused
 * (the program would run other instructions); data that changed is taken as
 * it is now, with a note. */
static int open_mapped_file(const struct dmtcp_region *r, int quiet, const char *image, char *why, size_t whylen) {
  int fd = open(r->path, (r->kind == DMTCP_REGION_SHARED_FILE && (r->prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    snprintf(why, whylen, "the mapped file %s is gone (%s)", r->path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == r->file_size &&
      (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == r->file_mtime_ns)
    return fd;
  int same = 0;
  if (r->flags & DMTCP_RF_FILE_HASHED) {
    void *m = mmap(NULL, r->end - r->start, PROT_READ, MAP_PRIVATE, fd, (off_t)r->file_offset);
    if (m != MAP_FAILED) {
      /* (pages past the end of a shorter file would fault: only within its size) */
      uint64_t past = (uint64_t)st.st_size > r->file_offset ? (uint64_t)st.st_size - r->file_offset : 0;
      same = past >= r->end - r->start - 4095 && XXH64(m, r->end - r->start, 0) == r->file_hash;
      munmap(m, r->end - r->start);
    }
  }
  if (same) return fd;
  if (r->prot & PROT_EXEC) {
    close(fd);
    snprintf(why, whylen, "the mapped code file %s changed since the checkpoint; restore it as it was", r->path);
    return -1;
  }
  if (!quiet && image)
    fprintf(stderr, "dmtcp_restart: note: %s: %s changed since the checkpoint; the program sees it as it is now\n",
            image, r->path);
  return fd;
}

/* A stored file mapping whose file is as it was (size and mtime): its
 * descriptor, to map it instead of decoding the stored copy; or -1 (changed,
 * perhaps only touched: the stored copy is then the program's). */
static int open_same_file(const struct dmtcp_region *r) {
  int fd = open(r->path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return -1;
  if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == r->file_size &&
      (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == r->file_mtime_ns)
    return fd;
  close(fd);
  return -1;
}

/* Every file an image maps as it is now, checked before anything happens. */
static void check_mapped_files(const struct image *img) {
  for (uint32_t i = 0; i < img->h->num_regions; i++) {
    const struct dmtcp_region *r = &img->regions[i];
    if (!(r->flags & DMTCP_RF_FROM_FILE)) continue;
    char why[512];
    int fd = open_mapped_file(r, g_quiet, img->path, why, sizeof why);
    if (fd < 0) die(img->path, why);
    close(fd);
  }
}

/* Never returns: the process becomes the image. */
static _Noreturn void restore(const struct image *img, const struct dmtcp_restore_info *proto_info,
                              int pause_level) {
  const struct dmtcp_image_header *h = img->h;
  const char *file = img->path;
  struct span *live;
  int nlive = read_maps(&live);
  if (nlive <= 0) die(file, "cannot read /proc/self/maps");

  /* The live vdso/vvar must match the image's in size, or the restored
   * program's calls into the vdso would land in the wrong place. */
  uint64_t special_live[3][2] = {{0}}, special_img[3][2] = {{0}};
  for (int i = 0; i < nlive; i++) {
    int k = special_index(live[i].name);
    if (k >= 0) { special_live[k][0] = live[i].start; special_live[k][1] = live[i].end - live[i].start; }
  }
  for (uint32_t i = 0; i < h->num_regions; i++) {
    int k = special_index(img->regions[i].path);
    if (k >= 0) { special_img[k][0] = img->regions[i].start; special_img[k][1] = img->regions[i].end - img->regions[i].start; }
  }
  for (int k = 0; k < 3; k++) {
    if (special_live[k][1] != special_img[k][1]) {
      static const char *names[] = {"[vvar]", "[vvar_vclock]", "[vdso]"};
      char msg[256];
      snprintf(msg, sizeof msg, "the kernel's %s differs from the image's (%llu vs %llu bytes): restart on a host with the same kernel",
               names[k], (unsigned long long)special_live[k][1], (unsigned long long)special_img[k][1]);
      die(file, msg);
    }
  }

  /* Staging: decompress and verify everything before anything is replaced. */
  uint64_t cursor = STAGING_BASE;
  int *same_file = malloc((h->num_regions + 1) * sizeof *same_file);
  if (!same_file) die(file, "out of memory");
  for (uint32_t i = 0; i < h->num_regions; i++) same_file[i] = -1;
  struct stager st;
  memset(&st, 0, sizeof st);
  st.img = img;
  st.staging = calloc(h->num_regions, sizeof *st.staging);
  char err[512];
  st.nchunks = image_chunks(img, &st.chunks, err, sizeof err);
  if (st.nchunks < 0 || !st.staging) die(file, st.staging ? err : "out of memory");
  for (uint32_t i = 0; i < h->num_regions; i++) {
    const struct dmtcp_region *r = &img->regions[i];
    if (!(r->flags & DMTCP_RF_HAS_DATA) || tree_shared_fd(r) >= 0 || r->kind == DMTCP_REGION_FD_DATA)
      continue; /* shared: tree.c has it; a file's contents: restart/fds/ wrote them */
    if ((r->flags & DMTCP_RF_FILE_SAME) && (same_file[i] = open_same_file(r)) >= 0)
      continue; /* the file is as it was: mapped, not decoded */
    if ((r->flags & DMTCP_RF_CONTENT_ONLY) || sysv_by_shmat(r)) continue; /* in a segment: sysv_restore.c */
    void *p = map_safe(img, &cursor, r->end - r->start, r->start);
    if (!p) die(file, "no free address range to stage the image");
    /* A region mostly stored is faulted in at once: one call instead of a
     * fault per page, which costs most of a restart on a virtual machine. */
    uint64_t stored = 0;
    for (long c = 0; c < st.nchunks; c++)
      if (st.chunks[c].region == i) stored += st.chunks[c].hdr->raw_len;
    if (stored * 2 >= r->end - r->start) madvise(p, r->end - r->start, MADV_POPULATE_WRITE);
    st.staging[i] = (uint64_t)(uintptr_t)p;
  }
  /* The stored copies of what is mapped from its file are not decoded, but a
   * corrupted image is refused all the same. */
  for (long c = 0; c < st.nchunks; c++)
    if (same_file[st.chunks[c].region] >= 0 && chunk_check_stored(&st.chunks[c], err, sizeof err) != 0) die(file, err);
  pthread_mutex_init(&st.lock, NULL);
  pthread_t th;
  int have_thread = pthread_create(&th, NULL, stage_worker, &st) == 0;
  stage_worker(&st);
  if (have_thread) pthread_join(th, NULL);
  if (st.err[0]) die(file, st.err);

  /* The restorer area: code, stack, plan and hand-off info. */
  size_t code_len = (size_t)(__stop_dmtcp_restorer - __start_dmtcp_restorer);
  size_t plan_len = sizeof(struct rs_plan) + h->num_regions * sizeof(struct rs_move);
  size_t stack_len = 256 * 1024;
  size_t code_pages = (code_len + PAGE - 1) & ~(PAGE - 1);
  size_t area_len = code_pages + stack_len + ((plan_len + sizeof(struct dmtcp_restore_info) + PAGE) & ~(PAGE - 1));
  char *area = map_safe(img, &cursor, area_len, 0);
  if (!area) die(file, "no free address range for the restorer");
  memcpy(area, __start_dmtcp_restorer, code_len);
  if (mprotect(area, code_pages, PROT_READ | PROT_EXEC) != 0) die(file, "cannot make the restorer executable");
  char *stack_top = area + code_pages + stack_len;
  struct rs_plan *plan = (struct rs_plan *)stack_top;
  struct dmtcp_restore_info *info = (struct dmtcp_restore_info *)((char *)plan + plan_len);
  memcpy(info, proto_info, sizeof *info);
  info->restorer_area = (uint64_t)(uintptr_t)area;
  info->restorer_area_len = area_len;

  plan->entry = h->restore_entry;
  plan->fs_base = h->restore_fs_base;
  plan->info = (uint64_t)(uintptr_t)info;
  plan->start_brk = kernel_start_brk();
  plan->saved_brk = h->saved_brk;
  plan->fail_rc = (uint32_t)g_fail_rc;
  for (int k = 0; k < 3; k++) {
    if (!special_live[k][1]) continue;
    struct rs_move *m = &plan->special[plan->n_special++];
    m->from = special_live[k][0];
    m->to = special_img[k][0];
    m->len = special_live[k][1];
  }
  /* Unmap everything of ours but the restorer area, the staging and the vdso/vvar. */
  nlive = read_maps(&live);
  for (int i = 0; i < nlive; i++) {
    uint64_t a = live[i].start, b = live[i].end;
    if (special_index(live[i].name) >= 0 || !strcmp(live[i].name, "[vsyscall]")) continue;
    if (a >= (uint64_t)(uintptr_t)area && b <= (uint64_t)(uintptr_t)area + area_len) continue;
    int staged = 0;
    for (uint32_t r = 0; r < h->num_regions && !staged; r++)
      staged = st.staging[r] && a >= st.staging[r] &&
               b <= st.staging[r] + (img->regions[r].end - img->regions[r].start);
    if (staged) continue;
    if (plan->n_unmap == sizeof plan->unmap / sizeof plan->unmap[0]) die(file, "too many mappings to unmap");
    plan->unmap[plan->n_unmap].start = a;
    plan->unmap[plan->n_unmap].len = b - a;
    plan->n_unmap++;
  }
  for (uint32_t i = 0; i < h->num_regions; i++) {
    const struct dmtcp_region *r = &img->regions[i];
    if (r->kind == DMTCP_REGION_VDSO || r->kind == DMTCP_REGION_VVAR || r->kind == DMTCP_REGION_FD_DATA) continue;
    if (r->flags & DMTCP_RF_CONTENT_ONLY) continue; /* not mapped by the process */
    struct rs_move *m = &plan->moves[plan->n_moves++];
    m->to = r->start;
    m->len = r->end - r->start;
    m->prot = r->prot;
    if (st.staging[i]) {
      m->from = st.staging[i];
    } else if (same_file[i] >= 0) {
      m->flags = RS_FILE;
      m->fd = same_file[i];
      m->offset = r->file_offset;
    } else if (sysv_by_shmat(r)) {
      m->flags = RS_SYSV;
    } else if (tree_shared_fd(r) >= 0) {
      m->flags = RS_SHARED;
      m->fd = tree_shared_fd(r);
      m->offset = r->file_offset;
    } else if (r->flags & DMTCP_RF_FROM_FILE) {
      char why[512];
      m->flags = r->kind == DMTCP_REGION_SHARED_FILE ? RS_SHARED : RS_FILE;
      m->fd = open_mapped_file(r, 1, NULL, why, sizeof why);
      m->offset = r->file_offset;
      if (m->fd < 0) die(file, why);
    } else {
      m->flags = RS_FRESH;
    }
  }

  if (sysv_plan(img, plan, err, sizeof err) != 0) die(file, err);

  if (pause_level) {
    fprintf(stderr, "dmtcp_restart: pid %d paused before replacing its memory (DMTCP_RESTART_PAUSE); attach a debugger, then send SIGCONT\n",
            (int)getpid());
    raise(SIGSTOP);
  }
  /* Point of no return. Descriptors other than 0, 1, 2, the image's own (put
   * in place by restart/fds/) and the shared objects to map are closed (the
   * image is already staged); every signal is blocked. */
  fflush(NULL);
  int *keep = malloc((3 + h->num_fds + plan->n_moves) * sizeof *keep);
  if (!keep) die(file, "out of memory");
  int nkeep = 0;
  for (int fd = 0; fd <= 2; fd++) keep[nkeep++] = fd;
  for (uint32_t k = 0; k < h->num_fds; k++) keep[nkeep++] = img->fds[k].fd;
  for (uint32_t k = 0; k < plan->n_moves; k++)
    if (plan->moves[k].flags & (RS_SHARED | RS_FILE)) keep[nkeep++] = plan->moves[k].fd;
  close_all_but(keep, nkeep);
  free(keep);
  /* Every signal, glibc's own 32 and 33 too (its sigfillset and sigprocmask
   * leave them out): the restored threads inherit this mask until they return
   * from the checkpoint signal handler, and the timers are armed before. A
   * SIGTIMER (32) for glibc's SIGEV_THREAD helper that found it open would
   * kill the process (SIG_DFL) or, ignored (SIG_IGN, as a JVM starts its
   * children), park the periodic timer for good (Linux 6.13 and later). */
  const uint64_t all = ~0ull;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof all);
  /* glibc registered an rseq area in our TLS, which the restorer unmaps: the
   * kernel would then fault writing to it on the way back from a syscall. */
  if (__rseq_size > 0) /* registered with the original 32-byte ABI size */
    syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, 32, 1, 0x53053053);
  void (*entry)(struct rs_plan *) = (void (*)(struct rs_plan *))(void *)(area + ((const char *)(void *)restorer_main - __start_dmtcp_restorer));
  __asm__ volatile("movq %0, %%rsp\n\t"
                   "movq %1, %%rdi\n\t"
                   "callq *%2\n\t"
                   "hlt"
                   :
                   : "r"(((uintptr_t)stack_top - 64) & ~(uintptr_t)15), "r"(plan), "r"(entry)
                   : "memory");
  __builtin_unreachable();
}

/* ---- main --------------------------------------------------------------- */

/* A member that died after its generation was committed but before it renamed
 * its image leaves the previous generation under the final name and the
 * committed one, complete, as <name>.part. When the other images of the set
 * are of a newer generation of the same computation, that .part is the image
 * the set needs: use it. Anything else (incomplete, another computation or
 * generation) is left alone and the set is refused below as before. */
static void use_committed_parts(struct image *imgs, char **paths, int n, int strict) {
  uint64_t newest = 0;
  for (int i = 0; i < n; i++)
    if (imgs[i].h->generation > newest) newest = imgs[i].h->generation;
  for (int i = 0; i < n; i++) {
    if (imgs[i].h->generation == newest) continue;
    char part[PATH_MAX + 8];
    snprintf(part, sizeof part, "%s.part", paths[i]);
    struct image candidate;
    char err[512];
    if (access(part, R_OK) != 0) continue;
    if (image_open(&candidate, part, strict, err, sizeof err) != 0) {
      image_close(&candidate);
      continue;
    }
    int fits = candidate.h->generation == newest &&
               strcmp(candidate.h->comp_id, imgs[i].h->comp_id) == 0 &&
               strcmp(candidate.h->upid, imgs[i].h->upid) == 0;
    for (int j = 0; j < n && fits; j++)
      if (imgs[j].h->generation == newest) fits = strcmp(imgs[j].h->comp_id, candidate.h->comp_id) == 0;
    if (!fits) {
      image_close(&candidate);
      continue;
    }
    /* finish the commit its process did not live to do */
    if (rename(part, paths[i]) != 0) {
      image_close(&candidate);
      continue;
    }
    if (!g_quiet)
      fprintf(stderr, "dmtcp_restart: %s: generation %llu was committed but not renamed; renamed %s into place\n",
              paths[i], (unsigned long long)newest, part);
    image_close(&imgs[i]);
    imgs[i] = candidate;
    imgs[i].path = paths[i];
  }
}

static int add_image(char ***list, int *n, const char *path) {
  char *abs = realpath(path, NULL);
  *list = realloc(*list, (size_t)(*n + 1) * sizeof **list);
  (*list)[(*n)++] = abs ? abs : strdup(path);
  return 0;
}

static struct image *g_all;
static char **g_paths;
static int g_npaths;
static struct dmtcp_restore_info *g_info;
static int g_pause_level;

/* In the process that becomes image i's: drop the other images, restore it. */
static int g_tree_mode;

static _Noreturn void restore_index(int i) {
  if (!g_tree_mode) { /* on its own: its descriptors are made here, not by process 1 */
    if (fdr_plan(&g_all[i], 1, g_quiet) != 0 || fdr_create(NULL) != 0) exit(g_fail_rc);
    fdr_take(0);
  }
  for (int k = 0; k < g_npaths; k++)
    if (k != i) image_close(&g_all[k]);
  snprintf(g_info->image_path, sizeof g_info->image_path, "%s", g_paths[i]);
  restore(&g_all[i], g_info, g_pause_level);
}

int main(int argc, char **argv) {
  g_fail_rc = dmtcp_fail_rc();
  /* Process 1 holds every description of the computation at once, parked. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  struct coord_target t;
  dmtcp_coord_target_from_env(&t, "dmtcp_restart");
  const char *sc = getenv("DMTCP_DISABLE_STRICT_CHECKING");
  int strict = !(sc && *sc && strcmp(sc, "0") != 0);
  const char *ckptdir = getenv("DMTCP_CHECKPOINT_DIR"), *tmpdir = getenv("DMTCP_TMPDIR");
  const char *pz = getenv("DMTCP_RESTART_PAUSE");
  int pause_level = pz && *pz ? atoi(pz) : 0;
  const char *qv = getenv("DMTCP_QUIET");
  g_quiet = qv && *qv ? atoi(qv) : 0;

  enum { O_PORTFILE = 256, O_NEW, O_ANY, O_NOSTRICT, O_CKPTDIR, O_TMP, O_PAUSE, O_HELP, O_VERSION, O_LOGFILE };
  static const struct option opts[] = {
      {"coord-host", required_argument, 0, 'h'}, {"coord-port", required_argument, 0, 'p'},
      {"port", required_argument, 0, 'p'},        {"port-file", required_argument, 0, O_PORTFILE},
      {"join-coordinator", no_argument, 0, 'j'},  {"join", no_argument, 0, 'j'},
      {"new-coordinator", no_argument, 0, O_NEW}, {"any-coordinator", no_argument, 0, O_ANY},
      {"interval", required_argument, 0, 'i'},    {"no-strict-checking", no_argument, 0, O_NOSTRICT},
      {"ckptdir", required_argument, 0, O_CKPTDIR}, {"tmpdir", required_argument, 0, O_TMP},
      {"quiet", no_argument, 0, 'q'},             {"debug-restart-pause", no_argument, 0, O_PAUSE},
      {"help", no_argument, 0, O_HELP},           {"version", no_argument, 0, O_VERSION},
      {"coord-logfile", required_argument, 0, O_LOGFILE},
      {0, 0, 0, 0}};
  int c, logfile_given = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h:p:ji:q", opts, NULL)) != -1) {
    switch (c) {
      case 'h': snprintf(t.host, sizeof t.host, "%s", optarg); break;
      case 'p': t.port = dmtcp_parse_int("dmtcp_restart", optarg, "port", 0, 65535); break;
      case O_PORTFILE: t.port_file = optarg; break;
      case 'j': t.mode = COORD_JOIN; break;
      case O_NEW: t.mode = COORD_NEW; break;
      case O_ANY: t.mode = COORD_ANY; break;
      case 'i': t.interval = dmtcp_parse_int("dmtcp_restart", optarg, "interval", 0, INT_MAX); break;
      case O_NOSTRICT: strict = 0; break;
      case O_CKPTDIR: ckptdir = optarg; break;
      case O_TMP: tmpdir = optarg; break;
      case 'q': g_quiet++; break;
      case O_PAUSE: pause_level = 1; break;
      case O_LOGFILE: t.logfile = optarg; logfile_given = 1; break;
      case O_HELP: usage(stdout); return 0;
      case O_VERSION: printf("dmtcp_restart (dmtcp) " VERSION "\n"); return 0;
      default:
        fprintf(stderr, "dmtcp_restart: unknown or incomplete option: %s\n", argv[optind - 1]);
        usage(stderr);
        return g_fail_rc;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return g_fail_rc;
  }
  const char *tmp_problem = tmpdir && *tmpdir ? dmtcp_tmpdir_problem(tmpdir) : NULL;
  if (tmp_problem) {
    fprintf(stderr, "dmtcp_restart: temporary directory %s: %s\n", tmpdir, tmp_problem);
    return g_fail_rc;
  }
  char **paths = NULL;
  int npaths = 0;
  for (int i = optind; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
      char pattern[PATH_MAX];
      snprintf(pattern, sizeof pattern, "%s/ckpt_*.dmtcp", argv[i]);
      glob_t g;
      if (glob(pattern, 0, NULL, &g) != 0) die(argv[i], "no ckpt_*.dmtcp images in this directory");
      for (size_t k = 0; k < g.gl_pathc; k++) add_image(&paths, &npaths, g.gl_pathv[k]);
      globfree(&g);
    } else {
      add_image(&paths, &npaths, argv[i]);
    }
  }
  struct image *imgs = calloc((size_t)npaths, sizeof *imgs);
  for (int i = 0; i < npaths; i++) {
    char err[512];
    if (image_open(&imgs[i], paths[i], strict, err, sizeof err) != 0) die(paths[i], err);
  }
  use_committed_parts(imgs, paths, npaths, strict);
  for (int i = 0; i < npaths; i++) check_mapped_files(&imgs[i]);
  for (int i = 1; i < npaths; i++) {
    if (strcmp(imgs[i].h->comp_id, imgs[0].h->comp_id) != 0 || imgs[i].h->generation != imgs[0].h->generation) {
      char msg[512];
      snprintf(msg, sizeof msg, "computation %s generation %llu, but %s is of computation %s generation %llu",
               imgs[i].h->comp_id, (unsigned long long)imgs[i].h->generation, paths[0], imgs[0].h->comp_id,
               (unsigned long long)imgs[0].h->generation);
      die(paths[i], msg);
    }
  }
  {
    int bad = 0;
    char why[600];
    if (sysv_collect(imgs, npaths, &bad, why, sizeof why) != 0) die(paths[bad], why);
  }
  char absdir[PATH_MAX] = "";
  if (ckptdir && *ckptdir && !realpath(ckptdir, absdir)) die(ckptdir, strerror(errno));
  t.ckptdir = absdir[0] ? absdir : NULL;
  t.tmpdir = tmpdir;
  t.quiet = g_quiet;
  char err[512];
  /* An image launched with --no-coordinator coordinates itself after restart too. */
  int standalone = (imgs[0].h->flags & DMTCP_HF_STANDALONE) != 0;
  if (standalone && npaths > 1) die(paths[1], "a --no-coordinator image restarts alone");
  if (standalone) {
    t.mode = COORD_NONE;
    t.port = t.port >= 0 ? t.port : 0; /* 0: listen where it listened before */
  } else if (dmtcp_coord_ensure(&t, err, sizeof err) != 0) {
    die(NULL, err);
  }
  if (logfile_given) dmtcp_coord_note_unused_logfile(&t, "dmtcp_restart");

  struct dmtcp_restore_info info;
  memset(&info, 0, sizeof info);
  info.magic = DMTCP_RESTORE_INFO_MAGIC;
  info.version = 1;
  info.coord_port = (uint32_t)t.port;
  snprintf(info.coord_host, sizeof info.coord_host, "%s", t.host);
  info.interval = t.interval >= 0 ? (uint32_t)t.interval : UINT32_MAX;
  info.flags = (g_quiet ? DMTCP_RI_QUIET : 0) | (strict ? 0 : DMTCP_RI_NO_STRICT);
  info.restart_pause = (uint32_t)pause_level;
  info.stdin_fd = 0;
  info.stdout_fd = 1;
  info.stderr_fd = 2;
  snprintf(info.ckptdir, sizeof info.ckptdir, "%s", absdir);
  snprintf(info.tmpdir, sizeof info.tmpdir, "%s", tmpdir ? tmpdir : "");

  g_all = imgs;
  g_paths = paths;
  g_npaths = npaths;
  g_info = &info;
  g_pause_level = pause_level;
  /* The computation's processes come back as the tree they were, with their
   * pids, in a pid namespace of their own (tree.c). */
  const char *nons = getenv("DMTCP_RESTART_NO_PIDNS");
  char why[256] = "DMTCP_RESTART_NO_PIDNS is set";
  if (fdr_plan(imgs, npaths, g_quiet) != 0) return g_fail_rc;
  int ns = nons && *nons && strcmp(nons, "0") != 0 ? -1 : tree_enter_namespaces(why, sizeof why);
  if (ns >= 0) {
    g_tree_mode = 1;
    if (ns == 1) info.flags |= DMTCP_RI_USERNS;
    /* IPC objects keep their ids in an IPC namespace of their own (sysv_restore.c) */
    if (sysv_count() > 0 && sysv_enter_namespace(why, sizeof why) != 0 && !g_quiet)
      fprintf(stderr, "dmtcp_restart: %s; the System V IPC objects cannot keep their ids: shared memory comes back "
                      "shared but without its id, semaphores and message queues are not restored\n", why);
    if (sysv_enabled()) info.flags |= DMTCP_RI_IPC_RESTORED;
    int code = tree_run(npaths, imgs, restore_index, g_quiet);
    if (code < 0 || code == g_fail_rc) dmtcp_coord_quit_if_unused(&t); /* refused before anyone joined */
    if (code < 0) die(NULL, "cannot start the restarted processes");
    return code;
  }
  if (!g_quiet) fprintf(stderr, "dmtcp_restart: %s; the processes restart with new pids, each on its own\n", why);
  if (!g_quiet && sysv_count() > 0)
    fprintf(stderr, "dmtcp_restart: without namespaces the %d IPC objects of the images cannot keep their ids: System V "
                    "shared memory comes back as private memory, semaphores and message queues are not restored\n",
            sysv_count());
  zombies_note_lost(imgs, npaths, g_quiet);
  /* One process per image; this one takes the first, in the foreground. */
  int mine = 0;
  for (int i = 1; i < npaths; i++) {
    pid_t pid = fork();
    if (pid < 0) die(paths[i], "cannot fork a process for this image");
    if (pid == 0) {
      mine = i;
      break;
    }
  }
  restore_index(mine);
}
