/* Choosing, and if need be starting, the coordinator (shared by dmtcp_launch and dmtcp_restart). */
#ifndef DMTCP_COORD_SELECT_H
#define DMTCP_COORD_SELECT_H
#include <stddef.h>

enum coord_mode { COORD_ANY, COORD_JOIN, COORD_NEW, COORD_NONE };

struct coord_target {
  char host[256];
  int port;              /* -1: not given (the default 7779 for ANY/JOIN, any free port for NEW) */
  enum coord_mode mode;
  const char *port_file;
  int interval;          /* -1 = not given */
  const char *ckptdir;
  const char *tmpdir;
  const char *logfile;   /* --coord-logfile: the log of a coordinator this command starts */
  int quiet;
  int started;           /* set by dmtcp_coord_ensure: it started this coordinator */
};

/* Ensures a coordinator is listening according to mode; may start
 * <bindir>/dmtcp_coordinator in the background and wait for it. On success
 * t->port holds the real port. Returns 0, or -1 with a one-line reason in err. */
int dmtcp_coord_ensure(struct coord_target *t, char *err, size_t errlen);

/* --coord-logfile only reaches a coordinator this command starts: a NOTE
 * (unless quiet) when t names one but joined a running coordinator or none. */
void dmtcp_coord_note_unused_logfile(const struct coord_target *t, const char *prog);

/* Why dir cannot hold our temporary files (strerror, or "not a directory"),
 * or NULL when it can. */
const char *dmtcp_tmpdir_problem(const char *dir);

/* A coordinator dmtcp_coord_ensure started for a restart that failed before
 * any process joined would wait forever (--exit-on-last needs a last one to
 * leave): asks it to quit when it has no process. */
void dmtcp_coord_quit_if_unused(const struct coord_target *t);

/* The help text of the coordinator options both commands share. */
#define DMTCP_COORD_HELP \
  "Connecting to the DMTCP Coordinator:\n" \
  "  -h, --coord-host HOSTNAME (environment variable DMTCP_COORD_HOST)\n" \
  "              Hostname where dmtcp_coordinator is run (default: localhost)\n" \
  "  -p, --coord-port PORT_NUM (environment variable DMTCP_COORD_PORT)\n" \
  "              Port where dmtcp_coordinator is run (default: 7779)\n" \
  "  --port-file FILENAME\n" \
  "              File to write listener port number.\n" \
  "  -j, --join-coordinator\n" \
  "              Join an existing coordinator, raise error if one doesn't already exist\n" \
  "  --new-coordinator\n" \
  "              Create a new coordinator at the given port. Fail if one already exists.\n" \
  "  --any-coordinator\n" \
  "              Join the coordinator on the port if there is one, else start one (default)\n" \
  "  --coord-logfile PATH (environment variable DMTCP_COORD_LOG_FILENAME)\n" \
  "              The coordinator this command starts writes its log to PATH\n"
#define DMTCP_INTERVAL_HELP \
  "  -i, --interval SECONDS (environment variable DMTCP_CHECKPOINT_INTERVAL)\n" \
  "              Time in seconds between automatic checkpoints (0 = never)\n\n"

/* $DMTCP_FAIL_RC, or 99: the exit code of our own failures. */
int dmtcp_fail_rc(void);

/* A decimal in [min, max]; otherwise prints "<prog>: invalid <what>: <s>" and
 * exits with dmtcp_fail_rc(). */
int dmtcp_parse_int(const char *prog, const char *s, const char *what, int min, int max);

/* The defaults and environment shared by dmtcp_launch and dmtcp_restart:
 * DMTCP_COORD_HOST / DMTCP_HOST (localhost), DMTCP_COORD_PORT / DMTCP_PORT,
 * DMTCP_CHECKPOINT_INTERVAL, DMTCP_COORD_LOG_FILENAME; mode --any-coordinator. */
void dmtcp_coord_target_from_env(struct coord_target *t, const char *prog);

/* The directory holding this executable (bin/), without a trailing slash. */
int dmtcp_bindir(char *out, size_t len);
#endif
