/* The runtime's life: joining the coordinator before main, the checkpoint
 * thread that follows the coordinator's barrier (docs/protocol.md), and the
 * way back into the program after a restart. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/protocol.h"
#include "fds/fds.h"
#include "runtime.h"
#include "zstd_lazy.h"

struct settings g_settings;
pid_t g_ckpt_tid;
uint64_t g_ckpt_fs_base;
char g_program[256];
uint64_t g_generation;
uint32_t g_num_members = 1;
int g_runtime_active;

static struct ctx g_ckpt_ctx;
static int g_suspend_failed;
static struct dmtcp_restore_info g_restore_info;
static char g_image_final[2048], g_image_part[2048], g_image_old[2048];
static int g_old_image_pending;
static int g_image_unsynced;  /* FSYNC_AFTER: the image just renamed is not on disk yet */
_Atomic int g_said_bye;
pid_t g_standalone_owner;

static _Noreturn void fail(const char *what, const char *detail) {
  fprintf(stderr, "dmtcp: %s%s\n", what, detail ? detail : "");
  _exit(g_settings.fail_rc);
}

static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  return *end ? dflt : (int)n;
}

static void read_settings(void) {
  struct settings *s = &g_settings;
  s->fail_rc = env_int("DMTCP_FAIL_RC", 99);
  const char *host = getenv("DMTCP_COORD_HOST");
  if (!host) host = getenv("DMTCP_HOST");
  rt_strlcpy(s->coord_host, host && *host ? host : "localhost", sizeof s->coord_host);
  s->coord_port = env_int("DMTCP_COORD_PORT", env_int("DMTCP_PORT", 7779));
  const char *dir = getenv("DMTCP_CHECKPOINT_DIR");
  if (dir && *dir) rt_strlcpy(s->ckptdir, dir, sizeof s->ckptdir);
  else if (!getcwd(s->ckptdir, sizeof s->ckptdir)) rt_strlcpy(s->ckptdir, ".", sizeof s->ckptdir);
  const char *tmp = getenv("DMTCP_TMPDIR");
  rt_strlcpy(s->tmpdir, tmp && *tmp ? tmp : "/tmp", sizeof s->tmpdir);
  s->ckpt_signal = env_int("DMTCP_SIGCKPT", SIGUSR2);
  s->gzip = env_int("DMTCP_GZIP", 1) != 0;
  s->quiet = env_int("DMTCP_QUIET", 0);
  s->interval = env_int("DMTCP_CHECKPOINT_INTERVAL", -1);
  s->standalone = env_int("DMTCP_NO_COORDINATOR", 0) == 1;
  s->fsync = env_int("DMTCP_CKPT_FSYNC", FSYNC_AFTER);
  if (s->fsync != FSYNC_NEVER && s->fsync != FSYNC_BEFORE) s->fsync = FSYNC_AFTER;
  s->direct = env_int("DMTCP_CKPT_DIRECT", s->fsync == FSYNC_BEFORE) != 0;
  s->keep_previous = env_int("DMTCP_CKPT_KEEP_PREVIOUS", 1) != 0;
  s->ckpt_open_files = env_int("DMTCP_CKPT_OPEN_FILES", 0) != 0;
  s->allow_file_overwrite = env_int("DMTCP_ALLOW_OVERWRITE_WITH_CKPTED_FILES", 0) != 0;
  const char *pf = getenv("DMTCP_PORT_FILE");
  if (pf) rt_strlcpy(s->port_file, pf, sizeof s->port_file);
}

/* glibc keeps each thread's kernel tid in its struct pthread; after restart
 * the threads have new tids and that field must follow. Find where it is. */
static void find_pthread_tid_offset(void) {
  const char *self = (const char *)pthread_self();
  pid_t tid = rt_gettid();
  for (size_t off = 0; off < 4096; off += sizeof(pid_t)) {
    pid_t v;
    memcpy(&v, self + off, sizeof v);
    if (v == tid) {
      g_pthread_tid_offset = off;
      return;
    }
  }
  fail("cannot find the thread id in glibc's thread descriptor", NULL);
}

static void reply(const char *state, const char *image) {
  struct proto_msg m;
  proto_init(&m, MSG_REACHED);
  proto_add(&m, "state", state);
  proto_add_u64(&m, "generation", g_generation);
  if (image) {
    proto_add(&m, "image", image);
    proto_add(&m, "host", g_hostname);
    off_t size = 0;
    int fd = open(g_image_part, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      size = lseek(fd, 0, SEEK_END);
      close(fd);
    }
    proto_add_u64(&m, "image_bytes", (uint64_t)size);
  }
  coord_send(&m);
}

/* Writes the image; returns 0, -1 on failure, or 1 when we come back here in
 * the restarted process. */
int checkpoint_now(char *err, size_t errlen) {
  timers_save();
  pending_signals_save();
  if (ctx_save(&g_ckpt_ctx) != 0) { /* restarted */
    image_forget_private();
    return 1;
  }
  if (g_settings.keep_previous) rename(g_image_old, g_image_part); /* the spare, if there is one */
  int rc = image_write(g_image_part, &g_ckpt_ctx, err, errlen);
  return rc;
}

/* Renaming over the previous image costs up to 0.6 s per GiB while the
 * program is stopped: ext4 flushes a file renamed over another (auto_da_alloc)
 * and frees the old one's blocks and page cache. Exchanging the two names
 * costs neither; the previous image then moves to <image>.old and
 * release_old_image() keeps it as the spare for the next checkpoint
 * (DMTCP_CKPT_KEEP_PREVIOUS, the default) or deletes it once the program runs
 * again and, by default, the new image is on disk. Either way the final name
 * always names a complete image. */
void rename_image(void) {
  if (!g_image_part[0]) return;
  g_old_image_pending = 0;
  g_image_unsynced = g_settings.fsync == FSYNC_AFTER;
  if (renameat2(AT_FDCWD, g_image_part, AT_FDCWD, g_image_final, RENAME_EXCHANGE) == 0) {
    g_old_image_pending = rename(g_image_part, g_image_old) == 0;
    if (!g_old_image_pending) unlink(g_image_part);
  } else if (rename(g_image_part, g_image_final) != 0) {  /* no previous image, or no exchange here */
    rt_log("cannot rename image ", g_image_part);
    g_image_unsynced = 0;
  }
  g_image_part[0] = '\0';
}

/* FSYNC_AFTER: the image and the renames reach the disk while the program
 * runs. Until they have, the previous image is kept as <image>.old: a crash
 * of the machine in between leaves a complete image on disk either way.
 * With DMTCP_CKPT_KEEP_PREVIOUS (the default) it is kept after that too: it
 * is one generation back, and the next checkpoint is written over it in
 * place (image_write.c, open_image), faster than into a new file. */
static int sync_image(void) {
  g_image_unsynced = 0;
  int fd = open(g_image_final, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    const char *why = strerror(errno);
    if (fd >= 0) close(fd);
    rt_log("the checkpoint image may not be on disk: ", why);
    if (g_old_image_pending) rt_log("the previous image is kept: ", g_image_old);
    return -1;
  }
  close(fd);
  int dir = open(g_settings.ckptdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return 0;
}

void release_old_image(void) {
  if (g_image_unsynced && sync_image() != 0) {
    g_old_image_pending = 0;
    return;
  }
  if (g_old_image_pending && !g_settings.keep_previous) unlink(g_image_old);
  g_old_image_pending = 0;
}

void discard_image(void) {
  if (g_image_part[0]) unlink(g_image_part);
  g_image_part[0] = '\0';
}

/* <ckptdir>/ckpt_<program>_<upid>.dmtcp, its .part and its .old. No snprintf: user
 * threads are stopped and may hold stdio locks. */
void set_image_names(void) {
  const char *parts[] = {g_settings.ckptdir, "/ckpt_", g_program, "_", g_upid, ".dmtcp"};
  size_t n = 0;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    n += rt_strlcpy(g_image_final + n, parts[i], sizeof g_image_final - n - 8);
  rt_strlcpy(g_image_part, g_image_final, sizeof g_image_part);
  rt_strlcpy(g_image_part + n, ".part", sizeof g_image_part - n);
  rt_strlcpy(g_image_old, g_image_final, sizeof g_image_old);
  rt_strlcpy(g_image_old + n, ".old", sizeof g_image_old - n);
}

static void after_restart(void);

/* What the checkpoint thread holds while a barrier is in progress, so that
 * losing the coordinator then leaves nothing stuck: the user threads parked
 * (and the fork guard) by a checkpoint (1) or since the restart (2), and
 * whether the drained bytes went back already. */
static int g_parked;
static int g_refilled;

static void on_advance(struct proto_msg *m) {
  char state[64];
  proto_get(m, "state", state, sizeof state);
  g_generation = (uint64_t)proto_get_ll(m, "generation", (long long)g_generation);
  if (strcmp(state, "SUSPENDED") == 0) {
    zstd_before_checkpoint(); /* the loader's lock: while no thread is parked */
    fork_guard_lock();  /* released with the threads */
    g_parked = 1;
    g_refilled = 0;
    g_suspend_failed = suspend_all_threads() != 0;
    if (g_suspend_failed) rt_log("a thread did not stop for the checkpoint; this generation fails", NULL);
    fds_scan();
    posixmq_scan();
    if (!g_suspend_failed) children_wait_for_joining();
    reply(state, NULL);
  } else if (strcmp(state, "FD_LEADER_ELECTION") == 0) {
    fds_elect();
    posixmq_elect();
    reply(state, NULL);
  } else if (strcmp(state, "DRAINED") == 0) {
    fds_identify();
    fds_drain();
    posixmq_drain();
    fds_describe();
    reply(state, NULL);
  } else if (strcmp(state, "CHECKPOINTED") == 0) {
    long long members = proto_get_ll(m, "num_members", -1);
    if (members > 0) g_num_members = (uint32_t)members;
    set_image_names();
    char err[512];
    int rc;
    if (g_suspend_failed) {
      snprintf(err, sizeof err, "thread %d did not stop (does it block the checkpoint signal?)",
               (int)g_unstoppable_tid);
      rc = -1;
    } else {
      rc = checkpoint_now(err, sizeof err);
    }
    if (rc == 1) {
      after_restart();
      return;
    }
    if (rc != 0) {
      rt_log("checkpoint failed: ", err);
      struct proto_msg r;
      proto_init(&r, MSG_REACHED);
      proto_add(&r, "state", state);
      proto_add_u64(&r, "generation", g_generation);
      proto_add(&r, "error", err);
      coord_send(&r);
      return;
    }
    reply(state, g_image_final);
  } else if (strcmp(state, "NS_RESOLVED") == 0) {
    sysv_restart_resolved();  /* every process has attached its segments again */
    posixmq_restart_resolved();
    fds_rejoin_resolve();     /* connections to members restarted elsewhere */
    fds_moved_fetch();        /* listeners of the computation that are on another port now */
    reply(state, NULL);
  } else if (strcmp(state, "REFILLED") == 0) {
    rename_image();
    fds_resume();  /* also the restart barrier's step: fill the recreated pipes */
    posixmq_refill();
    g_refilled = 1;
    reply(state, NULL);
  } else if (strcmp(state, "RUNNING") == 0) {
    if (join_end_of_wait()) return; /* the end of a barrier it was not part of (join.c) */
    g_parked = 0;
    release_threads();
    fork_guard_unlock();
    reply(state, NULL);
    release_old_image();
  } else {
    /* NS_PUBLISHED: where the connections to members restarted elsewhere are made */
    if (strcmp(state, "NS_PUBLISHED") == 0) {
      fds_rejoin_publish();
      fds_moved_publish();
    }
    reply(state, NULL);
  }
}

static void on_abort(void) {
  g_parked = 0;
  discard_image();
  fds_resume();
  posixmq_refill();
  release_threads();
  fork_guard_unlock();
  reply("RUNNING", NULL);
}

static char g_ckpt_comm[16];

/* The checkpoint thread blocks every signal, so none meant for the program
 * lands on it, but glibc's own (sigfillset leaves them out): setuid() in a
 * threaded program waits until every thread has taken SIGSETXID. */
static void checkpoint_thread_mask(void) {
  sigset_t all;
  sigfillset(&all);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
}

void checkpoint_thread_setup(void) {
  g_ckpt_tid = rt_gettid();
  prctl(PR_GET_NAME, (unsigned long)g_ckpt_comm, 0, 0, 0);
  g_ckpt_fs_base = rt_get_fs();
  checkpoint_thread_mask();
}

/* The coordinator is gone in the middle of a barrier (or closed the connection
 * after our BYE while a checkpoint was parking the threads of this exiting
 * process). A checkpoint is over for this process: it resumes, keeping a .part
 * it wrote, which may be the image of a committed generation (spec-tla:
 * LoseCoord). A restart fails: the process exits, so that a partial
 * computation never runs. */
static void coordinator_lost(void) {
  if (g_parked == 2) {
    rt_log("lost the coordinator during the restart; this process ends", NULL);
    _exit(g_settings.fail_rc);
  }
  if (g_parked == 1) {
    g_parked = 0;
    if (!g_refilled) fds_resume();
    release_threads();
    fork_guard_unlock();
  }
}

/* One message at a time, holding the reader lock (coord.c), so that an exec
 * never comes between reading a message and acting on it: a message not read
 * yet stays in the socket for the new program image. While a message read
 * with a name-service answer is held (names.c), the user threads are parked
 * and cannot exec. */
static int next_message(struct proto_msg *m) {
  if (names_take_held(m)) {
    coord_reader_lock();
    return 0;
  }
  for (;;) {
    if (coord_wait_readable() != 0) return -1;
    coord_reader_lock();
    if (!g_welcome_pending) break;
    join_take_welcome(); /* the answer to a HELLO sent without waiting (join.c) */
    coord_reader_unlock();
  }
  if (proto_recv(g_coord_fd, m) != 0) {
    coord_reader_unlock();
    return -1;
  }
  return 0;
}

static void *checkpoint_thread(void *arg) {
  (void)arg;
  checkpoint_thread_setup();
  for (;;) {
    struct proto_msg m;
    if (next_message(&m) != 0) {
      /* after our own BYE the coordinator closing the connection is expected */
      if (g_settings.quiet < 2 && !atomic_load(&g_said_bye)) rt_log("lost the coordinator; checkpointing is off", NULL);
      coordinator_lost();
      return NULL;
    }
    switch (m.type) {
      case MSG_ADVANCE: on_advance(&m); break;
      case MSG_ABORT: on_abort(); break;
      case MSG_KILL: kill(getpid(), SIGKILL); break;
      default: break;
    }
    coord_reader_unlock();
  }
}

/* In the restarted process, on the checkpoint thread, after every user thread
 * has its kernel thread back: put back what the kernel forgot. */
void restore_process_after_restart(void) {
  g_ckpt_tid = rt_gettid();
  prctl(PR_SET_NAME, (unsigned long)g_ckpt_comm, 0, 0, 0);
  checkpoint_thread_mask(); /* the restorer blocked glibc's signals too */
  for (int i = 0; i < g_nthreads; i++) {
    struct thread_slot *t = &g_threads[i];
    if (t->tid <= 0) continue;
    while (atomic_load(&t->state) == T_SUSPENDED) futex_wait(&t->state, T_SUSPENDED);
  }
  fds_after_restart();
  procstate_restore();
  timers_restore();          /* after the signal dispositions */
  pending_signals_restore(); /* after the timers: a timer signal names its timer */
  struct dmtcp_restore_info *ri = &g_restore_info;
  sysv_restarted(ri->flags);
  posixmq_restarted(ri->flags);
  if (ri->restorer_area) munmap((void *)(uintptr_t)ri->restorer_area, ri->restorer_area_len);
  if (ri->interval != UINT32_MAX) g_settings.interval = (int)ri->interval;
  if (ri->ckptdir[0]) rt_strlcpy(g_settings.ckptdir, ri->ckptdir, sizeof g_settings.ckptdir);
  if (ri->coord_host[0]) rt_strlcpy(g_settings.coord_host, ri->coord_host, sizeof g_settings.coord_host);
  if (ri->coord_port) g_settings.coord_port = (int)ri->coord_port;
  g_settings.quiet = (ri->flags & DMTCP_RI_QUIET) ? 1 : g_settings.quiet;
  gethostname(g_hostname, sizeof g_hostname - 1);
  g_image_part[0] = '\0';
  if (g_settings.standalone) g_standalone_owner = getpid();
  drop_capabilities(); /* the checkpoint thread's: procstate_restore was the last step to need them */
}

/* Then rejoin the coordinator and follow the restart barrier; the ADVANCE
 * RUNNING at its end releases the user threads through on_advance. */
static void after_restart(void) {
  restore_process_after_restart();
  g_parked = 2; /* until ADVANCE RUNNING of the restart barrier */
  g_welcome_pending = 0;
  int fd = proto_connect(g_settings.coord_host, g_settings.coord_port);
  if (fd < 0) {
    char port[16];
    snprintf(port, sizeof port, "%d", g_settings.coord_port);
    fprintf(stderr, "dmtcp_restart: cannot reach the coordinator at %s:%s: %s\n",
            g_settings.coord_host, port, strerror(errno));
    _exit(g_settings.fail_rc);
  }
  g_coord_fd = coord_high_fd(fd);
  g_coord_owner = getpid();
  join_hello_and_wait(g_restore_info.image_path);
}

/* Called by the restorer (dmtcp_restart) in the new main kernel thread, on the
 * restorer's stack, with every signal blocked. Never returns. */
__attribute__((visibility("default"))) void dmtcp_restore_entry(struct dmtcp_restore_info *info) {
  memcpy(&g_restore_info, info, sizeof g_restore_info);
  restore_user_threads(&g_restore_info, &g_ckpt_ctx);
}

static void start_checkpoint_thread(void) {
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* Born with every signal blocked: until it has run checkpoint_thread_setup(),
   * a signal the program sends to itself could land on it. */
  sigset_t all;
  sigfillset(&all);
  pthread_attr_setsigmask_np(&attr, &all);
  if (pthread_create(&th, &attr, g_settings.standalone ? standalone_thread : checkpoint_thread, NULL) != 0)
    fail("cannot start the checkpoint thread", NULL);
  pthread_attr_destroy(&attr);
}

/* In a forked child (pthread_atfork): the parent's coordinator connection and
 * checkpoint thread are the parent's; the child joins as a member of its own,
 * with its own image name, on the connection fd its parent made for it
 * (join.c; -1: it connects itself). */
void runtime_after_fork_child(int fd) {
  if (!g_runtime_active || g_settings.standalone) {
    if (fd >= 0) close(fd);
    if (g_runtime_active) standalone_after_fork_child();
    g_runtime_active = 0;
    return;
  }
  g_image_part[0] = '\0';
  g_old_image_pending = 0;
  g_image_unsynced = 0;
  join_after_fork_child(fd);
  start_checkpoint_thread();
}

__attribute__((constructor)) static void dmtcp_runtime_init(void) {
  const char *launched = getenv("DMTCP_LAUNCHED");
  if (!launched || strcmp(launched, "1") != 0) return;
  read_settings();
  if (g_settings.standalone) {
    /* The embedded coordinator serves the launched process only (as in DMTCP):
     * its descendants run on without checkpointing, and each checkpoint says how
     * many children it left out. */
    const char *owner = getenv("DMTCP_STANDALONE_PID");
    if (!owner || atoi(owner) != (int)getpid()) return;
    g_standalone_owner = getpid();
  }
  find_pthread_tid_offset();
  char exe[1024];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  const char *base = strrchr(exe, '/');
  rt_strlcpy(g_program, base ? base + 1 : exe, sizeof g_program);
  gethostname(g_hostname, sizeof g_hostname - 1);
  exec_capture_environment();
  g_runtime_active = 1;
  g_coord_owner = getpid();
  suspend_install_handler();
  if (g_settings.standalone) {
    join_make_upid();
    snprintf(g_comp_id, sizeof g_comp_id, "standalone-%.80s", g_upid);
  } else if (!join_adopt_exec_state()) {
    join_make_upid();
    join_connect_and_hello();
  }
  start_checkpoint_thread();
  fork_install_handlers();
  atexit(join_say_bye);
}
