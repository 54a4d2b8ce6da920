/* The IPC table of an image (include/dmtcp/image_format.h): checking it, and
 * reading it once checked. Shared by dmtcp_restart and readdmtcp. */
#ifndef DMTCP_IPC_IMAGE_H
#define DMTCP_IPC_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#include "restart/image_read.h"

/* Checks every record of img's IPC table (kinds, payload bounds, counts,
 * values) and the regions that belong to System V segments (within their
 * segment; content-only regions name a segment of the table). 0, or -1 with
 * the reason in err. Call after image_open. */
int ipc_check_table(const struct image *img, char *err, size_t errlen);

/* Records (img->h->num_ipc of them) and a record's payload. */
const struct dmtcp_ipc_record *ipc_records(const struct image *img);
const unsigned char *ipc_payload(const struct image *img, const struct dmtcp_ipc_record *r);

/* The record of img for kind and id (SysV) or name (MQ), or NULL. */
const struct dmtcp_ipc_record *ipc_find(const struct image *img, uint32_t kind, int32_t id, const char *name);

/* The shmid behind region r if it maps a System V segment ("/SYSV<key>"
 * path, the shmid as inode) or holds one's contents; else -1. */
int ipc_region_shmid(const struct dmtcp_region *r);

/* The same object in two records (same kind and id, or name): whether they
 * agree (key, size, ...). 0, or -1 with what differs in err. */
int ipc_records_agree(const struct dmtcp_ipc_record *a, const struct dmtcp_ipc_record *b, char *err, size_t errlen);

/* "System V shared memory id 5", "POSIX message queue /q", ... */
void ipc_describe(const struct dmtcp_ipc_record *r, char *out, size_t outlen);

#endif
