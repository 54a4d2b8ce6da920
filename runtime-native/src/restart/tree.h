/* Restarting a computation's processes as the tree they were, with the pids
 * they had: the images are restored inside a new pid namespace (with a user
 * namespace when not root), each process created by its original parent with
 * clone3(set_tid = its original pid), in its original session and process
 * group (a placeholder process standing in for a session or group leader
 * that was outside the computation). The kernel then shows the program its original ids everywhere
 * (getpid, getppid, kill, waitpid, /proc/<pid>, SIGCHLD), with no wrappers. */
#ifndef DMTCP_RESTART_TREE_H
#define DMTCP_RESTART_TREE_H

#include "restart/image_read.h"

/* Writes text into an existing file (a /proc knob) in one write: 0, or -1
 * with errno saying why. */
int tree_write_file(const char *path, const char *text);

/* Creates the namespaces (the caller's children will live in them). 0, 1 when
 * that includes a user namespace (the processes will have capabilities there
 * they must drop), or -1 with the reason in why: then the caller restarts
 * without them. */
int tree_enter_namespaces(char *why, size_t whylen);

/* In the caller (outside the namespace): forks the namespace's first process,
 * which runs tree_init; waits for it, passing signals on; returns the exit code
 * of the computation's first process (the one restored from images[0]'s tree). */
int tree_run(int n, struct image *imgs, void (*restore_one)(int index), int quiet);

/* In a process of the tree: the descriptor of the recreated shared object
 * region r maps, or -1 (not shared, or restarting outside the tree). */
int tree_shared_fd(const struct dmtcp_region *r);

#endif
