#include "restart/idgap.h"

int idgap_last_pid(const uint32_t *ids, size_t n, uint32_t pid_max, uint32_t room, uint32_t *last) {
  uint64_t top = 1;
  for (size_t i = 0; i < n; i++)
    if (ids[i] > top) top = ids[i];
  if (top + room < pid_max) {
    *last = (uint32_t)top;
    return 0;
  }
  /* The kernel hands ids out upwards from last + 1 and wraps around at
   * pid_max, onto low ids an image may need: a gap lower down, then. */
  uint64_t prev = 1;
  for (size_t i = 0; i <= n; i++) {
    uint64_t id = i < n ? ids[i] : pid_max;
    if (id > pid_max) id = pid_max;
    if (id <= prev) continue;
    if (id - prev - 1 >= room) {
      *last = (uint32_t)prev;
      return 0;
    }
    prev = id;
  }
  return -1;
}
