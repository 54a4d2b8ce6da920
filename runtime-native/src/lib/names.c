/* The coordinator's name service (docs/protocol.md 3.7), used by the
 * checkpoint thread during the barriers: which sockets' peers are members of
 * the computation, and where a restarted peer now listens. Requests are
 * pipelined (all sent, then the answers read in order). A barrier message
 * that arrives meanwhile (ABORT, KILL) is kept for the checkpoint thread's
 * loop. Without a coordinator (--no-coordinator) the entries live in a table
 * of the process. No malloc, no stdio. */
#include <string.h>

#include "common/protocol.h"
#include "runtime.h"

static struct proto_msg g_held;
static int g_have_held;

int names_take_held(struct proto_msg *out) {
  if (!g_have_held) return 0;
  memcpy(out, &g_held, sizeof *out);
  g_have_held = 0;
  return 1;
}

#define LOCAL_MAX 4096
static struct { char key[192]; char value[192]; } g_local[LOCAL_MAX];
static int g_nlocal;

static int local_find(const char *key) {
  for (int i = 0; i < g_nlocal; i++)
    if (!strcmp(g_local[i].key, key)) return i;
  return -1;
}

static int use_local(void) { return g_settings.standalone || g_coord_fd < 0; }

/* Reads the next NS_ANSWER, keeping any other message for later. */
static int next_answer(struct proto_msg *m) {
  for (;;) {
    if (proto_recv(g_coord_fd, m) != 0) return -1;
    if (m->type == MSG_NS_ANSWER) return 0;
    if (!g_have_held) {
      memcpy(&g_held, m, sizeof g_held);
      g_have_held = 1;
    }
  }
}

int names_publish(const char *const *keys, const char *const *values, int n) {
  if (use_local()) {
    for (int i = 0; i < n; i++) {
      int k = local_find(keys[i]);
      if (k < 0 && g_nlocal < LOCAL_MAX) k = g_nlocal++;
      if (k < 0) return -1;
      rt_strlcpy(g_local[k].key, keys[i], sizeof g_local[k].key);
      rt_strlcpy(g_local[k].value, values[i], sizeof g_local[k].value);
    }
    return 0;
  }
  static struct proto_msg m;
  for (int i = 0; i < n; i++) {
    proto_init(&m, MSG_NS_PUBLISH);
    proto_add(&m, "key", keys[i]);
    proto_add(&m, "value", values[i]);
    if (coord_send(&m) != 0) return -1;
  }
  for (int i = 0; i < n; i++)
    if (next_answer(&m) != 0) return -1;
  return 0;
}

int names_query(const char *const *keys, char (*values)[192], int n, int *found) {
  if (use_local()) {
    for (int i = 0; i < n; i++) {
      int k = local_find(keys[i]);
      found[i] = k >= 0;
      if (k >= 0) rt_strlcpy(values[i], g_local[k].value, 192);
    }
    return 0;
  }
  static struct proto_msg m;
  for (int i = 0; i < n; i++) {
    proto_init(&m, MSG_NS_QUERY);
    proto_add(&m, "key", keys[i]);
    if (coord_send(&m) != 0) return -1;
  }
  for (int i = 0; i < n; i++) {
    if (next_answer(&m) != 0) return -1;
    char status[32] = "";
    proto_get(&m, "status", status, sizeof status);
    found[i] = !strcmp(status, "OK");
    values[i][0] = '\0';
    if (found[i]) proto_get(&m, "value", values[i], 192);
  }
  return 0;
}

int names_list(const char *prefix, char (*keys)[192], char (*values)[192], int cap) {
  if (use_local()) {
    int n = 0;
    for (int i = 0; i < g_nlocal && n < cap; i++) {
      if (strncmp(g_local[i].key, prefix, strlen(prefix)) != 0) continue;
      rt_strlcpy(keys[n], g_local[i].key, 192);
      rt_strlcpy(values[n], g_local[i].value, 192);
      n++;
    }
    return n;
  }
  static struct proto_msg m;
  proto_init(&m, MSG_NS_LIST);
  proto_add(&m, "prefix", prefix);
  if (coord_send(&m) != 0 || next_answer(&m) != 0) return -1;
  int n = 0;
  while (n < cap && proto_get_nth(&m, "key", n, keys[n], 192) == 0) {
    proto_get_nth(&m, "value", n, values[n], 192);
    n++;
  }
  return n;
}
