/* Whether an executable can carry the runtime: a statically linked program
 * ignores LD_PRELOAD, so it cannot be checkpointed. */
#ifndef DMTCP_ELF_KIND_H
#define DMTCP_ELF_KIND_H

enum elf_kind {
  ELF_DYNAMIC,    /* has a program interpreter: the runtime is preloaded into it */
  ELF_STATIC,     /* an ELF executable without one */
  ELF_NOT_ELF     /* a script or anything else (or unreadable): the kernel decides */
};

/* Reads only the ELF and program headers, with raw system calls and no
 * allocation, so the exec wrappers may call it. */
enum elf_kind elf_kind_of(const char *path);

#endif
