/* Floating-point and SIMD registers live across the checkpoint: a long loop
 * keeps its accumulators in x87/SSE/AVX registers and checks the exact result
 * (integer-valued doubles, so no rounding) after each round. */
#include <immintrin.h>

#include "progress.h"

__attribute__((target("avx"))) static int round_avx(long iterations) {
  __m256d acc = _mm256_set1_pd(0.0), inc = _mm256_set_pd(1.0, 2.0, 3.0, 4.0);
  for (long i = 0; i < iterations; i++) acc = _mm256_add_pd(acc, inc);
  double out[4];
  _mm256_storeu_pd(out, acc);
  return out[0] == 4.0 * iterations && out[1] == 3.0 * iterations && out[2] == 2.0 * iterations &&
         out[3] == 1.0 * iterations;
}

static int round_sse(long iterations) {
  __m128d acc = _mm_set1_pd(0.0), inc = _mm_set_pd(5.0, 7.0);
  long double x87 = 0.0L;
  for (long i = 0; i < iterations; i++) {
    acc = _mm_add_pd(acc, inc);
    x87 += 3.0L;
  }
  double out[2];
  _mm_storeu_pd(out, acc);
  return out[0] == 7.0 * iterations && out[1] == 5.0 * iterations && x87 == 3.0L * iterations;
}

int main(void) {
  int avx = __builtin_cpu_supports("avx");
  for (long n = 0;; n++) {
    if (!round_sse(20000000)) damaged("SSE or x87 registers changed");
    if (avx && !round_avx(20000000)) damaged("AVX registers changed");
    progress(n);
  }
}
