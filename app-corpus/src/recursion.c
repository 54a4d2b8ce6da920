/* Goes DEPTH frames deep (default 50000), each frame holding values derived
 * from its depth and linked to the frame above, then counts at the bottom and
 * walks every frame to check it each tick. */
#include "progress.h"

struct frame {
  const struct frame *up;
  long depth;
  long values[4];
};

static long depth_wanted;

static void check(const struct frame *f) {
  long expect = depth_wanted;
  for (; f; f = f->up, expect--) {
    if (f->depth != expect) damaged("a frame has the wrong depth");
    for (int i = 0; i < 4; i++)
      if (f->values[i] != f->depth * 31 + i) damaged("a frame's values changed");
  }
  if (expect != 0) damaged("frames are missing");
}

static void descend(const struct frame *up, long depth) {
  struct frame f = {up, depth, {depth * 31, depth * 31 + 1, depth * 31 + 2, depth * 31 + 3}};
  if (depth < depth_wanted) {
    descend(&f, depth + 1);
    __asm__ volatile("" ::: "memory"); /* not a tail call: every frame stays */
    return;
  }
  for (long n = 0;; n++) {
    check(&f);
    progress(n);
    tick(100);
  }
}

int main(int argc, char **argv) {
  depth_wanted = argc > 1 ? atol(argv[1]) : 50000;
  descend(NULL, 1);
}
