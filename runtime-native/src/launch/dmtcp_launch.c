/* dmtcp_launch [OPTIONS] command [args...]: runs command under checkpoint control.
 * Chooses or starts the coordinator, preloads libdmtcp.so, and execs the
 * command, so the exit code is the program's. Our own failures exit 99
 * (or $DMTCP_FAIL_RC). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/coord_select.h"
#include "common/elf_kind.h"
#include "common/ssh_argv.h"

#define VERSION "0.1.0"

static void usage(FILE *out) {
  fputs(
      "Usage: dmtcp_launch [OPTIONS] <command> [args...]\n"
      "Start a process under DMTCP control.\n\n"
      DMTCP_COORD_HELP
      "  --no-coordinator\n"
      "              Run without a coordinator: the process answers dmtcp_command on the\n"
      "              port itself (default 7779; 0 = any, see --port-file). As in DMTCP,\n"
      "              only this process is checkpointed, not its children\n"
      DMTCP_INTERVAL_HELP
      "Checkpoint image generation:\n"
      "  --gzip, --no-gzip, (environment variable DMTCP_GZIP=[01])\n"
      "              Enable/disable compression of checkpoint images (default: 1)\n"
      "  --ckptdir PATH (environment variable DMTCP_CHECKPOINT_DIR)\n"
      "              Directory to store checkpoint images (default: curr dir at launch)\n"
      "  --ckpt-signal signum (environment variable DMTCP_SIGCKPT)\n"
      "  --mtcp-checkpoint-signal signum (its old name)\n"
      "              Signal number used internally for checkpointing (default: SIGUSR2/12).\n"
      "  --ckpt-open-files, --checkpoint-open-files\n"
      "     (environment variable DMTCP_CKPT_OPEN_FILES=[01])\n"
      "              Save the contents of every open file in the image; at restart a file\n"
      "              that is gone is put back from it (default: only files unlinked while\n"
      "              open are saved; a file that is gone stops the restart)\n"
      "  --allow-file-overwrite\n"
      "     (environment variable DMTCP_ALLOW_OVERWRITE_WITH_CKPTED_FILES=[01])\n"
      "              With --ckpt-open-files, a saved file also replaces the file that is\n"
      "              there at restart (default: the file there is kept)\n\n"
      "Enable/disable plugins:\n"
      "  --disable-alloc-plugin (environment variable DMTCP_ALLOC_PLUGIN=[01])\n"
      "  --disable-dl-plugin (environment variable DMTCP_DL_PLUGIN=[01])\n"
      "  --disable-all-plugins\n"
      "              Accepted, with a note at launch that they change nothing: this dmtcp\n"
      "              has no separate plugins; the work of DMTCP's internal plugins (alloc,\n"
      "              dl, files, sockets, IPC, timers) is built into the runtime, always on\n"
      "  --with-plugin PLUGIN[:PLUGIN...]\n"
      "              Refused: this dmtcp cannot load plugins\n\n"
      "Other options:\n"
      "  --tmpdir PATH (environment variable DMTCP_TMPDIR)\n"
      "              Directory to store temp files (default: $TMDPIR or /tmp)\n"
      "  -q, --quiet (or set environment variable DMTCP_QUIET = 0, 1, or 2)\n"
      "              Skip NOTE messages (such as the plugin notes); if given twice, also skip\n"
      "              WARNINGs\n"
      "  --help      Print this message and exit.\n"
      "  --version   Print version information and exit.\n",
      out);
}

/* The file execvp would run for name (first executable match on PATH), or 0. */
static int find_in_path(const char *name, char *out, size_t outlen) {
  if (strchr(name, '/')) {
    snprintf(out, outlen, "%s", name);
    return access(out, X_OK) == 0;
  }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/bin:/usr/bin";
  for (const char *p = path;;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name) < outlen &&
        access(out, X_OK) == 0)
      return 1;
    if (!end) return 0;
    p = end + 1;
  }
}

/* DMTCP's switches for its internal plugins. Here there is nothing to switch
 * off: what those plugins do is built into the runtime. A switch that is set
 * (option, or its variable at 0) gets one NOTE, so that it is never silently
 * ignored. */
enum { PLUGIN_ALLOC, PLUGIN_DL, PLUGIN_ALL, NPLUGINS };
static const struct {
  const char *option, *env, *plugin, *work;
} plugin_switches[NPLUGINS] = {
    {"--disable-alloc-plugin", "DMTCP_ALLOC_PLUGIN", "alloc plugin", "what it does"},
    {"--disable-dl-plugin", "DMTCP_DL_PLUGIN", "dl plugin", "what it does"},
    {"--disable-all-plugins", NULL, "plugins", "what DMTCP's internal plugins do"},
};

static void note_plugin_switches(const int *disabled, int quiet) {
  for (int i = 0; i < NPLUGINS; i++) {
    const char *env = plugin_switches[i].env ? getenv(plugin_switches[i].env) : NULL;
    int by_env = env && !strcmp(env, "0");
    if (quiet || (!disabled[i] && !by_env)) continue;
    fprintf(stderr,
            "dmtcp_launch: note: %s%s changes nothing: this dmtcp has no separate %s (%s is built into the runtime, "
            "always on)\n",
            disabled[i] ? plugin_switches[i].option : plugin_switches[i].env, disabled[i] ? "" : "=0",
            plugin_switches[i].plugin, plugin_switches[i].work);
  }
}

int main(int argc, char **argv) {
  struct coord_target t;
  dmtcp_coord_target_from_env(&t, "dmtcp_launch");
  const char *qv = getenv("DMTCP_QUIET");
  int quiet = qv && *qv ? atoi(qv) : 0, gzip = -1, signum = -1, disabled[NPLUGINS] = {0}, logfile_given = 0;
  const char *ckptdir = getenv("DMTCP_CHECKPOINT_DIR"), *tmpdir = getenv("DMTCP_TMPDIR");

  enum { O_PORTFILE = 256, O_NEW, O_ANY, O_NONE, O_GZIP, O_NOGZIP, O_CKPTDIR, O_SIG, O_TMP,
         O_HELP, O_VERSION, O_IGNORED, O_OPEN_FILES, O_OVERWRITE, O_LOGFILE, O_NO_ALLOC, O_NO_DL, O_NO_PLUGINS,
         O_WITH_PLUGIN };
  static const struct option opts[] = {
      {"coord-host", required_argument, 0, 'h'}, {"coord-port", required_argument, 0, 'p'},
      {"port", required_argument, 0, 'p'},        {"port-file", required_argument, 0, O_PORTFILE},
      {"join-coordinator", no_argument, 0, 'j'},  {"join", no_argument, 0, 'j'},
      {"new-coordinator", no_argument, 0, O_NEW}, {"any-coordinator", no_argument, 0, O_ANY},
      {"no-coordinator", no_argument, 0, O_NONE}, {"interval", required_argument, 0, 'i'},
      {"gzip", no_argument, 0, O_GZIP},           {"no-gzip", no_argument, 0, O_NOGZIP},
      {"ckptdir", required_argument, 0, O_CKPTDIR}, {"ckpt-signal", required_argument, 0, O_SIG},
      {"tmpdir", required_argument, 0, O_TMP},    {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, O_HELP},           {"version", no_argument, 0, O_VERSION},
      {"ckpt-open-files", no_argument, 0, O_OPEN_FILES}, {"checkpoint-open-files", no_argument, 0, O_OPEN_FILES},
      {"allow-file-overwrite", no_argument, 0, O_OVERWRITE},
      {"coord-logfile", required_argument, 0, O_LOGFILE}, {"mtcp-checkpoint-signal", required_argument, 0, O_SIG},
      {"disable-alloc-plugin", no_argument, 0, O_NO_ALLOC}, {"disable-dl-plugin", no_argument, 0, O_NO_DL},
      {"disable-all-plugins", no_argument, 0, O_NO_PLUGINS}, {"with-plugin", required_argument, 0, O_WITH_PLUGIN},
      {0, 0, 0, 0}};
  int c, open_files = -1, overwrite = -1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+h:p:ji:q", opts, NULL)) != -1) {
    switch (c) {
      case 'h': snprintf(t.host, sizeof t.host, "%s", optarg); break;
      case 'p': t.port = dmtcp_parse_int("dmtcp_launch", optarg, "port", 0, 65535); break;
      case O_PORTFILE: t.port_file = optarg; break;
      case 'j': t.mode = COORD_JOIN; break;
      case O_NEW: t.mode = COORD_NEW; break;
      case O_ANY: t.mode = COORD_ANY; break;
      case O_NONE: t.mode = COORD_NONE; break;
      case 'i': t.interval = dmtcp_parse_int("dmtcp_launch", optarg, "interval", 0, INT_MAX); break;
      case O_GZIP: gzip = 1; break;
      case O_NOGZIP: gzip = 0; break;
      case O_CKPTDIR: ckptdir = optarg; break;
      case O_SIG: signum = dmtcp_parse_int("dmtcp_launch", optarg, "checkpoint signal", 1, 64); break;
      case O_TMP: tmpdir = optarg; break;
      case 'q': quiet++; break;
      case O_OPEN_FILES: open_files = 1; break;
      case O_OVERWRITE: overwrite = 1; break;
      case O_LOGFILE: t.logfile = optarg; logfile_given = 1; break;
      case O_NO_ALLOC: disabled[PLUGIN_ALLOC] = 1; break;
      case O_NO_DL: disabled[PLUGIN_DL] = 1; break;
      case O_NO_PLUGINS: disabled[PLUGIN_ALL] = 1; break;
      case O_WITH_PLUGIN:
        fprintf(stderr, "dmtcp_launch: --with-plugin %s: this dmtcp cannot load plugins\n", optarg);
        return dmtcp_fail_rc();
      case O_HELP: usage(stdout); return 0;
      case O_VERSION: printf("dmtcp_launch (dmtcp) " VERSION "\n"); return 0;
      default:
        fprintf(stderr, "dmtcp_launch: unknown or incomplete option: %s\n", argv[optind - 1]);
        usage(stderr);
        return dmtcp_fail_rc();
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return dmtcp_fail_rc();
  }
  if (signum == SIGKILL || signum == SIGSTOP) {
    fprintf(stderr, "dmtcp_launch: signal %d cannot be used for checkpointing\n", signum);
    return dmtcp_fail_rc();
  }
  const char *tmp_problem = tmpdir && *tmpdir ? dmtcp_tmpdir_problem(tmpdir) : NULL;
  if (tmp_problem) {
    fprintf(stderr, "dmtcp_launch: temporary directory %s: %s\n", tmpdir, tmp_problem);
    return dmtcp_fail_rc();
  }
  char absdir[PATH_MAX];
  if (ckptdir && *ckptdir) {
    if (!realpath(ckptdir, absdir)) {
      fprintf(stderr, "dmtcp_launch: checkpoint directory %s: %s\n", ckptdir, strerror(errno));
      return dmtcp_fail_rc();
    }
  } else if (!getcwd(absdir, sizeof absdir)) {
    fprintf(stderr, "dmtcp_launch: cannot read the current directory: %s\n", strerror(errno));
    return dmtcp_fail_rc();
  }
  t.ckptdir = absdir;
  t.tmpdir = tmpdir;
  t.quiet = quiet;

  /* A statically linked program never loads the runtime: refuse it before a
   * coordinator is started for nothing. */
  char found[PATH_MAX];
  if (find_in_path(argv[optind], found, sizeof found) && elf_kind_of(found) == ELF_STATIC) {
    fprintf(stderr, "dmtcp_launch: %s is statically linked; LD_PRELOAD cannot reach it, so it cannot be checkpointed\n",
            found);
    return dmtcp_fail_rc();
  }

  char err[512];
  if (dmtcp_coord_ensure(&t, err, sizeof err) != 0) {
    fprintf(stderr, "dmtcp_launch: %s\n", err);
    return dmtcp_fail_rc();
  }
  if (logfile_given) dmtcp_coord_note_unused_logfile(&t, "dmtcp_launch");
  note_plugin_switches(disabled, quiet);

  char bindir[PATH_MAX], lib[PATH_MAX + 64], buf[32];
  if (dmtcp_bindir(bindir, sizeof bindir) != 0) {
    fprintf(stderr, "dmtcp_launch: cannot find its own directory\n");
    return dmtcp_fail_rc();
  }
  snprintf(lib, sizeof lib, "%s/../lib/dmtcp/libdmtcp.so", bindir);
  char libreal[PATH_MAX];
  if (!realpath(lib, libreal) || access(libreal, R_OK) != 0) {
    fprintf(stderr, "dmtcp_launch: runtime library %s: %s\n", lib, strerror(errno));
    return dmtcp_fail_rc();
  }
  const char *old = getenv("LD_PRELOAD");
  size_t need = strlen(libreal) + (old ? strlen(old) : 0) + 2;
  char *preload = malloc(need);
  if (!preload) return dmtcp_fail_rc();
  snprintf(preload, need, "%s%s%s", libreal, old && *old ? ":" : "", old && *old ? old : "");
  setenv("LD_PRELOAD", preload, 1);
  setenv("DMTCP_LAUNCHED", "1", 1);
  setenv("DMTCP_COORD_HOST", t.host, 1);
  snprintf(buf, sizeof buf, "%d", t.port);
  setenv("DMTCP_COORD_PORT", buf, 1);
  if (t.mode == COORD_NONE) {
    /* standalone: the process listens on the port itself (default 7779; 0 = any) */
    snprintf(buf, sizeof buf, "%d", t.port >= 0 ? t.port : 7779);
    setenv("DMTCP_COORD_PORT", buf, 1);
    setenv("DMTCP_NO_COORDINATOR", "1", 1);
    snprintf(buf, sizeof buf, "%d", (int)getpid());  /* we exec the program: same pid */
    setenv("DMTCP_STANDALONE_PID", buf, 1);
    if (t.port_file) setenv("DMTCP_PORT_FILE", t.port_file, 1);
  } else {
    unsetenv("DMTCP_NO_COORDINATOR");
    unsetenv("DMTCP_STANDALONE_PID");
    unsetenv("DMTCP_PORT_FILE");
  }
  setenv("DMTCP_CHECKPOINT_DIR", absdir, 1);
  if (tmpdir) setenv("DMTCP_TMPDIR", tmpdir, 1);
  if (gzip >= 0) setenv("DMTCP_GZIP", gzip ? "1" : "0", 1);
  if (signum > 0) {
    snprintf(buf, sizeof buf, "%d", signum);
    setenv("DMTCP_SIGCKPT", buf, 1);
  }
  if (t.interval >= 0) {
    snprintf(buf, sizeof buf, "%d", t.interval);
    setenv("DMTCP_CHECKPOINT_INTERVAL", buf, 1);
  }
  if (open_files > 0) setenv("DMTCP_CKPT_OPEN_FILES", "1", 1);
  if (overwrite > 0) setenv("DMTCP_ALLOW_OVERWRITE_WITH_CKPTED_FILES", "1", 1);
  if (quiet) {
    snprintf(buf, sizeof buf, "%d", quiet);
    setenv("DMTCP_QUIET", buf, 1);
  }
  /* dmtcp_launch ssh host cmd: cmd joins this computation from there */
  char *const *run = argv + optind;
  if (t.mode != COORD_NONE && ssh_is_client(argv[optind])) {
    struct ssh_remote_settings s = {
        .bindir = bindir, .coord_host = t.host, .coord_port = t.port, .ckptdir = absdir, .tmpdir = tmpdir,
        .gzip = gzip, .ckpt_signal = signum, .quiet = quiet, .ckpt_open_files = open_files,
        .allow_file_overwrite = overwrite};
    char **rewritten = ssh_rewrite_argv(argc - optind, argv + optind, &s);
    if (rewritten) run = rewritten;
  }
  execvp(run[0], run);
  fprintf(stderr, "dmtcp_launch: cannot run %s: %s\n", argv[optind], strerror(errno));
  return dmtcp_fail_rc();
}
