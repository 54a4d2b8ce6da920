/*
 * Checkpoint image format, version 1, and the hand-off from the restorer
 * (dmtcp_restart) to the runtime inside the restored process.
 *
 * This header is the contract between the writer (libdmtcp.so, checkpoint
 * side) and the readers (dmtcp_restart, readdmtcp). Everything is in the
 * byte order of the architecture named in the header: an image is only ever
 * restored on the architecture that wrote it, and the header's arch field is
 * checked before anything else is trusted.
 *
 * File layout:
 *
 *   [ struct dmtcp_image_header ]              DMTCP_IMAGE_HEADER_SIZE bytes
 *   [ struct dmtcp_region  x num_regions ]     the region table
 *   [ struct dmtcp_thread  x num_threads ]     the thread table
 *   [ blob: process state (sigactions, rlimits, cwd, env, fds) ]  state_len
 *   [ region data: for each region in table order, its chunks ]
 *
 * Region data is a sequence of chunks. A chunk covers up to
 * DMTCP_CHUNK_PAGES pages of the region, in address order; the last chunk of
 * a region may be shorter. Pages that are entirely zero are not stored: their
 * bit is set in zero_bitmap and the restorer leaves them as fresh anonymous
 * (zero) pages, so sparse and reserved memory costs nothing in the image.
 * The stored bytes are the non-zero pages of the chunk, concatenated in
 * address order (raw_len bytes), then compressed with the chunk's codec.
 */
#ifndef DMTCP_IMAGE_FORMAT_H
#define DMTCP_IMAGE_FORMAT_H

#include <stdint.h>

#define DMTCP_IMAGE_MAGIC        "DMTCPIMG"   /* 8 bytes, no NUL */
#define DMTCP_IMAGE_VERSION      2u
#define DMTCP_IMAGE_HEADER_SIZE  4096u
#define DMTCP_CHUNK_MAGIC        0x4B4E4843u  /* "CHNK" */
#define DMTCP_CHUNK_PAGES        256u          /* 1 MiB of 4 KiB pages */

/* Architecture, ELF machine numbers. */
#define DMTCP_ARCH_X86_64   62u
#define DMTCP_ARCH_AARCH64  183u

/* Codecs (header.codec is the default; each chunk names its own: a chunk
 * that did not shrink is stored raw, so incompressible data costs no
 * decompression at restart). */
#define DMTCP_CODEC_NONE  0u
#define DMTCP_CODEC_ZSTD  1u
#define DMTCP_CODEC_LZ4   2u

/* Region kinds (dmtcp_region.kind). */
#define DMTCP_REGION_ANON        0u  /* anonymous private */
#define DMTCP_REGION_FILE        1u  /* file-backed private (path valid) */
#define DMTCP_REGION_SHARED_ANON 2u  /* MAP_SHARED anonymous (incl. /dev/zero, shm) */
#define DMTCP_REGION_SHARED_FILE 3u  /* MAP_SHARED file (path valid) */
#define DMTCP_REGION_HEAP        4u  /* [heap] */
#define DMTCP_REGION_STACK       5u  /* [stack] of the main thread */
#define DMTCP_REGION_VDSO        6u  /* [vdso]: no data stored; restorer moves the live vdso here */
#define DMTCP_REGION_VVAR        7u  /* [vvar]: no data stored; restorer moves the live vvar here */

/* Region flags (dmtcp_region.flags). */
#define DMTCP_RF_HAS_DATA     0x1u   /* chunks follow in the data section */
#define DMTCP_RF_GROWSDOWN    0x2u   /* map with MAP_GROWSDOWN */
#define DMTCP_RF_NORESERVE    0x4u   /* map with MAP_NORESERVE */

/* Header flags. */
#define DMTCP_HF_COMPRESSED   0x1u
#define DMTCP_HF_STANDALONE   0x2u   /* launched with --no-coordinator: restart needs no coordinator */

struct dmtcp_image_header {
  char     magic[8];            /* DMTCP_IMAGE_MAGIC */
  uint32_t version;             /* DMTCP_IMAGE_VERSION */
  uint32_t header_size;         /* DMTCP_IMAGE_HEADER_SIZE */
  uint32_t arch;                /* DMTCP_ARCH_* */
  uint32_t page_size;           /* page size of the writer */
  uint32_t flags;               /* DMTCP_HF_* */
  uint32_t codec;               /* default codec, DMTCP_CODEC_* */
  uint32_t uid, gid;            /* real uid/gid of the checkpointed process */
  uint32_t num_regions;
  uint32_t num_threads;
  uint64_t region_table_offset; /* file offset of the region table */
  uint64_t thread_table_offset;
  uint64_t state_offset, state_len;  /* process-state blob (writer-defined, read
                                        back only by libdmtcp after restore) */
  uint64_t data_offset;         /* first chunk of the first region with data */
  uint64_t file_size;           /* total bytes of the complete image */
  uint64_t ckpt_time_ns;        /* CLOCK_REALTIME at checkpoint */
  uint64_t monotonic_ns;        /* CLOCK_MONOTONIC at checkpoint */
  uint64_t generation;          /* checkpoint generation (protocol section 2) */
  uint32_t num_members;         /* processes in this generation */
  uint32_t vpid;                /* virtual pid */
  uint32_t real_pid;            /* real pid at checkpoint */
  uint32_t ckpt_signal;         /* signal used for checkpointing */
  /* Restore hand-off: addresses inside the checkpointed process. */
  uint64_t restore_entry;       /* void entry(struct dmtcp_restore_info *) in libdmtcp */
  uint64_t restore_fs_base;     /* thread pointer (FS base / TPIDR_EL0) to install before calling entry */
  uint64_t saved_brk;           /* program break at checkpoint */
  uint64_t start_brk;           /* start of [heap] at checkpoint (0 if none) */
  char     program[256];        /* basename of the executable */
  char     exe_path[1024];      /* /proc/self/exe at checkpoint */
  char     argv[2048];          /* command line, arguments separated by ' ' (truncated) */
  char     upid[96];            /* unique process id */
  char     comp_id[96];         /* computation id */
  char     hostname[256];       /* host of the checkpoint */
  uint64_t tables_checksum;     /* XXH64 (seed 0) of region table, thread table and state blob */
  /* Process-tree position at checkpoint, in the ids the program saw (0 in
   * images that predate them: such a process restarts on its own). */
  uint32_t vppid;               /* parent */
  uint32_t vpgid;               /* process group */
  uint32_t vsid;                /* session */
  uint32_t num_fds;             /* entries of the descriptor table (pipes; 0 in older images) */
  uint64_t fd_table_offset;     /* file offset of the descriptor table (covered by tables_checksum) */
  uint8_t  reserved[DMTCP_IMAGE_HEADER_SIZE - 8 - 4 * 10 - 8 * 9 - 4 * 4
                    - 8 * 4 - 256 - 1024 - 2048 - 96 - 96 - 256 - 8 - 4 * 4 - 8 - 8];
  uint64_t header_checksum;     /* XXH64 (seed 0) of the header with this field = 0 */
};
_Static_assert(sizeof(struct dmtcp_image_header) == DMTCP_IMAGE_HEADER_SIZE,
               "image header must be exactly one header block");

/* A descriptor that dmtcp_restart recreates before the process is restored:
 * pipes, shared between the processes that held them (same ino = same pipe). */
#define DMTCP_FD_PIPE_READ  1u
#define DMTCP_FD_PIPE_WRITE 2u
struct dmtcp_fd_record {
  int32_t  fd;                  /* descriptor number in the process */
  uint32_t kind;                /* DMTCP_FD_* */
  uint64_t ino;                 /* pipe inode at checkpoint: the pipe's identity */
  uint32_t status_flags;        /* F_GETFL (O_NONBLOCK, ...) */
  uint32_t fd_flags;            /* F_GETFD (FD_CLOEXEC) */
  uint32_t pipe_size;           /* F_GETPIPE_SZ */
  uint32_t reserved;
};

struct dmtcp_region {
  uint64_t start, end;          /* [start, end), page aligned */
  uint32_t prot;                /* PROT_* at checkpoint */
  uint32_t kind;                /* DMTCP_REGION_* */
  uint32_t flags;               /* DMTCP_RF_* */
  uint32_t num_chunks;          /* chunks stored for this region */
  uint64_t file_offset;         /* offset into the backing file (FILE kinds) */
  uint64_t data_offset;         /* file offset of this region's first chunk */
  uint64_t data_len;            /* bytes of all its chunks, headers included */
  uint64_t checksum;            /* XXH64 (seed 0) over the chunk checksums, in order */
  uint64_t object_dev;          /* SHARED kinds: device and inode of the shared object; */
  uint64_t object_ino;          /*   regions of one computation with both equal share it */
  char     path[256];           /* backing path or pseudo name ("[heap]", ...) */
};

struct dmtcp_chunk_header {
  uint32_t magic;               /* DMTCP_CHUNK_MAGIC */
  uint32_t codec;               /* DMTCP_CODEC_* for this chunk */
  uint32_t npages;              /* pages covered (<= DMTCP_CHUNK_PAGES) */
  uint32_t raw_len;             /* bytes of non-zero pages before compression */
  uint32_t stored_len;          /* bytes that follow this header */
  uint32_t reserved;
  uint64_t checksum;            /* XXH64 of the raw_len uncompressed bytes, seeded with the
                                   XXH64 (seed 0) of this header with checksum = 0, so the
                                   header's own fields (bitmap, lengths) are covered too */
  uint64_t zero_bitmap[DMTCP_CHUNK_PAGES / 64]; /* bit i set: page i is all zero, not stored */
};

/* One entry per thread of the process at checkpoint. The registers of a
 * user thread live in the signal frame on its own stack (which is part of
 * the memory image); the entries say how to recreate the kernel thread. */
struct dmtcp_thread {
  uint32_t tid;                 /* kernel tid at checkpoint */
  uint32_t vtid;                /* virtual tid */
  uint32_t is_main;             /* 1 for the thread-group leader */
  uint32_t is_ckpt_thread;      /* 1 for the runtime's checkpoint thread */
  uint64_t fs_base;             /* thread pointer */
  uint64_t context;             /* address of the thread's saved resume context (writer-defined) */
  uint64_t reserved[4];
};

/*
 * Hand-off from the restorer to libdmtcp.
 *
 * dmtcp_restart validates the whole image (magic, version, arch, uid unless
 * --no-strict-checking, header checksum, every chunk checksum) before it maps
 * anything at an address of the image. It then maps every region at its
 * original address with its original protection, moves the live [vdso] and
 * [vvar] to the image's addresses, sets the program break to saved_brk where
 * the kernel allows it, unmaps everything of its own except one small area
 * (the "restorer area") that holds this struct and a stack, installs
 * header.restore_fs_base as thread pointer, and calls
 *
 *     ((void (*)(struct dmtcp_restore_info *)) header.restore_entry)(info);
 *
 * on the restorer area's stack, with all signals blocked, in the kernel
 * thread that will be the new process's main thread. entry never returns. It
 * may munmap the restorer area once it has copied what it needs from info.
 */
#define DMTCP_RESTORE_INFO_MAGIC 0x52535452u   /* "RSTR" */

struct dmtcp_restore_info {
  uint32_t magic;               /* DMTCP_RESTORE_INFO_MAGIC */
  uint32_t version;             /* 1 */
  uint64_t restorer_area;       /* start of the restorer area (munmap-able by entry) */
  uint64_t restorer_area_len;
  uint32_t coord_port;          /* coordinator to join (after restart) */
  uint32_t flags;               /* DMTCP_RI_* */
  uint32_t interval;            /* -i value, or UINT32_MAX if not given */
  uint32_t restart_pause;       /* DMTCP_RESTART_PAUSE level, 0 = none */
  int32_t  stdin_fd, stdout_fd, stderr_fd; /* descriptors of dmtcp_restart, kept open */
  uint32_t reserved0;
  char     coord_host[256];
  char     ckptdir[1024];       /* new checkpoint dir ("" = keep the image's) */
  char     tmpdir[1024];
  char     image_path[1024];    /* absolute path of the image restored */
};

#define DMTCP_RI_QUIET         0x1u
#define DMTCP_RI_JOIN_ONLY     0x2u   /* -j: the coordinator must already exist */
#define DMTCP_RI_NO_STRICT     0x4u

#endif /* DMTCP_IMAGE_FORMAT_H */
