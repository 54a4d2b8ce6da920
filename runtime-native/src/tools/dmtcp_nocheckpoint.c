/* dmtcp_nocheckpoint command [args...]: runs command outside checkpoint
 * control, from inside a checkpointed computation (as DMTCP's command does).
 * Linked statically, so the runtime preloaded into its parent does not load
 * into it; it takes the runtime out of the environment and execs command,
 * whose descendants run without it too. Our own failures exit 99. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail_rc(void) {
  const char *v = getenv("DMTCP_FAIL_RC");
  return v && *v ? atoi(v) : 99;
}

/* LD_PRELOAD without libdmtcp.so (the program's own preloads stay). */
static void strip_runtime_preload(void) {
  const char *old = getenv("LD_PRELOAD");
  if (!old) return;
  char *kept = malloc(strlen(old) + 1);
  if (!kept) return;
  kept[0] = '\0';
  char *copy = strdup(old);
  if (!copy) { free(kept); return; }
  for (char *save = NULL, *tok = strtok_r(copy, ": ", &save); tok; tok = strtok_r(NULL, ": ", &save)) {
    const char *base = strrchr(tok, '/');
    if (strcmp(base ? base + 1 : tok, "libdmtcp.so") == 0) continue;
    if (kept[0]) strcat(kept, ":");
    strcat(kept, tok);
  }
  if (kept[0]) setenv("LD_PRELOAD", kept, 1);
  else unsetenv("LD_PRELOAD");
  free(copy);
  free(kept);
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs("Usage: dmtcp_nocheckpoint <command> [args...]\n"
          "Run command, and everything it starts, without checkpointing.\n",
          argc < 2 ? stderr : stdout);
    return argc < 2 ? fail_rc() : 0;
  }
  const char *quiet = getenv("DMTCP_QUIET");
  if (getenv("DMTCP_LAUNCHED") && !(quiet && atoi(quiet) >= 1))
    fprintf(stderr, "[dmtcp] dmtcp_nocheckpoint: %s runs without checkpointing\n", argv[1]);
  strip_runtime_preload();
  unsetenv("DMTCP_LAUNCHED");
  execvp(argv[1], argv + 1);
  fprintf(stderr, "dmtcp_nocheckpoint: cannot run %s: %s\n", argv[1], strerror(errno));
  return fail_rc();
}
