#!/usr/bin/env bash
# make-project.sh DIR N: a C project of N small files and a Makefile that
# compiles each (cc -O2 -c) and links them: spawn-heavy work for the overhead
# benchmark (make, gcc's driver, cc1, as and ld are each a process).
set -euo pipefail
dir=$1 n=$2
mkdir -p "$dir"
objs=""
for i in $(seq "$n"); do
  cat >"$dir/f$i.c" <<C
#include <string.h>
static int table$i[256];
int f$i(const char *s) {
  int h = $i;
  for (size_t k = 0; k < strlen(s); k++) h = h * 31 + s[k] + table$i[(unsigned char)s[k]];
  return h;
}
C
  objs="$objs f$i.o"
done
{
  echo "int main(void) { return 0; }" 
} >"$dir/main.c"
cat >"$dir/Makefile" <<M
OBJS =$objs main.o
prog: \$(OBJS)
	cc -o \$@ \$(OBJS)
%.o: %.c
	cc -O2 -c \$< -o \$@
M
