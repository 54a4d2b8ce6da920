/* Where the restart's pid namespace numbers its own tasks: the ids it hands
 * out next are none of the images', and below pid_max; past pid_max, in the
 * lowest gap between the images' ids that holds them all; -1 when none does. */
#include <stdint.h>

#include "check.h"
#include "restart/idgap.h"

/* The next `room` ids after last are all free of ids[] and below pid_max. */
static int room_is_free(const uint32_t *ids, size_t n, uint32_t pid_max, uint32_t room, uint32_t last) {
  if ((uint64_t)last + room >= pid_max || last == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (ids[i] > last && ids[i] <= last + room) return 0;
  return 1;
}

int main(void) {
  uint32_t last = 0;
  /* the usual case: above the highest id, the checkpoint thread's included */
  const uint32_t family[] = {14536, 18017, 18212, 18213, 18228, 18229, 18230, 18231};
  CHECK(idgap_last_pid(family, 8, 32768, 80, &last) == 0 && last == 18231);
  CHECK(room_is_free(family, 8, 32768, 80, last));

  /* launched just before the kernel wrapped around (to 300): no room at the top; below the
   * low ids when they fit there, else above them */
  const uint32_t wrapped[] = {301, 302, 303, 304, 32764, 32765, 32766, 32767};
  CHECK(idgap_last_pid(wrapped, 8, 32768, 80, &last) == 0 && last == 1);
  CHECK(room_is_free(wrapped, 8, 32768, 80, last));
  CHECK(idgap_last_pid(wrapped, 8, 32768, 300, &last) == 0 && last == 304);
  CHECK(room_is_free(wrapped, 8, 32768, 300, last));

  /* the lowest gap that is large enough, not the first one */
  const uint32_t gaps[] = {10, 20, 200, 32760};
  CHECK(idgap_last_pid(gaps, 4, 32768, 100, &last) == 0 && last == 20);
  CHECK(room_is_free(gaps, 4, 32768, 100, last));

  /* below the first id, counting pid 1 as taken; repeats and 0s are ignored */
  const uint32_t low[] = {0, 0, 500, 500, 32700};
  CHECK(idgap_last_pid(low, 5, 32768, 100, &last) == 0 && last == 1);
  CHECK(room_is_free(low, 5, 32768, 100, last));

  /* exactly enough room at the top: the last one is pid_max - 1 */
  const uint32_t tight[] = {100, 32667};
  CHECK(idgap_last_pid(tight, 2, 32768, 100, &last) == 0 && last == 32667);
  CHECK(idgap_last_pid(tight, 2, 32768, 101, &last) == 0 && last == 100);

  /* no gap large enough anywhere */
  const uint32_t dense[] = {50, 100, 150, 200};
  CHECK(idgap_last_pid(dense, 4, 240, 60, &last) == -1);

  /* an id at or past pid_max (an image from a host with a larger pid_max) is no room */
  const uint32_t past[] = {7, 40000};
  CHECK(idgap_last_pid(past, 2, 32768, 100, &last) == 0 && last == 7);

  /* no ids at all */
  CHECK(idgap_last_pid(NULL, 0, 32768, 100, &last) == 0 && last == 1);
  CHECK_DONE("test_idgap");
}
