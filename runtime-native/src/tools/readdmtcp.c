/* readdmtcp [--verify] image...: prints an image's header and region table
 * (DMTCP's readdmtcp.sh, for our format). --verify also checks every checksum.
 * A bad image gets one line naming it and the reason, and exit 99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "restart/image_read.h"

static void prot_str(uint32_t prot, char out[5], uint32_t kind) {
  out[0] = prot & 1 ? 'r' : '-';
  out[1] = prot & 2 ? 'w' : '-';
  out[2] = prot & 4 ? 'x' : '-';
  out[3] = kind == DMTCP_REGION_SHARED_ANON || kind == DMTCP_REGION_SHARED_FILE ? 's' : 'p';
  out[4] = '\0';
}

int main(int argc, char **argv) {
  const char *rc = getenv("DMTCP_FAIL_RC");
  int fail_rc = rc && *rc ? atoi(rc) : 99, verify = 0, status = 0, first = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--verify")) { verify = 1; continue; }
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("Usage: readdmtcp [--verify] <ckpt.dmtcp>...\nPrints the header and region table of checkpoint images;\n--verify also checks every checksum.\n");
      return 0;
    }
  }
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    first = 0;
    struct image img;
    char err[512];
    if (image_open(&img, argv[i], 0, err, sizeof err) != 0) {
      fprintf(stderr, "readdmtcp: %s: %s\n", argv[i], err);
      status = fail_rc;
      image_close(&img);
      continue;
    }
    const struct dmtcp_image_header *h = img.h;
    time_t secs = (time_t)(h->ckpt_time_ns / 1000000000ull);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&secs));
    printf("Image: %s\n", argv[i]);
    printf("  format version: %u\n  architecture: %s\n  uid: %u gid: %u\n", h->version,
           h->arch == DMTCP_ARCH_X86_64 ? "x86_64" : "aarch64", h->uid, h->gid);
    printf("  program: %s\n  executable: %s\n  command line: %s\n", h->program, h->exe_path, h->argv);
    printf("  upid: %s\n  computation: %s\n  host: %s\n", h->upid, h->comp_id, h->hostname);
    printf("  generation: %llu\n  members: %u\n  pid: %u (parent %u, group %u, session %u)\n  checkpointed: %s\n",
           (unsigned long long)h->generation, h->num_members, h->vpid, h->vppid, h->vpgid, h->vsid, when);
    printf("  compression: %s\n  size: %llu bytes\n  regions: %u\n  threads: %u\n",
           h->flags & DMTCP_HF_COMPRESSED ? "zstd" : "none", (unsigned long long)h->file_size,
           h->num_regions, h->num_threads);
    printf("  %-33s %-4s %-11s %12s %12s  %s\n", "address", "prot", "kind", "stored", "zero pages", "path");
    struct chunk_ref *chunks = NULL;
    long n = image_chunks(&img, &chunks, err, sizeof err);
    for (uint32_t r = 0; r < h->num_regions; r++) {
      const struct dmtcp_region *reg = &img.regions[r];
      unsigned long long zero = 0;
      for (long c = 0; c < n; c++) {
        if (chunks[c].region != r) continue;
        for (int w = 0; w < (int)(DMTCP_CHUNK_PAGES / 64); w++) zero += (unsigned)__builtin_popcountll(chunks[c].hdr->zero_bitmap[w]);
      }
      char p[5];
      prot_str(reg->prot, p, reg->kind);
      printf("  %016llx-%016llx %s %-11s %12llu %12llu  %s\n", (unsigned long long)reg->start,
             (unsigned long long)reg->end, p, region_kind_name(reg->kind),
             (unsigned long long)reg->data_len, zero, reg->path);
    }
    if (n < 0) {
      fprintf(stderr, "readdmtcp: %s: %s\n", argv[i], err);
      status = fail_rc;
    } else if (verify) {
      void *scratch = mmap(NULL, 2 * DMTCP_CHUNK_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      long c = 0;
      for (; c < n; c++) {
        memset(scratch, 0, DMTCP_CHUNK_PAGES * 4096);
        if (chunk_decode(&chunks[c], scratch, (char *)scratch + DMTCP_CHUNK_PAGES * 4096, err, sizeof err) != 0) break;
      }
      if (c < n) {
        fprintf(stderr, "readdmtcp: %s: %s\n", argv[i], err);
        status = fail_rc;
      } else {
        printf("  verified: %ld chunks, every checksum matches\n", n);
      }
      munmap(scratch, 2 * DMTCP_CHUNK_PAGES * 4096);
    }
    free(chunks);
    image_close(&img);
  }
  if (first) {
    fprintf(stderr, "Usage: readdmtcp [--verify] <ckpt.dmtcp>...\n");
    return fail_rc;
  }
  return status;
}
