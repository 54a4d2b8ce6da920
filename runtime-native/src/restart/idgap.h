/* Where a pid namespace numbers its own tasks (ns_last_pid) so that none of
 * them takes an id a restored process or thread still needs. */
#ifndef DMTCP_RESTART_IDGAP_H
#define DMTCP_RESTART_IDGAP_H

#include <stddef.h>
#include <stdint.h>

/* ids: the ids the images need, sorted ascending (0s and repeats are
 * ignored; pid 1 counts as taken either way). Sets *last to the value for
 * ns_last_pid that makes the next `room` ids the kernel hands out on its own,
 * last + 1 .. last + room, ones no image needs, all below pid_max: above the
 * highest id when they fit there, else the lowest gap between ids that holds
 * them. Returns 0, or -1 when no gap is that large. */
int idgap_last_pid(const uint32_t *ids, size_t n, uint32_t pid_max, uint32_t room, uint32_t *last);

#endif
