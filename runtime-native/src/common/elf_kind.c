#include "common/elf_kind.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum elf_kind elf_kind_of(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ELF_NOT_ELF;
  Elf64_Ehdr eh;
  enum elf_kind kind = ELF_NOT_ELF;
  if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
      eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum < 256) {
    kind = ELF_STATIC;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
      Elf64_Phdr ph;
      if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph) {
        kind = ELF_NOT_ELF;
        break;
      }
      if (ph.p_type == PT_INTERP) {
        kind = ELF_DYNAMIC;
        break;
      }
    }
    /* The dynamic loader run directly (ld-linux-x86-64.so.2 prog) has no
     * interpreter either, but it honours LD_PRELOAD for the program it loads. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (kind == ELF_STATIC && eh.e_type == ET_DYN && strncmp(base, "ld-", 3) == 0) kind = ELF_DYNAMIC;
  }
  close(fd);
  return kind;
}
