/* `ssh host cmd` rewritten to run cmd under dmtcp_launch: where ssh's
 * destination and command are, the coordinator address given to the remote
 * side, and a remote command that a shell runs with the user's words meaning
 * what they meant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/ssh_argv.h"

static int find(char **argv, int *dest, int *cmd) {
  int argc = 0;
  while (argv[argc]) argc++;
  return ssh_find_command(argc, argv, dest, cmd);
}

static void finding_the_command(void) {
  int d, c;
  char *plain[] = {"ssh", "hostA", "counter", "-x", NULL};
  CHECK(find(plain, &d, &c) == 0 && d == 1 && c == 2);
  char *opts[] = {"ssh", "-F", "cfg", "-tt", "-p2222", "-l", "me", "hostA", "ls", NULL};
  CHECK(find(opts, &d, &c) == 0 && d == 7 && c == 8);
  char *after[] = {"ssh", "hostA", "-o", "BatchMode=yes", "-v", "uname", "-a", NULL};
  CHECK(find(after, &d, &c) == 0 && d == 1 && c == 5);
  char *dashes[] = {"ssh", "-v", "--", "hostA", "--", "-weird", NULL};
  CHECK(find(dashes, &d, &c) == 0 && d == 3 && c == 5);
  char *none[] = {"ssh", "hostA", NULL};
  CHECK(find(none, &d, &c) == 0 && c == 2);
  char *subsystem[] = {"ssh", "-s", "hostA", "sftp", NULL};
  CHECK(find(subsystem, &d, &c) == -1);
  char *forward[] = {"ssh", "-N", "-L", "1:h:2", "hostA", NULL};
  CHECK(find(forward, &d, &c) == -1);
  char *nodest[] = {"ssh", "-p", NULL};
  CHECK(find(nodest, &d, &c) == -1);
}

static void destination_hosts(void) {
  char h[64];
  ssh_destination_host("hostA", h, sizeof h);
  CHECK(strcmp(h, "hostA") == 0);
  ssh_destination_host("me@hostA", h, sizeof h);
  CHECK(strcmp(h, "hostA") == 0);
  ssh_destination_host("ssh://me@hostA:2222", h, sizeof h);
  CHECK(strcmp(h, "hostA") == 0);
  ssh_destination_host("[fd00::5]", h, sizeof h);
  CHECK(strcmp(h, "fd00::5") == 0);
}

static void coordinator_addresses(void) {
  char a[256];
  ssh_coord_address_for("10.1.2.3", "hostA", a, sizeof a);
  CHECK(strcmp(a, "10.1.2.3") == 0);  /* not this host's loopback: passed on as it is */
  ssh_coord_address_for("coordinator.invalid", "hostA", a, sizeof a);
  CHECK(strcmp(a, "coordinator.invalid") == 0);
  /* loopback means nothing on the other host: never passed on when this host has another address */
  ssh_coord_address_for("localhost", "localhost", a, sizeof a);
  CHECK(strncmp(a, "127.", 4) != 0 && strcmp(a, "::1") != 0);
  ssh_coord_address_for("127.0.0.1", "127.0.0.1", a, sizeof a);
  CHECK(strncmp(a, "127.", 4) != 0);
}

static const struct ssh_remote_settings SETTINGS = {
    .bindir = NULL, .coord_host = "10.9.8.7", .coord_port = 7001, .ckptdir = "/ck pt/it's", .tmpdir = NULL,
    .gzip = 0, .ckpt_signal = 10, .quiet = 1, .ckpt_open_files = -1, .allow_file_overwrite = -1};

static void rewritten_argv(void) {
  struct ssh_remote_settings s = SETTINGS;
  s.bindir = "/opt/d/bin";
  char *argv[] = {"ssh", "-v", "hostA", "counter", "--fast", NULL};
  char **out = ssh_rewrite_argv(5, argv, &s);
  CHECK(out != NULL);
  if (!out) return;
  CHECK(strcmp(out[0], "ssh") == 0 && strcmp(out[1], "-v") == 0 && strcmp(out[2], "hostA") == 0);
  CHECK(out[4] == NULL);
  const char *want =
      "exec '/opt/d/bin/dmtcp_launch' --join-coordinator --coord-host '10.9.8.7' --coord-port '7001' "
      "--ckptdir '/ck pt/it'\\''s' --no-gzip --ckpt-signal '10' -q \"${SHELL:-/bin/sh}\" -c 'counter --fast'";
  CHECK(strcmp(out[3], want) == 0);
  if (strcmp(out[3], want) != 0) fprintf(stderr, "got: %s\n", out[3]);
  /* an ssh wrapper script exec'ing the real ssh: rewritten once only */
  char *again[] = {"/usr/bin/ssh", "-F", "cfg", "hostA", out[3], NULL};
  CHECK(ssh_rewrite_argv(5, again, &s) == NULL);
  char *login[] = {"ssh", "hostA", NULL};
  CHECK(ssh_rewrite_argv(2, login, &s) == NULL);
  free(out[3]);
  free(out);
  CHECK(ssh_is_client("/usr/bin/ssh") && ssh_is_client("ssh") && !ssh_is_client("/usr/bin/sshd"));
}

/* The remote side, played by sh with a dmtcp_launch that runs its last three
 * words ("$SHELL" -c '<command>'): the user's words mean what they meant. */
static void a_shell_runs_it_as_ssh_would(void) {
  char dir[] = "/tmp/test_ssh_argv.XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(0);
    return;
  }
  char launch[256], out[256], line[256];
  snprintf(launch, sizeof launch, "%s/dmtcp_launch", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  FILE *f = fopen(launch, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs("#!/bin/sh\nwhile [ $# -gt 3 ]; do shift; done\nexec \"$@\"\n", f);
  fclose(f);
  chmod(launch, 0755);
  struct ssh_remote_settings s = SETTINGS;
  s.bindir = dir;
  char *words[] = {"printf", "'%s|'", "\"it's\"", "$((1+2))", "a\\ b", ">", out, NULL};
  char *cmd = ssh_remote_command(words, 7, &s, "10.9.8.7");
  CHECK(cmd != NULL);
  setenv("SHELL", "/bin/sh", 1);
  CHECK(cmd && system(cmd) == 0);
  f = fopen(out, "r");
  CHECK(f && fgets(line, sizeof line, f) && strcmp(line, "it's|3|a b|") == 0);
  if (f) fclose(f);
  free(cmd);
  unlink(out);
  unlink(launch);
  rmdir(dir);
}

int main(void) {
  finding_the_command();
  destination_hosts();
  coordinator_addresses();
  rewritten_argv();
  a_shell_runs_it_as_ssh_would();
  CHECK_DONE("test_ssh_argv");
}
