/* libzstd, loaded when the first compressed checkpoint needs it (zstd_lazy.c). */
#ifndef DMTCP_ZSTD_LAZY_H
#define DMTCP_ZSTD_LAZY_H
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

struct zstd_api {
  size_t (*compress2)(ZSTD_CCtx *, void *, size_t, const void *, size_t);
  unsigned (*is_error)(size_t);
  ZSTD_CCtx *(*create_cctx_advanced)(ZSTD_customMem);
  size_t (*free_cctx)(ZSTD_CCtx *);
  size_t (*set_parameter)(ZSTD_CCtx *, ZSTD_cParameter, int);
};

/* Set once zstd_load() has succeeded; all NULL before. */
extern struct zstd_api g_zstd;

/* Loads libzstd if it is not loaded: 0, or -1 (then images are written
 * uncompressed). Takes the dynamic loader's lock: call it before the user
 * threads are parked, never while they are. */
int zstd_load(void);
/* Before a checkpoint parks the threads: loads it if images are compressed,
 * saying once if it cannot. */
void zstd_before_checkpoint(void);
#endif
