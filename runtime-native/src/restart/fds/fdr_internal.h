/* Shared between the parts of restart/fds/. */
#ifndef DMTCP_RESTART_FDR_INTERNAL_H
#define DMTCP_RESTART_FDR_INTERNAL_H

#include "restart/fds/fdrestore.h"

struct fdr_desc {
  uint32_t pid;                       /* identity: leader pid and its lowest descriptor */
  int32_t fd;
  const struct image *img;            /* the image of rec */
  const struct dmtcp_fd_record *rec;  /* the leader's record, or one of its holders' */
  int parked;                         /* the description, in the creating process, or -1 */
};

struct fdr_state {
  const struct image *images;
  int n, quiet;
  int terminal;                       /* dmtcp_restart's first descriptor on a terminal, or -1 */
  int base;                           /* parking base */
  struct fdr_desc *descs;
  int ndescs;
  int extra_fds[1024];                /* kept open until every process has its own (FIFO readers) */
  int nextra_fds;
};
extern struct fdr_state g_fdr;

struct fdr_desc *fdr_find(uint32_t pid, int32_t fd);
struct fdr_desc *fdr_desc_of(const struct dmtcp_fd_record *r);
const char *fdr_path(const struct image *img, const struct dmtcp_fd_record *r);
int fdr_pty_pair_inside(uint64_t index);
int fdr_member_proc_path(const char *path, uint32_t *pid, const char **rest);

/* how a file, directory or device is opened again */
#define OPEN_FLAGS(r) ((int)((r)->status_flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | __O_TMPFILE)) | O_CLOEXEC | O_NOCTTY)

/* sockets.c */
int fdr_sockets_begin(void);
int fdr_socket_pass(const struct fdr_desc *d);   /* 0 listeners, 1 other sockets, 2 not a socket */
int fdr_make_socket(const struct fdr_desc *d);
void fdr_sockets_keep(const struct fdr_desc *d, int fd);
void fdr_sockets_end(void);

#endif
