/* A program with two temporary files open: one named in /tmp (mkstemp) and
 * one deleted while open (tmpfile). Every tick it appends a line to each and
 * reads each back whole, checking that it holds exactly the lines written so
 * far; the named one must still be the file at its path. A test deletes the
 * named file while the program is killed: after the restart the files must be
 * back with their contents at the checkpoint. Prints "TMPFILE path" first. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"

static char expected[1 << 20];
static size_t expected_len;

static void check_contents(int fd, const char *which) {
  static char back[sizeof expected];
  ssize_t got = pread(fd, back, sizeof back, 0);
  char what[96];
  if (got != (ssize_t)expected_len || memcmp(back, expected, expected_len) != 0) {
    snprintf(what, sizeof what, "%s: %zd bytes that are not the %zu written", which, got, expected_len);
    damaged(what);
  }
}

int main(void) {
  char path[] = "/tmp/dmtcp-tmpfiles-XXXXXX";
  int named = mkstemp(path);
  FILE *anon = tmpfile();
  if (named < 0 || !anon) damaged("cannot create the temporary files");
  int deleted = fileno(anon);
  printf("TMPFILE %s\n", path);
  for (long n = 0;; n++) {
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", n);
    if (expected_len + (size_t)len > sizeof expected) { /* start over, small */
      expected_len = 0;
      if (ftruncate(named, 0) != 0 || ftruncate(deleted, 0) != 0) damaged("ftruncate failed");
      lseek(named, 0, SEEK_SET);
      lseek(deleted, 0, SEEK_SET);
    }
    if (write(named, line, (size_t)len) != len || write(deleted, line, (size_t)len) != len) damaged("write failed");
    memcpy(expected + expected_len, line, (size_t)len);
    expected_len += (size_t)len;
    check_contents(named, "named file");
    check_contents(deleted, "deleted file");
    struct stat a, b;
    if (stat(path, &a) != 0 || fstat(named, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
      damaged("the named file is not the file at its path");
    if (fstat(deleted, &b) != 0 || b.st_nlink != 0) damaged("the deleted file has a name");
    progress(n);
    tick(100);
  }
}
