/* The plan the restorer carries out after dmtcp_restart has staged an image.
 * Shared by dmtcp_restart.c (which fills it) and restorer.c (which runs it
 * with no libc, from a copy of its code in the restorer area). */
#ifndef DMTCP_RESTORER_H
#define DMTCP_RESTORER_H
#include <stdint.h>

#define RS_FRESH 0x1u     /* no staged data: map fresh anonymous memory */
#define RS_GROWSDOWN 0x2u
#define RS_SHARED 0x4u    /* map fd at offset, MAP_SHARED: a memory object shared with other processes */
#define RS_FILE 0x8u      /* map fd at offset, MAP_PRIVATE: a file mapping taken from the file as it is */
#define RS_SYSV 0x10u      /* part of a System V segment that plan->attach put in place: set its protection */

struct rs_range { uint64_t start, len; };

struct rs_move {
  uint64_t from, to, len;  /* from: staging (or the live vdso/vvar); unused for RS_FRESH */
  uint32_t prot, flags;
  int32_t fd;              /* RS_SHARED, RS_FILE: the object's descriptor (closed once mapped) */
  uint32_t pad;
  uint64_t offset;         /* RS_SHARED, RS_FILE: offset of the mapping in the object */
};

/* A System V segment attached whole at addr (shmat), before the regions are
 * moved; then the parts of it the image did not have are unmapped (holes). */
struct rs_attach {
  uint64_t addr, len;
  int32_t shmid, shmflg;
};
#define RS_MAX_ATTACH 256

struct rs_plan {
  uint64_t entry;          /* restore_entry in the image */
  uint64_t fs_base;        /* thread pointer to install */
  uint64_t info;           /* struct dmtcp_restore_info * (in the restorer area) */
  uint64_t start_brk;      /* the kernel's start of brk for this process */
  uint64_t saved_brk;      /* the image's program break */
  uint32_t n_unmap, n_special, n_moves, fail_rc;
  struct rs_range unmap[1024];
  struct rs_move special[8];  /* live [vvar]/[vvar_vclock]/[vdso] to the image's addresses */
  uint32_t n_attach, n_holes;
  struct rs_attach attach[RS_MAX_ATTACH];
  struct rs_range holes[2 * RS_MAX_ATTACH];
  struct rs_move moves[];     /* every region of the image, in address order */
};

/* The entry of the restorer code, and the bounds of the code to copy. */
void restorer_main(struct rs_plan *plan);
extern const char __start_dmtcp_restorer[], __stop_dmtcp_restorer[];
#endif
