/* The remote command of `ssh host cmd`, rewritten to run under dmtcp_launch (ssh_argv.h). */
#include "ssh_argv.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* OpenSSH 9's options that take an argument, and those after which the
 * "command" is not a shell command, or there is none to run. */
static const char ARG_OPTS[] = "bceilmopBDEFIJLOQRSwW";
static const char NO_SHELL_OPTS[] = "sNWOGQV";

int ssh_is_client(const char *path) {
  const char *base = strrchr(path, '/');
  return strcmp(base ? base + 1 : path, "ssh") == 0;
}

/* Parses one run of options from argv[*i] on, as ssh's getopt does. */
static int parse_options(int argc, char *const argv[], int *i, int *no_shell) {
  while (*i < argc) {
    const char *a = argv[*i];
    if (a[0] != '-' || a[1] == '\0') return 0;
    (*i)++;
    if (strcmp(a, "--") == 0) return 0;
    for (const char *c = a + 1; *c; c++) {
      if (strchr(NO_SHELL_OPTS, *c)) *no_shell = 1;
      if (strchr(ARG_OPTS, *c)) {
        if (c[1] == '\0') {
          if (*i >= argc) return -1;  /* ssh would refuse it */
          (*i)++;
        }
        break;  /* the rest of the word is the argument */
      }
    }
  }
  return 0;
}

int ssh_find_command(int argc, char *const argv[], int *dest, int *cmd) {
  int i = 1, no_shell = 0;
  if (parse_options(argc, argv, &i, &no_shell) != 0 || i >= argc) return -1;
  *dest = i++;
  /* ssh reads options again after the destination */
  if (parse_options(argc, argv, &i, &no_shell) != 0 || no_shell) return -1;
  *cmd = i;
  return 0;
}

void ssh_destination_host(const char *dest, char *out, size_t len) {
  const char *h = dest;
  int uri = strncmp(h, "ssh://", 6) == 0;
  if (uri) h += 6;
  const char *at = strrchr(h, '@');
  if (at) h = at + 1;
  size_t n = strlen(h);
  if (h[0] == '[') {
    const char *close = strchr(h, ']');
    h++;
    n = close ? (size_t)(close - h) : strlen(h);
  } else if (uri) {
    const char *colon = strchr(h, ':');
    if (colon) n = (size_t)(colon - h);
  }
  if (uri) {
    const char *slash = memchr(h, '/', n);
    if (slash) n = (size_t)(slash - h);
  }
  snprintf(out, len, "%.*s", (int)n, h);
}

static int is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) return 1;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return 0;
}

/* Whether host names this host's loopback only (an unresolvable name is not). */
static int names_loopback(const char *host) {
  if (!host || !*host || strcmp(host, "localhost") == 0) return 1;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
  if (getaddrinfo(host, NULL, &hints, &res) != 0) return 0;
  int all = 1;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) all &= is_loopback(ai->ai_addr);
  freeaddrinfo(res);
  return all;
}

static int numeric(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen) {
  return getnameinfo(sa, len, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST) == 0 ? 0 : -1;
}

/* The source address the kernel picks for traffic to host: connect() of a
 * UDP socket sends nothing, it only consults the routing table. */
static int routed_source(const char *host, char *out, size_t len) {
  struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
  if (getaddrinfo(host, "9", &hints, &res) != 0) return -1;
  int rc = -1;
  for (struct addrinfo *ai = res; ai && rc != 0; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        getsockname(fd, (struct sockaddr *)&local, &ll) == 0 && !is_loopback((struct sockaddr *)&local))
      rc = numeric((struct sockaddr *)&local, ll, out, len);
    close(fd);
  }
  freeaddrinfo(res);
  return rc;
}

static int first_interface_address(char *out, size_t len) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) != 0) return -1;
  int rc = -1;
  for (struct ifaddrs *i = ifs; i && rc != 0; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !is_loopback(i->ifa_addr))
      rc = numeric(i->ifa_addr, sizeof(struct sockaddr_in), out, len);
  freeifaddrs(ifs);
  return rc;
}

void ssh_coord_address_for(const char *coord_host, const char *remote_host, char *out, size_t len) {
  if (!names_loopback(coord_host) || (routed_source(remote_host, out, len) != 0 && first_interface_address(out, len) != 0))
    snprintf(out, len, "%s", coord_host && *coord_host ? coord_host : "localhost");
}

/* Appends s to the buffer, single-quoted for a POSIX shell. */
struct buf {
  char *p;
  size_t len, cap;
  int failed;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_quoted(struct buf *b, const char *s) {
  puts_(b, "'");
  for (const char *q; (q = strchr(s, '\'')) != NULL; s = q + 1) {
    put(b, s, (size_t)(q - s));
    puts_(b, "'\\''");
  }
  puts_(b, s);
  puts_(b, "'");
}

static void put_option(struct buf *b, const char *name, const char *value) {
  puts_(b, " ");
  puts_(b, name);
  if (value) {
    puts_(b, " ");
    put_quoted(b, value);
  }
}

static void put_number_option(struct buf *b, const char *name, int value) {
  char n[16];
  snprintf(n, sizeof n, "%d", value);
  put_option(b, name, n);
}

#define LAUNCH_TAIL "/dmtcp_launch' "

char *ssh_remote_command(char *const words[], int nwords, const struct ssh_remote_settings *s,
                         const char *coord_address) {
  struct buf b = {0};
  char launch[4200];
  snprintf(launch, sizeof launch, "%s/dmtcp_launch", s->bindir);
  puts_(&b, "exec ");
  put_quoted(&b, launch);
  /* join only: a coordinator is never started over there */
  put_option(&b, "--join-coordinator", NULL);
  put_option(&b, "--coord-host", coord_address);
  put_number_option(&b, "--coord-port", s->coord_port);
  if (s->ckptdir && *s->ckptdir) put_option(&b, "--ckptdir", s->ckptdir);
  if (s->tmpdir && *s->tmpdir) put_option(&b, "--tmpdir", s->tmpdir);
  if (s->gzip >= 0) put_option(&b, s->gzip ? "--gzip" : "--no-gzip", NULL);
  if (s->ckpt_signal > 0) put_number_option(&b, "--ckpt-signal", s->ckpt_signal);
  if (s->ckpt_open_files > 0) put_option(&b, "--ckpt-open-files", NULL);
  if (s->allow_file_overwrite > 0) put_option(&b, "--allow-file-overwrite", NULL);
  for (int q = 0; q < s->quiet && q < 2; q++) put_option(&b, "-q", NULL);
  puts_(&b, " \"${SHELL:-/bin/sh}\" -c ");
  struct buf joined = {0};
  for (int i = 0; i < nwords; i++) {
    if (i) puts_(&joined, " ");
    puts_(&joined, words[i]);
  }
  put_quoted(&b, joined.p ? joined.p : "");
  free(joined.p);
  if (b.failed || joined.failed) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* What we wrote: the remote command starts with exec '<...>/dmtcp_launch'. */
static int rewritten_already(const char *word) {
  if (strncmp(word, "exec '", 6) != 0) return 0;
  const char *tail = strstr(word, LAUNCH_TAIL);
  return tail && !memchr(word + 6, '\'', (size_t)(tail - word - 6));
}

char **ssh_rewrite_argv(int argc, char *const argv[], const struct ssh_remote_settings *s) {
  int dest, cmd;
  if (ssh_find_command(argc, argv, &dest, &cmd) != 0 || cmd >= argc || rewritten_already(argv[cmd])) return NULL;
  char host[1024], address[256];
  ssh_destination_host(argv[dest], host, sizeof host);
  ssh_coord_address_for(s->coord_host, host, address, sizeof address);
  char *remote = ssh_remote_command(argv + cmd, argc - cmd, s, address);
  char **out = malloc((size_t)(cmd + 2) * sizeof *out);
  if (!remote || !out) {
    free(remote);
    free(out);
    return NULL;
  }
  for (int i = 0; i < cmd; i++) out[i] = argv[i];
  out[cmd] = remote;
  out[cmd + 1] = NULL;
  return out;
}
