/* The descriptor table across a checkpoint (checkpoint side).
 *
 * Every descriptor of the process is listed, classified and described in a
 * dmtcp_fd_record (include/dmtcp/image_format.h), so that dmtcp_restart can
 * recreate each open file description once and give every process its
 * descriptors at their old numbers. The work follows the barrier
 * (docs/protocol.md 3.4), on the checkpoint thread while every user thread of
 * every member is parked:
 *
 *   SUSPENDED           fds_scan: list and classify the descriptors;
 *   FD_LEADER_ELECTION  fds_elect: every holder of a description makes
 *                       itself its owner (F_SETOWN); the last one wins;
 *   DRAINED             fds_identify: each description gets its identity
 *                       (leader pid, leader's lowest descriptor; kcmp finds
 *                       it); fds_drain: leaders empty pipes and FIFOs;
 *                       fds_describe: the rest of each record (fdinfo,
 *                       termios, locks, contents of unlinked files);
 *   CHECKPOINTED        image_write takes fds_table();
 *   REFILLED            fds_resume: leaders refill, owners are restored,
 *                       temporary mappings go (also on ABORT).
 *
 * No malloc, no stdio: parked threads may hold their locks. State lives in
 * static memory, which is part of the image, so the restarted process finds
 * its drained bytes there. */
#ifndef DMTCP_LIB_FDS_H
#define DMTCP_LIB_FDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "dmtcp/image_format.h"

#define FDS_MAX DMTCP_MAX_FDS
#define FDS_MAX_EXTRAS DMTCP_MAX_FD_EXTRAS
#define FDS_STRINGS DMTCP_MAX_STRINGS

struct fd_entry {
  struct dmtcp_fd_record rec;
  int saved_owner;
  char *data;               /* PIPE/FIFO leader: the drained bytes (rt_mmap), or NULL */
  size_t len, cap;
  void *map;                /* a temporary mapping of the file's contents, or NULL */
  size_t map_len;
  int identified;           /* its description's identity is known */
  int carrier;              /* IN_FLIGHT: 1 + the index of the socket entry it travels in */
  size_t in_flight_at;      /* IN_FLIGHT: the offset in the carrier's drained bytes it came with */
  size_t pty_split;         /* PTY master: data holds split bytes for the master to read, then the slave's */
};

struct fd_table {
  struct fd_entry *entries;
  uint32_t n;
  struct dmtcp_fd_extra *extras;
  uint32_t nextras;
  const char *strings;
  uint32_t strings_len;
};

/* fdtable.c */
void fds_scan(void);
void fds_elect(void);
void fds_identify(void);
void fds_drain(void);
void fds_describe(void);
void fds_resume(void);
/* In the restarted process: the temporary mappings were not restored. */
void fds_after_restart(void);
int fds_restarted(void);            /* this is the restart barrier (until its REFILLED is done) */
const struct fd_table *fds_table(void);
/* image_write: the region at [start, end) is a file's contents (fds_describe
 * mapped it): returns the record that owns it, or NULL. */
struct dmtcp_fd_record *fds_record_of_mapping(uint64_t start, uint64_t end);
/* A descriptor of the runtime itself (a command connection): never saved. */
void fds_set_private(int fd);

/* Adding to the tables (fdtable.c); 0, or -1 when they are full. */
int fds_add_string(const char *s, uint32_t *off, uint32_t *len);
struct dmtcp_fd_extra *fds_add_extra(struct fd_entry *owner);

/* A descriptor received while draining socket carrier (fd_sockets.c): kept in
 * the table, flagged in flight, until it is sent back at refill. */
void fds_add_in_flight(struct fd_entry *carrier, int fd, size_t at);
int fds_in_flight_of(const struct fd_entry *carrier, int *out, size_t *at, int cap);
void fds_close_in_flight(const struct fd_entry *carrier);

/* fd_sockets.c */
void fd_describe_socket(struct fd_entry *e);
void fds_publish_sockets(void);     /* FD_LEADER_ELECTION */
void fds_find_socket_peers(void);   /* DRAINED, before draining */
void fds_drain_sockets(void);
void fds_refill_sockets(void);
/* "tcp a:p -> b:q", "unix /path": a socket for messages. */
void fds_socket_name(const struct fd_entry *e, char *out, size_t cap);
/* The name-service keys of a socket's end and of its peer's end. */
void fds_socket_keys(const struct fd_entry *e, char *mine, char *peer, size_t cap);

/* fd_tcp_children.c: the server-side ends of connections to TCP listeners on
 * these ports that no process holds (family AF_INET or AF_INET6): fn gets
 * each, waiting 1 when it is in the accept queue, 0 when it was accepted and
 * closed with bytes still on their way. 0, or -1 when the kernel cannot say. */
struct sockaddr_storage;
typedef void (*fds_tcp_child_fn)(void *ctx, const struct sockaddr_storage *server, unsigned server_len,
                                 const struct sockaddr_storage *client, unsigned client_len, int waiting);
int fds_tcp_children(int family, const uint16_t *ports, int nports, fds_tcp_child_fn fn, void *ctx);

/* fd_moved.c: listeners that came back on another port (restart barrier) */
void fds_moved_publish(void);       /* NS_PUBLISHED */
void fds_moved_fetch(void);         /* NS_RESOLVED */
/* A listener that had to move: the address the program bound (hex), or NULL. */
const char *fds_moved_original(int fd);

/* fd_reconnect.c: connections whose ends were restarted apart (restart barrier) */
void fds_rejoin_publish(void);      /* NS_PUBLISHED */
void fds_rejoin_resolve(void);      /* NS_RESOLVED */

/* fd_pipes.c: bytes in flight of pipes and FIFOs */
void fd_pipe_drain(struct fd_entry *e);
void fd_pipe_refill(struct fd_entry *e);
void fd_pipe_release(struct fd_entry *e);

/* fd_ptys.c: bytes in flight of a pty pair, both ways, by its master's leader */
void fd_pty_drain(struct fd_entry *e);
void fd_pty_refill(struct fd_entry *e);

/* fd_info.c: what the kernel tells of each kind (fdinfo, ioctls) */
uint32_t fd_classify(int fd, const char *link, const struct stat *st);
void fd_describe_kind(struct fd_entry *e);
void fd_describe_locks(struct fd_entry *e);

/* fd_contents.c: contents of unlinked files and memfds (and all files with
 * --ckpt-open-files), mapped so that image_write stores them as regions */
void fd_map_contents(struct fd_entry *e);
void fds_contents_reset(void);
void fd_unmap_contents(struct fd_entry *e);

/* inotify_paths.c: the paths inotify watches were added with (the kernel
 * keeps only the inode) */
int inotify_path_of(uint64_t dev, uint64_t ino, char *out, size_t cap);

#endif
