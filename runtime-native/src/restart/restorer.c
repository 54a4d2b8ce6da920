/* The restorer: runs from a copy of this code in the restorer area, on the
 * restorer stack, with every signal blocked, after dmtcp_restart has staged
 * the whole image and checked every checksum. It unmaps dmtcp_restart, moves
 * the live vdso/vvar to the image's addresses, sets the program break,
 * attaches System V segments, moves each staged region to its place with
 * mremap (no copy), and calls the
 * runtime's restore entry in the image.
 *
 * No libc, no globals, no string constants: only raw system calls and the
 * plan it is given, so the code works wherever it is copied. Async-signal-safe
 * by construction. Built with -fno-builtin -ffreestanding -fno-jump-tables
 * -fno-stack-protector. */
#include <stdint.h>

#include "restorer.h"

#define SECTION __attribute__((section("dmtcp_restorer")))

#define NR_CLOSE 3
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_MREMAP 25
#define NR_SHMAT 30
#define NR_EXIT_GROUP 231
#define NR_ARCH_PRCTL 158
#define ARCH_SET_FS 0x1002

SECTION static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

SECTION static void die(long code) {
  for (;;) sys6(NR_EXIT_GROUP, code, 0, 0, 0, 0, 0);
}

SECTION __attribute__((noreturn, used)) void restorer_main(struct rs_plan *p) {
  for (uint32_t i = 0; i < p->n_unmap; i++) sys6(NR_MUNMAP, (long)p->unmap[i].start, (long)p->unmap[i].len, 0, 0, 0, 0);
  for (uint32_t i = 0; i < p->n_special; i++) {
    struct rs_move *m = &p->special[i];
    if (m->from == m->to) continue;
    long r = sys6(NR_MREMAP, (long)m->from, (long)m->len, (long)m->len, 3 /* MAYMOVE|FIXED */, (long)m->to, 0);
    if (r != (long)m->to) die(p->fail_rc);
  }
  /* The program break: shrink the kernel's to its minimum so that no later
   * brk() can unmap restored memory; then, if the kernel allows it, move it to
   * where the image had it, releasing the memory brk() mapped on the way. */
  sys6(NR_BRK, (long)p->start_brk, 0, 0, 0, 0, 0);
  if (p->saved_brk > p->start_brk) {
    long r = sys6(NR_BRK, (long)p->saved_brk, 0, 0, 0, 0, 0);
    if (r == (long)p->saved_brk) sys6(NR_MUNMAP, (long)p->start_brk, (long)(p->saved_brk - p->start_brk), 0, 0, 0, 0);
  }
  /* System V segments, whole, where the image had them (every staging area
   * lies outside them); then away with the parts the image did not have. */
  for (uint32_t i = 0; i < p->n_attach; i++) {
    struct rs_attach *a = &p->attach[i];
    if (sys6(NR_SHMAT, a->shmid, (long)a->addr, a->shmflg, 0, 0, 0) != (long)a->addr) die(p->fail_rc);
  }
  for (uint32_t i = 0; i < p->n_holes; i++) sys6(NR_MUNMAP, (long)p->holes[i].start, (long)p->holes[i].len, 0, 0, 0, 0);
  for (uint32_t i = 0; i < p->n_moves; i++) {
    struct rs_move *m = &p->moves[i];
    long r;
    if (m->flags & RS_SYSV) {
      r = sys6(NR_MPROTECT, (long)m->to, (long)m->len, (long)m->prot, 0, 0, 0) == 0 ? (long)m->to : -1;
    } else if (m->flags & (RS_SHARED | RS_FILE)) {
      long flags = ((m->flags & RS_SHARED) ? 0x01 : 0x02) | 0x10; /* SHARED or PRIVATE, FIXED */
      r = sys6(NR_MMAP, (long)m->to, (long)m->len, (long)m->prot, flags, m->fd, (long)m->offset);
    } else if (m->flags & RS_FRESH) {
      long flags = 0x02 | 0x20 | 0x10 | 0x4000; /* PRIVATE|ANONYMOUS|FIXED|NORESERVE */
      r = sys6(NR_MMAP, (long)m->to, (long)m->len, (long)m->prot, flags, -1, 0);
    } else {
      r = sys6(NR_MREMAP, (long)m->from, (long)m->len, (long)m->len, 3, (long)m->to, 0);
      if (r == (long)m->to) sys6(NR_MPROTECT, (long)m->to, (long)m->len, (long)m->prot, 0, 0, 0);
    }
    if (r != (long)m->to) die(p->fail_rc);
  }
  for (uint32_t i = 0; i < p->n_moves; i++)
    if (p->moves[i].flags & (RS_SHARED | RS_FILE)) sys6(NR_CLOSE, p->moves[i].fd, 0, 0, 0, 0, 0);
  sys6(NR_ARCH_PRCTL, ARCH_SET_FS, (long)p->fs_base, 0, 0, 0, 0);
  ((void (*)(void *))(uintptr_t)p->entry)((void *)(uintptr_t)p->info);
  die(p->fail_rc);
  __builtin_unreachable();
}
