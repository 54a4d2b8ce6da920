/* `ssh host cmd` from inside a computation: the remote command is rewritten so
 * that it runs under <bindir>/dmtcp_launch and joins the same coordinator from
 * the remote host (shared by the exec wrappers of the runtime and by
 * dmtcp_launch). */
#ifndef DMTCP_SSH_ARGV_H
#define DMTCP_SSH_ARGV_H
#include <stddef.h>

/* What the remote dmtcp_launch is told; pointers may be NULL, numbers < 0 mean "not given". */
struct ssh_remote_settings {
  const char *bindir;      /* this host's bin/; the hosts share the filesystem */
  const char *coord_host;  /* the coordinator as this process reaches it */
  int coord_port;
  const char *ckptdir;
  const char *tmpdir;
  int gzip;
  int ckpt_signal;
  int quiet;
  int ckpt_open_files;
  int allow_file_overwrite;
};

/* Whether path is an ssh client: its base name is "ssh". */
int ssh_is_client(const char *path);

/* Where the destination and the first word of the remote command are in ssh's
 * argv (options may come before and after the destination, as ssh takes them).
 * Returns 0 with *cmd == argc when there is no command; -1 when there is no
 * destination or an option says the command is not a shell command (-s, -N,
 * -W, -O, -G, -Q, -V). */
int ssh_find_command(int argc, char *const argv[], int *dest, int *cmd);

/* The host part of an ssh destination: [user@]host, ssh://[user@]host[:port], [v6addr]. */
void ssh_destination_host(const char *dest, char *out, size_t len);

/* The coordinator address to give a process on remote_host. A coordinator
 * reached through loopback (localhost, 127.x, ::1, or a name that resolves
 * only to loopback) runs on this host, and loopback means nothing over there:
 * then it is the address of this host's interface that routes to remote_host
 * (or, if remote_host does not resolve here, this host's first non-loopback
 * IPv4 address). Any other coordinator host is passed on as it is. */
void ssh_coord_address_for(const char *coord_host, const char *remote_host, char *out, size_t len);

/* The remote shell command: exec '<bindir>/dmtcp_launch' -j --coord-host ...
 * "${SHELL:-/bin/sh}" -c '<words joined by spaces, as ssh joins them>'. The
 * user's command keeps its meaning: the login shell parses it, as it would
 * have without us. malloc'd. */
char *ssh_remote_command(char *const words[], int nwords, const struct ssh_remote_settings *s,
                         const char *coord_address);

/* ssh's argv with the remote command replaced by ssh_remote_command (one
 * word), malloc'd and NULL-terminated; NULL when argv is left as it is: no
 * remote command, a command that is not a shell command, or one rewritten
 * already (an ssh wrapper script exec'ing the real ssh). */
char **ssh_rewrite_argv(int argc, char *const argv[], const struct ssh_remote_settings *s);

#endif
