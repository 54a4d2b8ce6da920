/* The /proc/self/maps parser, on sample lines and on the live file. */
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "lib/maps.h"

int main(void) {
  const char *text =
      "55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1234                       /usr/bin/cat\n"
      "7ffd1000-7ffd3000 rw-s 00001000 00:05 77                                 /dev/zero (deleted)\n"
      "7fff00000000-7fff00021000 rw-p 00000000 00:00 0                          [stack]\n"
      "7fff00100000-7fff00101000 ---p 00000000 00:00 0 \n";
  size_t pos = 0, len = strlen(text);
  struct map_entry e;
  CHECK(maps_next(text, len, &pos, &e) == 1);
  CHECK(e.start == 0x55d0c0a00000ull && e.end == 0x55d0c0a02000ull && e.prot == PROT_READ && !e.shared);
  CHECK(strcmp(e.path, "/usr/bin/cat") == 0 && e.dev == (0xfeull << 32 | 1) && e.ino == 1234);
  CHECK(maps_next(text, len, &pos, &e) == 1);
  CHECK(e.shared && e.offset == 0x1000 && e.prot == (PROT_READ | PROT_WRITE));
  CHECK(strcmp(e.path, "/dev/zero (deleted)") == 0 && e.dev == 5 && e.ino == 77);
  CHECK(maps_next(text, len, &pos, &e) == 1 && strcmp(e.path, "[stack]") == 0);
  CHECK(maps_next(text, len, &pos, &e) == 1 && e.prot == 0 && e.path[0] == '\0');
  CHECK(maps_next(text, len, &pos, &e) == 0);

  static char buf[1 << 20];
  long n = maps_read(buf, sizeof buf);
  CHECK(n > 0);
  int found_stack = 0;
  pos = 0;
  while (n > 0 && maps_next(buf, (size_t)n, &pos, &e)) found_stack |= strcmp(e.path, "[stack]") == 0;
  CHECK(found_stack);
  CHECK_DONE("test_maps");
}
