/* Internal interfaces of libdmtcp.so, the runtime preloaded into checkpointed processes. */
#ifndef DMTCP_RUNTIME_H
#define DMTCP_RUNTIME_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmtcp/image_format.h"

/* Callee-saved registers, stack pointer and resume address: enough to resume a
 * thread at the point where it called ctx_save (context_<arch>.S). */
struct ctx {
  uint64_t regs[8];
};
int ctx_save(struct ctx *c) __attribute__((returns_twice));
_Noreturn void ctx_restore(const struct ctx *c, int value);
/* Raw clone of a thread that resumes ctx with value 1 (context_<arch>.S). */
long clone_call(unsigned long flags, void *stack_top, void (*fn)(void *), void *arg, int *ctid);
long clone_resume(unsigned long flags, void *stack, int *ptid, int *ctid, uint64_t tls,
                  const struct ctx *c);
/* clone3 (struct clone_args *args of size bytes) of a thread that resumes ctx
 * with value 1; the tid or -errno. */
struct clone_args;
long clone3_resume(struct clone_args *args, unsigned long size, const struct ctx *c);

#define MAX_THREADS 4096

enum thread_state { T_FREE, T_SIGNALED, T_SUSPENDED, T_RESTORED };

struct thread_slot {
  pid_t tid;
  int is_main;
  _Atomic int state;
  struct ctx ctx;
  uint64_t fs_base;
  void *robust_head;
  size_t robust_len;
  stack_t altstack;
  char comm[16];           /* the thread's name (ps, top): the kernel forgets it */
};

/* When an image reaches the disk (DMTCP_CKPT_FSYNC). Whatever the mode, the
 * final name only ever names a complete image. */
enum {
  FSYNC_NEVER = 0,   /* "0": left to the kernel's writeback, as DMTCP does */
  FSYNC_BEFORE = 1,  /* "1": O_DIRECT and fsync while the program is stopped */
  FSYNC_AFTER = 2,   /* the default: fsync once the program runs again; the
                        previous image stays as <image>.old until then */
};

/* Settings read from the environment at start (set by dmtcp_launch). */
struct settings {
  char coord_host[256];
  int coord_port;
  char ckptdir[1024];
  char tmpdir[1024];
  int ckpt_signal;
  int gzip;
  int quiet;
  int interval;              /* -1: not given */
  int fail_rc;
  int standalone;            /* --no-coordinator: the process serves dmtcp_command itself */
  int fsync;                 /* DMTCP_CKPT_FSYNC: FSYNC_AFTER (the default), FSYNC_BEFORE or FSYNC_NEVER */
  int direct;                /* DMTCP_CKPT_DIRECT (default: with FSYNC_BEFORE): write the image with O_DIRECT */
  int keep_previous;         /* DMTCP_CKPT_KEEP_PREVIOUS (default 1): the previous image stays as <image>.old */
  char port_file[1024];
  int ckpt_open_files;       /* --ckpt-open-files: save the contents of every open file */
  int allow_file_overwrite;  /* --allow-file-overwrite: at restart they replace the files */
};

extern struct settings g_settings;
extern struct thread_slot g_threads[MAX_THREADS];
extern int g_nthreads;
extern pid_t g_ckpt_tid;
extern uint64_t g_ckpt_fs_base;
extern _Atomic int g_release;
extern _Atomic int g_said_bye;   /* the process is exiting: it has sent BYE */
extern char g_upid[96];
extern char g_comp_id[96];
extern char g_hostname[256];
extern char g_program[256];
extern uint64_t g_generation;
extern uint32_t g_num_members;
extern size_t g_pthread_tid_offset;   /* offset of the tid in glibc's struct pthread */

/* suspend.c */
void suspend_install_handler(void);
int suspend_all_threads(void);          /* 0 or -1 (g_unstoppable_tid) */
extern pid_t g_unstoppable_tid;
void release_threads(void);
void restore_user_threads(struct dmtcp_restore_info *info, const struct ctx *ckpt_ctx);
extern int g_drop_caps;                 /* restored in dmtcp_restart's user namespace */
void drop_capabilities(void);           /* this thread's, if g_drop_caps; async-signal-safe */

/* image_write.c: writes path (a .part name). 0 or -1 with a reason in err. */
int image_write(const char *path, const struct ctx *ckpt_ctx, char *err, size_t errlen);
void image_register_private(void *addr, size_t len);
void image_forget_private(void);

/* procstate.c: what the kernel forgets at restart and the runtime must put back. */
size_t procstate_save(void *buf, size_t cap);
void procstate_restore(void);

/* timers.c: alarm/setitimer and POSIX timers, saved at checkpoint (checkpoint
 * thread, user threads parked) and re-armed after restart. */
void timers_save(void);
void timers_restore(void);
pid_t tidmap_new_tid(pid_t old_tid);  /* after restart: the new tid of a thread, 0 if none */
int timers_aimed_at(int signo, pid_t old_tid, int *id, uint64_t *value);
void unblock_ckpt_signal_in_helper_threads(pid_t tid);  /* 0: every thread */

/* pending_signals.c: signals pending at checkpoint are pending again after restart. */
void pending_signals_save(void);
void pending_signals_restore(void);
/* A signal mask line ("SigPnd:", "ShdPnd:", "SigBlk:") of /proc/self/task/<tid>/status
 * (tid 0: /proc/self/status). 0 or -1. No malloc. */
int thread_status_mask(pid_t tid, const char *key, uint64_t *mask);

/* wrappers.c */
int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
void wrappers_record_program_action(int sig, const struct sigaction *act);
extern struct sigaction g_program_ckpt_action;

/* util.c: async-signal-safe helpers (no malloc, no stdio). */
void rt_log(const char *msg1, const char *msg2);
size_t rt_strlcpy(char *dst, const char *src, size_t n);
pid_t rt_gettid(void);
void futex_wait(_Atomic int *addr, int val);
void futex_wake(_Atomic int *addr);
void *rt_mmap(size_t len);
void rt_munmap(void *p, size_t len);
uint64_t rt_get_fs(void);
long rt_monotonic_ms(void);        /* CLOCK_MONOTONIC in milliseconds */
/* Writes v in decimal (NUL-terminated); returns its length. */
size_t rt_utoa(char *buf, unsigned long v);
/* Calls fn(number, arg) for each entry of dir named by a decimal number
 * (/proc/self/fd, /proc/self/task, ...) until fn returns nonzero; with
 * skip_own_fd, not for the descriptor it reads the directory through.
 * Raw getdents64, no malloc. -1 if dir cannot be opened. */
int rt_each_numbered_entry(const char *dir, int skip_own_fd, int (*fn)(long number, void *arg), void *arg);

/* runtime.c: the checkpoint steps shared by both modes */
void set_image_names(void);
int checkpoint_now(char *err, size_t errlen);   /* 0, -1, or 1 in the restarted process */
void rename_image(void);
void release_old_image(void);
void discard_image(void);
void restore_process_after_restart(void);
void checkpoint_thread_setup(void);

void runtime_after_fork_child(int fd);

/* standalone.c: --no-coordinator */
void *standalone_thread(void *arg);
void standalone_after_fork_child(void);

/* coord.c: the connection to the coordinator */
struct proto_msg;
extern int g_coord_fd;
extern pid_t g_coord_owner;      /* the process whose connection g_coord_fd is (not a vfork child of it) */
extern int g_welcome_pending;    /* a HELLO was sent without waiting: the WELCOME comes first */
int coord_is_mine(void);         /* connected to a coordinator, and this is the process that is */
int coord_send(const struct proto_msg *m);            /* whole frames, any thread; async-signal-safe */
int coord_send_on(int fd, const struct proto_msg *m);
int coord_reader_lock(void);     /* 1 taken, 0 this thread held it already */
void coord_reader_unlock(void);
int coord_wait_readable(void);
int coord_high_fd(int fd);
int coord_connect_for_child(void); /* before fork: the child's connection, announced; or -1 */
int coord_is_socket(int fd);
void coord_after_fork_child(void);

/* join.c: becoming a member and staying one across fork and exec */
void join_make_upid(void);
void join_connect_and_hello(void);             /* connect, HELLO, wait for the WELCOME */
void join_hello_and_wait(const char *restart_image);
void join_after_fork_child(int fd);
void join_take_welcome(void);
int join_end_of_wait(void);
int join_export_state(char *out, size_t len);  /* DMTCP_EXEC_STATE=... for exec */
int join_adopt_exec_state(void);
void join_say_bye(void);

/* fds/: the descriptor table (fds/fds.h) */

/* names.c: the coordinator's name service, from the checkpoint thread.
 * Values are at most 191 bytes. 0, or -1 if the coordinator is lost. */
int names_publish(const char *const *keys, const char *const *values, int n);
int names_query(const char *const *keys, char (*values)[192], int n, int *found);
/* The entries of a key prefix: their count (at most cap), or -1. */
int names_list(const char *prefix, char (*keys)[192], char (*values)[192], int cap);
/* A barrier message that arrived while waiting for answers: 1 and copied, or 0. */
int names_take_held(struct proto_msg *out);

/* sysv.c: System V IPC objects (image_write calls the checkpoint steps) */
void sysv_checkpoint_begin(char *maps, size_t cap);
int sysv_content_only(uint64_t start);
size_t sysv_table_len(void);
uint32_t sysv_table_write(void *buf, size_t cap, size_t *len);
void sysv_checkpoint_end(void);
void sysv_restarted(uint32_t restore_flags);
void sysv_restart_resolved(void);

/* posixmq.c: POSIX message queues, drained and refilled like pipes */
int posixmq_is_queue(int fd);
void posixmq_scan(void);
void posixmq_elect(void);
void posixmq_drain(void);
void posixmq_refill(void);
uint32_t posixmq_nrecords(void);
size_t posixmq_payload_cap(void);
size_t posixmq_record(uint32_t k, struct dmtcp_ipc_record *rec, char *payload, size_t room);
void posixmq_restarted(uint32_t restore_flags);
void posixmq_restart_resolved(void);

/* children.c */
void children_wait_for_joining(void);
int children_list(pid_t *out, int cap);   /* this process's children (at most cap) */
/* A child that carries the runtime but has no checkpoint thread: it has not
 * joined yet, or it is a member on its way out (its checkpoint thread ended
 * with the connection after its BYE). */
int children_runtime_unattached(pid_t pid);

/* zombies.c: the children that had exited and were not reaped, in pid order
 * (at most cap). Checkpoint thread, user threads parked. */
int zombies_collect(struct dmtcp_zombie *out, int cap);

/* fork.c */
void fork_install_handlers(void);
void fork_guard_lock(void);
void fork_guard_unlock(void);

/* exec.c */
extern pid_t g_standalone_owner;  /* --no-coordinator: the pid that runs the embedded coordinator */
extern int g_runtime_active;
void exec_capture_environment(void);

#endif
