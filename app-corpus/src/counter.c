/* A counter that keeps a shadow copy of itself and checks they agree. */
#include "progress.h"

int main(void) {
  volatile long n = 0, shadow = ~0L;
  for (;;) {
    if (shadow != ~n) damaged("counter and its shadow differ");
    progress(n);
    n++;
    shadow = ~n;
    tick(100);
  }
}
