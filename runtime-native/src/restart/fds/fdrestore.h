/* Rebuilding the descriptor tables of restarted processes (the restart side
 * of include/dmtcp/image_format.h's descriptor table).
 *
 * Every open file description of the computation is recreated once, by the
 * process that creates the others (process 1 of the pid namespace, or the
 * restarting process itself when it restarts alone), and parked at a
 * descriptor above any the images use. Each process inherits the parked
 * descriptors, takes its own to their old numbers, sets up what belongs to
 * the process rather than the description (POSIX locks, epoll registrations,
 * the controlling terminal), and closes the rest. All of it happens before
 * the process's memory is restored, so a failure (a file that is gone) stops
 * the restart with one line, before anything of the image is mapped. */
#ifndef DMTCP_RESTART_FDRESTORE_H
#define DMTCP_RESTART_FDRESTORE_H

#include "restart/image_read.h"

/* Collects the descriptions of images[0..n). quiet: no notes. 0, or -1 with
 * a one-line message already printed. */
int fdr_plan(const struct image *images, int n, int quiet);

/* Creates every description of the plan, parked at descriptors >= the
 * parking base. shared_fd(dev, ino) gives the memfd a MAP_SHARED object was
 * recreated as (so a memfd descriptor and its mappings stay one object), or
 * -1. 0, or -1 with a one-line message already printed. */
int fdr_create(int (*shared_fd)(uint64_t dev, uint64_t ino));

/* A descriptor number above every one the images use (and above ours). */
int fdr_parking_base(void);

/* In the process of images[i]: its descriptors to their numbers, then its
 * locks, epoll registrations and terminal; the parked ones are closed. */
void fdr_take(int i);

/* Closes every parked descriptor (the creating process, once all have taken theirs). */
void fdr_close_parked(void);

/* Whether descriptor fd of images[i] is one of dmtcp_restart's own 0, 1, 2. */
int fdr_is_restart_stdio(int i, int fd);

/* contents.c: writes region data_region (1 + index, a DMTCP_REGION_FD_DATA
 * region) of img into fd, size bytes. 0, or -1 with err. */
int fdr_write_contents(const struct image *img, uint32_t data_region, int fd, uint64_t size, char *err, size_t errlen);

#endif
