/* Recreating a computation's IPC objects at restart (System V shared memory,
 * semaphores and message queues with their ids; POSIX message queues) in a
 * new IPC namespace. See sysv_restore.c. */
#ifndef DMTCP_SYSV_RESTORE_H
#define DMTCP_SYSV_RESTORE_H
#include <stddef.h>
#include <stdint.h>

#include "restart/image_read.h"
#include "restart/restorer.h"

/* Checks the IPC tables of all the images and that images naming the same
 * object agree; then lists the computation's objects, each once. 0, or -1
 * with the reason in err and the image to blame in *bad. Before anything else. */
int sysv_collect(const struct image *imgs, int n, int *bad, char *err, size_t errlen);
int sysv_count(void);   /* objects listed */
int sysv_count_kind(uint32_t kind);

/* After tree_enter_namespaces: a new IPC namespace for the computation, where
 * the objects get their ids back. 0 (ids are kept from now on), or -1 with why. */
int sysv_enter_namespace(char *why, size_t whylen);
int sysv_enabled(void);

/* In the namespace's process 1, before it creates the processes: every object,
 * with its id, contents and permissions. 0, or -1 after one line on stderr. */
int sysv_create_objects(void);

/* Region r of an image comes back attached with shmat (its segment is one of
 * the recreated objects): neither staged nor a shared memfd. */
int sysv_by_shmat(const struct dmtcp_region *r);

/* Whether [a, a+len) meets the whole extent of a segment that img attaches
 * (staging must stay out of it: the restorer attaches whole segments). */
int sysv_span_overlaps(const struct image *img, uint64_t a, uint64_t len);

/* Fills plan's attaches and holes for img's segments. 0, or -1 with err. */
int sysv_plan(const struct image *img, struct rs_plan *plan, char *err, size_t errlen);

#endif
