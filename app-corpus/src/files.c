/* Files across a checkpoint, in two processes. The parent keeps: a data file
 * at a moving offset and a dup of it (one offset for both), an O_APPEND log,
 * a file unlinked while open (its contents exist only in the image), a
 * directory descriptor, /dev/null with close-on-exec, and locks (flock, a
 * POSIX range lock, an OFD lock) on a lock file. The child shares the
 * parent's descriptor of another file (inherited: one offset for both) and
 * checks the parent's locks from descriptors of its own. Both keep /proc
 * files open: the parent its own /proc/self/stat and /proc/self/task, the
 * child the parent's /proc/<pid>/stat; each must still name that process
 * after a restart. They take turns
 * over two pipes moving the shared offset, each checking the other's move.
 * Files on disk are not rolled back by a restart, so the checks look only at
 * what the program itself last did. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"

#define DATA_SIZE (1 << 20)
#define DELETED_SIZE 65536

static uint64_t pattern(uint64_t off) { return off * 0x9E3779B97F4A7C15ull ^ 0x5DEECE66Dull; }

static void fill(int fd, size_t size) {
  uint64_t buf[512];
  for (size_t off = 0; off < size; off += sizeof buf) {
    for (size_t k = 0; k < 512; k++) buf[k] = pattern(off + k * 8);
    if (pwrite(fd, buf, sizeof buf, (off_t)off) != (ssize_t)sizeof buf) damaged("cannot fill a file");
  }
}

static int check_at(int fd, uint64_t off) {
  uint64_t v;
  return pread(fd, &v, 8, (off_t)off) == 8 && v == pattern(off);
}

static void full_read(int fd, void *buf, size_t n, const char *what) {
  char *p = buf;
  while (n) {
    ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got == 0) exit(0); /* the other process is gone: the computation is being killed */
    if (got < 0) damaged(what);
    p += got;
    n -= (size_t)got;
  }
}

static void full_write(int fd, const void *buf, size_t n, const char *what) {
  while (write(fd, buf, n) != (ssize_t)n) {
    if (errno == EINTR) continue;
    if (errno == EPIPE) exit(0);
    damaged(what);
  }
}

/* Whether the /proc/<pid>/stat open at fd (read from its start) is pid's. */
static int stat_names(int fd, pid_t pid) {
  char buf[64];
  ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
  if (got <= 0) return 0;
  buf[got] = '\0';
  return strtol(buf, NULL, 10) == (long)pid;
}

/* The child: the other side of the shared offset, and the locks seen from outside. */
static void child(int shared, int from_parent, int to_parent) {
  pid_t parent = getppid();
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)parent);
  int parent_stat = open(path, O_RDONLY | O_CLOEXEC);
  if (parent_stat < 0) damaged("the child cannot open the parent's /proc/<pid>/stat");
  for (;;) {
    if (!stat_names(parent_stat, parent)) damaged("the child's open /proc/<parent>/stat is not the parent's");
    uint64_t want;
    full_read(from_parent, &want, sizeof want, "the child lost its pipe");
    if ((uint64_t)lseek(shared, 0, SEEK_CUR) != want) damaged("the inherited descriptor no longer shares its offset with the parent's");
    lseek(shared, (off_t)(want + 3), SEEK_SET);
    int lf = open("files-lock", O_RDWR | O_CLOEXEC);
    if (lf < 0) damaged("the child cannot open the lock file");
    if (flock(lf, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK) damaged("the parent's flock lock is gone");
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
    if (fcntl(lf, F_GETLK, &fl) != 0 || fl.l_type != F_WRLCK || fl.l_pid != parent)
      damaged("the parent's POSIX lock on bytes 0-99 is gone");
    struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 100};
    if (fcntl(lf, F_OFD_GETLK, &ofd) != 0 || ofd.l_type != F_RDLCK) damaged("the parent's OFD lock on bytes 200-299 is gone");
    close(lf);
    full_write(to_parent, &want, sizeof want, "the child lost its pipe");
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int shared = open("files-shared", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int lockf = open("files-lock", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (shared < 0 || lockf < 0 || ftruncate(lockf, 4096) != 0) damaged("cannot create the files");
  int down[2], up[2];
  if (pipe(down) || pipe(up)) damaged("pipe failed");
  fflush(stdout);
  if (fork() == 0) {
    close(down[1]);
    close(up[0]);
    close(lockf);
    child(shared, down[0], up[1]);
  }
  close(down[0]);
  close(up[1]);
  /* locks, held by the parent for good */
  if (flock(lockf, LOCK_EX) != 0) damaged("flock failed");
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
  if (fcntl(lockf, F_SETLK, &fl) != 0) damaged("F_SETLK failed");
  int ofdf = open("files-lock", O_RDWR | O_CLOEXEC);
  struct flock ofd = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 100};
  if (ofdf < 0 || fcntl(ofdf, F_OFD_SETLK, &ofd) != 0) damaged("F_OFD_SETLK failed");

  int data = open("files-data", O_RDWR | O_CREAT | O_TRUNC, 0600);
  int logf = open("files-append", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  int del = open("files-deleted", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  int self_stat = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  int self_task = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (data < 0 || logf < 0 || del < 0 || dir < 0 || devnull < 0 || self_stat < 0 || self_task < 0)
    damaged("cannot open the files");
  char own_tid[24];
  snprintf(own_tid, sizeof own_tid, "%d", (int)getpid()); /* the main thread's tid */
  fill(data, DATA_SIZE);
  fill(del, DELETED_SIZE);
  if (unlink("files-deleted") != 0) damaged("unlink failed");
  int dup_data = dup(data);
  struct stat dst;
  fstat(dir, &dst);
  uint64_t expect_pos = 0, turn = 0;
  for (long n = 0;; n++) {
    /* the data file's offset, and its dup's */
    if ((uint64_t)lseek(data, 0, SEEK_CUR) != expect_pos) damaged("the data file's offset moved");
    if (lseek(dup_data, 0, SEEK_CUR) != lseek(data, 0, SEEK_CUR)) damaged("a dup'ed descriptor no longer shares the offset");
    uint64_t v;
    if (read(dup_data, &v, 8) != 8 || v != pattern(expect_pos)) damaged("the data file's contents at its offset are wrong");
    expect_pos = (expect_pos + 8 + 4096 * 7) % DATA_SIZE & ~7ull;
    lseek(data, (off_t)expect_pos, SEEK_SET);
    if (!check_at(data, (uint64_t)(n * 8 % DATA_SIZE))) damaged("the data file's contents are wrong");
    /* the append log */
    int fl_now = fcntl(logf, F_GETFL);
    if (fl_now < 0 || !(fl_now & O_APPEND)) damaged("the log lost O_APPEND");
    struct stat before, after;
    fstat(logf, &before);
    if (write(logf, &n, sizeof n) != (ssize_t)sizeof n) damaged("cannot append to the log");
    fstat(logf, &after);
    if (after.st_size != before.st_size + (off_t)sizeof n) damaged("the log does not append");
    /* the unlinked file: only the image had it */
    struct stat ds;
    if (fstat(del, &ds) != 0 || ds.st_nlink != 0 || ds.st_size != DELETED_SIZE + 8) {
      if (n > 0 || ds.st_size != DELETED_SIZE) damaged("the unlinked file is not what it was");
    }
    if (!check_at(del, (uint64_t)(n * 8 % DELETED_SIZE))) damaged("the unlinked file's contents are wrong");
    int64_t last;
    if (n > 0 && (pread(del, &last, 8, DELETED_SIZE) != 8 || last != n - 1)) damaged("the unlinked file lost its last write");
    if (pwrite(del, &n, 8, DELETED_SIZE) != 8) damaged("cannot write the unlinked file");
    /* the directory, /dev/null and close-on-exec */
    struct stat now;
    if (fstat(dir, &now) != 0 || !S_ISDIR(now.st_mode) || now.st_ino != dst.st_ino) damaged("the directory descriptor changed");
    int probe = openat(dir, "files-data", O_RDONLY | O_CLOEXEC);
    if (probe < 0) damaged("openat through the directory descriptor failed");
    close(probe);
    if (write(devnull, &n, sizeof n) != (ssize_t)sizeof n) damaged("/dev/null does not take writes");
    if (!(fcntl(devnull, F_GETFD) & FD_CLOEXEC) || (fcntl(data, F_GETFD) & FD_CLOEXEC)) damaged("close-on-exec flags changed");
    /* its own /proc files */
    if (!stat_names(self_stat, getpid())) damaged("the open /proc/self/stat is not this process's");
    if (faccessat(self_task, own_tid, F_OK, 0) != 0) damaged("the open /proc/self/task does not list the main thread");
    /* the offset shared with the child */
    turn += 10;
    lseek(shared, (off_t)turn, SEEK_SET);
    full_write(down[1], &turn, sizeof turn, "the parent lost its pipe");
    uint64_t back;
    full_read(up[0], &back, sizeof back, "the parent lost its pipe");
    if (back != turn || (uint64_t)lseek(shared, 0, SEEK_CUR) != turn + 3)
      damaged("the inherited descriptor no longer shares its offset with the child's");
    progress(n);
    tick(100);
  }
}
