/*
 * Checkpoint image format, version 3, and the hand-off from the restorer
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
 *   [ struct dmtcp_fd_record x num_fds ]       the descriptor table
 *   [ struct dmtcp_fd_extra x num_fd_extras ]  its entries (epoll, inotify, locks)
 *   [ strings: NUL-terminated, referenced by offset ]  strings_len
 *   [ blob: process state (sigactions, rlimits, cwd, ...) ]  state_len
 *   [ IPC table: struct dmtcp_ipc_record x num_ipc, then their payload ]  ipc_table_len
 *   [ struct dmtcp_zombie x num_zombies ]      unreaped children (8-byte aligned)
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
#define DMTCP_IMAGE_VERSION      5u
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
/* Chunk only: the same bytes as the chunk before it in its region, which
 * covers as many pages, none of them zero (memory filled with a repeating
 * record or a constant: arrays of one initial value). Nothing is stored; the
 * restart decodes the nearest chunk before it that is not a repeat. */
#define DMTCP_CODEC_REPEAT 3u

/* Region kinds (dmtcp_region.kind). */
#define DMTCP_REGION_ANON        0u  /* anonymous private */
#define DMTCP_REGION_FILE        1u  /* file-backed private (path valid) */
#define DMTCP_REGION_SHARED_ANON 2u  /* MAP_SHARED anonymous (incl. /dev/zero, shm) */
#define DMTCP_REGION_SHARED_FILE 3u  /* MAP_SHARED file (path valid) */
#define DMTCP_REGION_HEAP        4u  /* [heap] */
#define DMTCP_REGION_STACK       5u  /* [stack] of the main thread */
#define DMTCP_REGION_VDSO        6u  /* [vdso]: no data stored; restorer moves the live vdso here */
#define DMTCP_REGION_VVAR        7u  /* [vvar]: no data stored; restorer moves the live vvar here */
#define DMTCP_REGION_FD_DATA     8u  /* the contents of a descriptor's file (an unlinked file, a memfd,
                                        --ckpt-open-files), from a temporary mapping at checkpoint;
                                        never mapped at restart: dmtcp_restart writes it into the
                                        file it recreates (dmtcp_fd_record.data_region) */

/* Region flags (dmtcp_region.flags). */
#define DMTCP_RF_HAS_DATA     0x1u   /* chunks follow in the data section */
#define DMTCP_RF_GROWSDOWN    0x2u   /* map with MAP_GROWSDOWN */
#define DMTCP_RF_NORESERVE    0x4u   /* map with MAP_NORESERVE */
#define DMTCP_RF_FROM_FILE    0x8u   /* no data stored: restart maps path at file_offset as it is
                                        now (a file the user may only read, or one mapped MAP_SHARED
                                        read-only; MAP_PRIVATE only with no page written). If the
                                        file's size or mtime differ from file_size, file_mtime_ns:
                                        with DMTCP_RF_FILE_HASHED, the same bytes (checksum) are
                                        fine; code (PROT_EXEC) that changed is refused, data that
                                        changed is mapped as it is now, with a note */
#define DMTCP_RF_FILE_HASHED  0x20u  /* FROM_FILE, FILE_SAME: file_hash holds the XXH64 (seed 0) of
                                        the mapped bytes at checkpoint (regions up to 64 MiB) */
#define DMTCP_RF_FILE_SAME    0x40u  /* stored (HAS_DATA), and the memory was the file's bytes (a
                                        private mapping never written): a restart that finds the
                                        file unchanged maps it instead of decoding the data */
#define DMTCP_RF_CONTENT_ONLY 0x10u   /* the contents of a System V segment the process knew but had
                                        not attached (the checkpoint attached it to save them):
                                        they fill the segment at restart; never mapped */

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
  uint64_t tables_checksum;     /* XXH64 (seed 0) of region, thread, descriptor and extras tables,
                                   string table, state blob and zombie table, in file order */
  /* Process-tree position at checkpoint, in the ids the program saw (0 in
   * images that predate them: such a process restarts on its own). */
  uint32_t vppid;               /* parent */
  uint32_t vpgid;               /* process group */
  uint32_t vsid;                /* session */
  uint32_t num_fds;             /* entries of the descriptor table */
  uint64_t fd_table_offset;     /* file offset of the descriptor table (covered by tables_checksum) */
  uint64_t fd_extra_offset;     /* the extras table (num_fd_extras entries), then */
  uint64_t strings_offset;      /*   the string table (strings_len bytes): both covered */
  uint64_t strings_len;         /*   by tables_checksum */
  uint32_t num_fd_extras;
  uint32_t reserved0;
  uint32_t num_ipc;             /* records of the IPC table (0: the process knew no IPC object) */
  uint32_t ipc_reserved;        /* 0 */
  uint64_t ipc_table_offset;    /* file offset of the IPC table (covered by tables_checksum) */
  uint64_t ipc_table_len;       /* bytes of the IPC table: the records, then their payload */
  uint64_t zombie_table_offset; /* the zombie table (num_zombies entries, 8-byte aligned), after the
                                   IPC table; covered by tables_checksum after it */
  uint32_t num_zombies;
  uint32_t reserved1;
  uint8_t  reserved[DMTCP_IMAGE_HEADER_SIZE - 8 - 4 * 10 - 8 * 9 - 4 * 4
                    - 8 * 4 - 256 - 1024 - 2048 - 96 - 96 - 256 - 8 - 4 * 4 - 8 - 8
                    - 8 * 3 - 4 * 2 - 4 * 2 - 8 * 2 - 8 - 4 * 2];
  uint64_t header_checksum;     /* XXH64 (seed 0) of the header with this field = 0 */
};
_Static_assert(sizeof(struct dmtcp_image_header) == DMTCP_IMAGE_HEADER_SIZE,
               "image header must be exactly one header block");

/* The descriptor table: one record per descriptor of the process, in
 * descriptor order. dmtcp_restart recreates every open file description once
 * (per computation where the processes share it, across fork or dup) and gives
 * each process its descriptors at their old numbers before its memory is
 * restored. Descriptors 0, 1 and 2 on a terminal, or on a pipe or socket that
 * leads outside the computation, are not recorded: they are dmtcp_restart's. */
#define DMTCP_FD_PIPE_READ   1u   /* ino: the pipe's identity; size: F_GETPIPE_SZ */
#define DMTCP_FD_PIPE_WRITE  2u
#define DMTCP_FD_FILE        3u   /* a regular file: path, offset, size, mtime */
#define DMTCP_FD_DIR         4u   /* a directory: path, offset */
#define DMTCP_FD_DEVICE      5u   /* a device other than a terminal (/dev/null, ...): path */
#define DMTCP_FD_FIFO        6u   /* a named pipe: path; bytes in flight drained like a pipe's */
#define DMTCP_FD_TTY         7u   /* the terminal the computation runs in: dmtcp_restart's terminal
                                     takes its place; u: termios, winsize, foreground group */
#define DMTCP_FD_PTY_MASTER  8u   /* a pseudo-terminal pair made by the program: u: termios, */
#define DMTCP_FD_PTY_SLAVE   9u   /*   winsize, pty number (ino: the pair's identity) */
#define DMTCP_FD_EVENTFD     10u  /* u[0]: counter, u[1]: EFD_SEMAPHORE */
#define DMTCP_FD_TIMERFD     11u  /* u[0]: clock, u[1]: TFD_TIMER_* flags, u[2..3]: it_value
                                     (remaining, ns), u[4]: it_interval ns, u[5]: expirations */
#define DMTCP_FD_SIGNALFD    12u  /* u[0]: the signal mask */
#define DMTCP_FD_EPOLL       13u  /* extras: DMTCP_FX_EPOLL */
#define DMTCP_FD_INOTIFY     14u  /* extras: DMTCP_FX_INOTIFY */
#define DMTCP_FD_MEMFD       15u  /* path: its name; u[0]: seals; contents in data_region */
#define DMTCP_FD_SOCKET      16u  /* u[0]: domain, u[1]: type, u[2]: protocol, u[3]: DMTCP_SK_*, u[4]: a
                                     Unix socket's inode, u[5]: its peer's, u[7]: DMTCP_SKO_*,
                                     u[8], u[9]: receive and send buffer sizes the program set (or 0),
                                     u[10]: SO_LINGER (on << 32 | seconds); extras: DMTCP_FX_SOCKADDR */
#define DMTCP_FD_OTHER       17u  /* a kind we cannot restore (path says which): comes back closed */

/* Socket state (u[3] of a DMTCP_FD_SOCKET record). */
#define DMTCP_SK_LISTENING   0x1u
#define DMTCP_SK_CONNECTED   0x2u
#define DMTCP_SK_BOUND       0x4u   /* bound to an address of its own (a port, a Unix name) */
#define DMTCP_SK_INSIDE      0x8u   /* its peer is a member of the computation */
#define DMTCP_SK_PEER_SHUT   0x10u  /* the peer had shut its side down */
#define DMTCP_SK_PENDING     0x20u  /* connected to a member's listener, not yet accepted */
#define DMTCP_SK_DRAINED     0x40u  /* (runtime) its bytes in flight were drained this generation */
#define DMTCP_SK_RESEND      0x80u  /* (runtime) PENDING: what it had sent is to be sent again */
#define DMTCP_SK_QUIET       0x100u /* (runtime) TCP: nothing of ours unsent or unacknowledged: no cookie */
#define DMTCP_SK_PEER_QUIET  0x200u /* (runtime) TCP: the same of the peer: all it sent is in our queue */
#define DMTCP_SK_PEEKED      0x400u /* (runtime) drained by MSG_PEEK: still queued, put back only at restart */
#define DMTCP_SK_TAKEN       0x800u /* (runtime) TCP: its peer, a member's accepted end, was closed with bytes still
                                       on their way: read to the end, given back on a new connection */
/* Socket options (u[7]). */
#define DMTCP_SKO_REUSEADDR  0x1u
#define DMTCP_SKO_REUSEPORT  0x2u
#define DMTCP_SKO_KEEPALIVE  0x4u
#define DMTCP_SKO_NODELAY    0x8u
#define DMTCP_SKO_BROADCAST  0x10u
#define DMTCP_SKO_V6ONLY     0x20u
#define DMTCP_SKO_PASSCRED   0x40u
#define DMTCP_SKO_OOBINLINE  0x80u

/* dmtcp_fd_record.flags */
#define DMTCP_FDF_LEADER     0x1u  /* this process leads the description (drains, saves its data) */
#define DMTCP_FDF_DELETED    0x2u  /* FILE: unlinked while open (contents in data_region) */
#define DMTCP_FDF_SAVED      0x4u  /* FILE: contents saved (--ckpt-open-files) in data_region */
#define DMTCP_FDF_CTTY       0x8u  /* TTY/PTY_SLAVE: the process's controlling terminal */
#define DMTCP_FDF_IN_FLIGHT  0x20u /* not the program's: a descriptor that was in flight in a socket
                                      (SCM_RIGHTS), held by the runtime until it is sent again */
#define DMTCP_FDF_OVERWRITE  0x10u /* SAVED: the saved contents replace the file at restart
                                      (--allow-file-overwrite); otherwise a file that is there is kept */

struct dmtcp_fd_record {
  int32_t  fd;                  /* descriptor number in the process */
  uint32_t kind;                /* DMTCP_FD_* */
  uint32_t fd_flags;            /* F_GETFD (FD_CLOEXEC) */
  uint32_t status_flags;        /* F_GETFL (access mode, O_APPEND, O_NONBLOCK, ...) */
  uint32_t desc_pid;            /* identity of the open file description in the computation: */
  int32_t  desc_fd;             /*   the pid of its leader and the leader's lowest descriptor of it */
  uint32_t flags;               /* DMTCP_FDF_* */
  int32_t  owner;               /* F_GETOWN (receiver of SIGIO), restored */
  uint64_t dev, ino;            /* st_dev, st_ino of the object */
  int64_t  offset;              /* file position */
  uint64_t size;                /* FILE: st_size; PIPE, FIFO: F_GETPIPE_SZ; MEMFD: st_size */
  int64_t  mtime_ns;            /* FILE: st_mtime */
  uint32_t mode;                /* st_mode */
  uint32_t data_region;         /* 1 + index of the DMTCP_REGION_FD_DATA region with its contents, or 0 */
  uint32_t path_off, path_len;  /* its path in the string table (readlink of /proc/self/fd/N) */
  uint32_t first_extra, num_extras; /* its entries in the extras table */
  uint64_t u[12];               /* kind-specific, see DMTCP_FD_* */
};

/* Bounds a reader enforces. */
#define DMTCP_MAX_FDS        8192u
#define DMTCP_MAX_FD_EXTRAS  16384u
#define DMTCP_MAX_STRINGS    (2u << 20)

/* Entries that belong to a descriptor (dmtcp_fd_extra.kind). */
#define DMTCP_FX_EPOLL    1u   /* a: target descriptor, b: events, c: data, d: target's inode */
#define DMTCP_FX_INOTIFY  2u   /* a: watch descriptor, b: mask; path: the watched path */
#define DMTCP_FX_LOCK     3u   /* a: DMTCP_LOCK_*, b: F_RDLCK or F_WRLCK, c: start, d: length (0: to EOF) */
#define DMTCP_FX_SOCKADDR 4u   /* a: 0 its own address, 1 its peer's, 2 (a listener that had
                                  to move at a restart) the address it had at the checkpoint,
                                  where its clients' connections lead; b: length; path: the
                                  struct sockaddr's bytes in hex */
#define DMTCP_LOCK_FLOCK  1u   /* flock(): belongs to the description */
#define DMTCP_LOCK_POSIX  2u   /* fcntl(F_SETLK): belongs to the process */
#define DMTCP_LOCK_OFD    3u   /* fcntl(F_OFD_SETLK): belongs to the description */

struct dmtcp_fd_extra {
  uint32_t kind;                /* DMTCP_FX_* */
  uint32_t a;
  uint64_t b, c, d;
  uint32_t path_off, path_len;  /* in the string table */
};

/* An IPC object the process knew at checkpoint: a System V shared memory
 * segment, semaphore set or message queue (attached, or obtained through
 * shmget/semget/msgget/semop/msgsnd/msgrcv), or a POSIX message queue it had
 * a descriptor of. dmtcp_restart recreates each object once (same kind and id
 * in several images: one object) in a new IPC namespace, with the same id.
 * A System V segment's contents are regions: the ones where the process had it
 * attached (path "/SYSV<key>", object_ino = shmid) and, for a segment it had
 * not attached, a DMTCP_RF_CONTENT_ONLY region. Semaphore values and messages
 * are the record's payload, at payload_offset from the start of the table:
 *   SEM: count uint16_t values, in order;
 *   MSG, MQ: count messages, each a struct dmtcp_ipc_msg then len bytes,
 *            padded to 8 bytes; in queue order. */
#define DMTCP_IPC_SHM 1u
#define DMTCP_IPC_SEM 2u
#define DMTCP_IPC_MSG 3u
#define DMTCP_IPC_MQ  4u                 /* POSIX message queue (name valid) */

#define DMTCP_IPCF_REMOVED   0x1u        /* SHM: marked for removal (IPC_RMID while attached); MQ: unlinked */
#define DMTCP_IPCF_MESSAGES  0x2u        /* MQ: this image carries the queue's messages (its drainer's) */

struct dmtcp_ipc_record {
  uint32_t kind;                /* DMTCP_IPC_* */
  int32_t  id;                  /* shmid, semid, msqid; -1 for MQ */
  int32_t  key;                 /* SysV key (0 = IPC_PRIVATE) */
  uint32_t mode;                /* permission bits (0777) */
  uint32_t uid, gid;            /* owner */
  uint32_t flags;               /* DMTCP_IPCF_* */
  uint32_t count;               /* SEM: semaphores; MSG, MQ: messages in the payload */
  uint64_t size;                /* SHM: bytes; MSG: msg_qbytes; MQ: mq_msgsize */
  uint64_t limit;               /* MQ: mq_maxmsg; else 0 */
  uint64_t payload_offset;      /* from the start of the IPC table */
  uint64_t payload_len;
  char     name[256];           /* MQ: the queue's name ("/name") */
  uint64_t reserved[2];
};

struct dmtcp_ipc_msg {
  int64_t  type;                /* MSG: mtype (> 0); MQ: priority */
  uint32_t len;                 /* bytes of the message that follow */
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
  uint64_t file_size;           /* FILE kinds: the file's st_size and st_mtime at checkpoint */
  int64_t  file_mtime_ns;
  uint64_t file_hash;           /* FROM_FILE, FILE_SAME: XXH64 (seed 0) of the mapped bytes */
  char     path[256];           /* backing path or pseudo name ("[heap]", ...) */
};

struct dmtcp_chunk_header {
  uint32_t magic;               /* DMTCP_CHUNK_MAGIC */
  uint32_t codec;               /* DMTCP_CODEC_* for this chunk */
  uint32_t npages;              /* pages covered (<= DMTCP_CHUNK_PAGES) */
  uint32_t raw_len;             /* bytes of non-zero pages before compression */
  uint32_t stored_len;          /* bytes that follow this header */
  uint32_t reserved;            /* 0 */
  uint64_t checksum;            /* XXH64 of the stored_len bytes as stored, seeded with the
                                   XXH64 (seed 0) of this header with checksum = 0, so the
                                   header's own fields (bitmap, lengths) are covered too. Over
                                   the stored bytes, not the raw ones: verified before anything
                                   is decoded, also where nothing is (a FILE_SAME region mapped
                                   from its unchanged file), it costs a pass over the compressed
                                   bytes only, and it is computed from the very bytes written */
  uint64_t zero_bitmap[DMTCP_CHUNK_PAGES / 64]; /* bit i set: page i is all zero, not stored */
};

/* The zombie table: one entry per child of the process that had exited but
 * was not yet reaped (waited for) at checkpoint. dmtcp_restart has the process
 * create a child with that pid that ends at once the same way, so the
 * program's waitpid/wait4/waitid gets exactly what it would have got. A zombie
 * is not a member of the computation: it has no image of its own. */
#define DMTCP_ZOMBIE_EXITED  1u   /* status: the exit code (0..255); waitid's CLD_EXITED */
#define DMTCP_ZOMBIE_KILLED  2u   /* status: the signal that killed it; CLD_KILLED */
#define DMTCP_ZOMBIE_DUMPED  3u   /* killed by the signal, with a core dump; CLD_DUMPED */
#define DMTCP_MAX_ZOMBIES    4096u

struct dmtcp_zombie {
  uint32_t pid;                 /* its pid (in the ids the program saw) */
  uint32_t how;                 /* DMTCP_ZOMBIE_* */
  uint32_t status;              /* exit code or signal number */
  uint32_t reserved;
};

/* One entry per thread of the process at checkpoint, the runtime's
 * checkpoint thread last (is_ckpt_thread; images written before it was listed
 * lack that entry). The registers of a user thread live in the signal frame
 * on its own stack (which is part of the memory image); the entries say how
 * to recreate the kernel thread, and every tid that dmtcp_restart must keep
 * free until its thread is back. */
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
#define DMTCP_RI_USERNS        0x8u   /* restored in a user namespace dmtcp_restart made: every
                                         thread drops the capabilities it has there once it no
                                         longer needs them (the program had none) */
#define DMTCP_RI_IPC_RESTORED  0x10u   /* the image's IPC objects were recreated (new IPC namespace):
                                         its ids are valid; without it they are not */

#endif /* DMTCP_IMAGE_FORMAT_H */
