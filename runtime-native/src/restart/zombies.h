/* Zombie children at restart: a child that had exited and was not reaped at
 * checkpoint is created again by its parent, with its pid, and ends at once
 * the way it ended, so the parent's wait gets what it would have got. */
#ifndef DMTCP_RESTART_ZOMBIES_H
#define DMTCP_RESTART_ZOMBIES_H

#include <stdint.h>

#include "restart/image_read.h"

/* In the process of img, in the pid namespace, before it restores itself:
 * creates its zombie children and returns once each is a zombie. A child that
 * cannot have its pid back (or its core-dump flag) is said in one line. */
void zombies_recreate(const struct image *img, int quiet);

/* Restarting without the pid namespace: one line if any image has zombies. */
void zombies_note_lost(const struct image *imgs, int n, int quiet);

#endif
