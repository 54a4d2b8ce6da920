/* readdmtcp [--verify] image...: prints an image's header and region table
 * (DMTCP's readdmtcp.sh, for our format). --verify also checks every checksum.
 * A bad image gets one line naming it and the reason, and exit 99. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "restart/image_read.h"
#include "restart/ipc_image.h"

static void prot_str(uint32_t prot, char out[5], uint32_t kind) {
  out[0] = prot & 1 ? 'r' : '-';
  out[1] = prot & 2 ? 'w' : '-';
  out[2] = prot & 4 ? 'x' : '-';
  out[3] = kind == DMTCP_REGION_SHARED_ANON || kind == DMTCP_REGION_SHARED_FILE ? 's' : 'p';
  out[4] = '\0';
}

static const char *fd_kind_name(uint32_t kind) {
  static const char *names[] = {"?", "pipe-read", "pipe-write", "file", "dir", "device", "fifo", "tty",
                                "pty-master", "pty-slave", "eventfd", "timerfd", "signalfd", "epoll",
                                "inotify", "memfd", "socket", "other"};
  return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* A socket's state and addresses: "connected inside pending, 127.0.0.1:4000 -> 127.0.0.1:80"
 * (a listener that had to move: the address it had at the checkpoint too). */
static void print_socket(const struct image *img, const struct dmtcp_fd_record *f) {
  static const char *bits[] = {"listening", "connected", "bound", "inside", "peer-shut", "pending",
                               "drained", "resend", "quiet", "peer-quiet", "peeked", "taken"};
  printf("        state:");
  for (unsigned b = 0; b < sizeof bits / sizeof bits[0]; b++)
    if (f->u[3] & (1ull << b)) printf(" %s", bits[b]);
  for (uint32_t which = 0; which < 3; which++) {
    unsigned char sa[128] = {0};
    size_t n = image_socket_address(img, f, which, sa, sizeof sa);
    if (n) {
      char text[INET6_ADDRSTRLEN + 8] = "?";
      uint16_t family;
      memcpy(&family, sa, sizeof family);
      if (family == AF_INET && n >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
        snprintf(text + strlen(text), sizeof text - strlen(text), ":%u", ntohs(in.sin_port));
      } else if (family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
        snprintf(text + strlen(text), sizeof text - strlen(text), ".%u", ntohs(in6.sin6_port));
      } else if (family == AF_UNIX) {
        snprintf(text, sizeof text, "unix");
      }
      printf("%s%s", which == 0 ? ", " : which == 1 ? " -> " : " (moved: at ", text);
      if (which == 2) printf(")");
    }
  }
  printf("\n");
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
    printf("  tids:");
    for (uint32_t t = 0; t < h->num_threads; t++)
      printf(" %u%s", img.threads[t].tid,
             img.threads[t].is_main ? " (main)" : img.threads[t].is_ckpt_thread ? " (checkpoint thread)" : "");
    printf("\n");
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
      printf("  %016llx-%016llx %s %-11s %12llu %12llu  %s%s\n", (unsigned long long)reg->start,
             (unsigned long long)reg->end, p, region_kind_name(reg->kind),
             (unsigned long long)reg->data_len, zero, reg->path,
             reg->flags & DMTCP_RF_FROM_FILE ? " (mapped from the file at restart)" : "");
    }
    printf("  descriptors: %u\n", h->num_fds);
    for (uint32_t k = 0; k < h->num_fds; k++) {
      const struct dmtcp_fd_record *f = &img.fds[k];
      printf("  %5d %-10s %s%s%s description %u:%d  %s\n", f->fd, fd_kind_name(f->kind),
             f->flags & DMTCP_FDF_LEADER ? "leader " : "", f->flags & DMTCP_FDF_DELETED ? "deleted " : "",
             f->data_region ? "saved " : "", f->desc_pid, f->desc_fd, f->path_len ? image_string(&img, f->path_off) : "");
      if (f->kind == DMTCP_FD_SOCKET) print_socket(&img, f);
    }
    if (h->num_zombies) printf("  children that had ended, not reaped: %u\n", h->num_zombies);
    for (uint32_t k = 0; k < h->num_zombies; k++) {
      const struct dmtcp_zombie *z = &img.zombies[k];
      if (z->how == DMTCP_ZOMBIE_EXITED) printf("  %7u exit code %u\n", z->pid, z->status);
      else printf("  %7u killed by signal %u%s\n", z->pid, z->status, z->how == DMTCP_ZOMBIE_DUMPED ? " (core dumped)" : "");
    }
    char ipc_err[512] = "";
    if (h->num_ipc && ipc_check_table(&img, ipc_err, sizeof ipc_err) == 0) {
      printf("  IPC objects: %u\n", h->num_ipc);
      for (uint32_t k = 0; k < h->num_ipc; k++) {
        const struct dmtcp_ipc_record *rec = &ipc_records(&img)[k];
        char what[320];
        ipc_describe(rec, what, sizeof what);
        if (rec->kind == DMTCP_IPC_MQ)
          printf("    %s: mode %03o, owner %u:%u, at most %llu messages of %llu bytes, %u saved here%s\n", what,
                 rec->mode, rec->uid, rec->gid, (unsigned long long)rec->limit, (unsigned long long)rec->size,
                 rec->count, rec->flags & DMTCP_IPCF_REMOVED ? ", unlinked" : "");
        else
          printf("    %s: key %#x, mode %03o, owner %u:%u, %llu bytes%s, %u %s%s\n", what, (unsigned)rec->key, rec->mode,
                 rec->uid, rec->gid, (unsigned long long)rec->size, rec->kind == DMTCP_IPC_MSG ? " at most" : "",
                 rec->count, rec->kind == DMTCP_IPC_SEM ? "semaphores" : "messages",
                 rec->flags & DMTCP_IPCF_REMOVED ? ", marked for removal" : "");
      }
    }
    if (n < 0 || ipc_err[0]) {
      fprintf(stderr, "readdmtcp: %s: %s\n", argv[i], n < 0 ? err : ipc_err);
      status = fail_rc;
    } else if (verify) {
      void *scratch = mmap(NULL, 2 * DMTCP_CHUNK_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      long c = 0;
      for (; c < n; c++) {
        memset(scratch, 0, DMTCP_CHUNK_PAGES * 4096);
        if (chunk_decode(&chunks[c], scratch, (char *)scratch + DMTCP_CHUNK_PAGES * 4096, err, sizeof err) != 0)
          break;
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
