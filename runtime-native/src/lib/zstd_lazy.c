/* libzstd is loaded by the checkpoint thread just before its first
 * compressed checkpoint, not by every process at start: most processes of a
 * computation (a shell's commands, a build's compiler passes) end before any
 * checkpoint, and loading and relocating the library cost each of them about
 * a third of a millisecond. After a restart the library is in the image. */
#include "zstd_lazy.h"

#include <dlfcn.h>
#include <string.h>

#include "runtime.h"

struct zstd_api g_zstd;

/* dlsym's object pointer as a function pointer, without a cast C forbids. */
static int bind(void *lib, const char *name, void *fn_ptr) {
  void *sym = dlsym(lib, name);
  memcpy(fn_ptr, &sym, sizeof sym);
  return sym != NULL;
}

int zstd_load(void) {
  if (g_zstd.compress2) return 0;
  void *lib = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return -1;
  struct zstd_api z;
  if (!bind(lib, "ZSTD_compress2", &z.compress2) || !bind(lib, "ZSTD_isError", &z.is_error) ||
      !bind(lib, "ZSTD_createCCtx_advanced", &z.create_cctx_advanced) ||
      !bind(lib, "ZSTD_freeCCtx", &z.free_cctx) || !bind(lib, "ZSTD_CCtx_setParameter", &z.set_parameter)) {
    dlclose(lib);
    return -1;
  }
  g_zstd = z;
  return 0;
}

void zstd_before_checkpoint(void) {
  static int said;
  if (!g_settings.gzip || zstd_load() == 0 || said) return;
  said = 1;
  rt_log("cannot load libzstd.so.1: images are written uncompressed", NULL);
}
