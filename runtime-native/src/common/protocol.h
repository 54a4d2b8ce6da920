/* Coordinator wire protocol v1 (docs/protocol.md): frames and key=value fields. */
#ifndef DMTCP_PROTOCOL_H
#define DMTCP_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC   0x444D5443u
#define PROTO_VERSION 1u
#define PROTO_MAX_PAYLOAD (1u << 20)

enum proto_type {
  MSG_HELLO = 1, MSG_WELCOME = 2, MSG_REFUSED = 3,
  MSG_ADVANCE = 10, MSG_REACHED = 11, MSG_ABORT = 12, MSG_KILL = 13, MSG_BYE = 14, MSG_UPDATE = 15,
  MSG_ATTACH = 16, MSG_EXPECT = 17,
  MSG_NS_PUBLISH = 20, MSG_NS_QUERY = 21, MSG_NS_ANSWER = 22, MSG_NS_LIST = 23,
  MSG_COMMAND = 30, MSG_COMMAND_RESULT = 31, MSG_CKPT_REQUEST = 32,
};

/* A message being built or received. Fixed-size storage: no malloc, so the
 * checkpoint thread can use it while user threads are stopped holding locks. */
struct proto_msg {
  uint16_t type;
  uint32_t len;
  char payload[16384];
};

void proto_init(struct proto_msg *m, uint16_t type);
/* Appends key=value (value escaped). Returns 0, or -1 if it does not fit. */
int proto_add(struct proto_msg *m, const char *key, const char *value);
int proto_add_u64(struct proto_msg *m, const char *key, uint64_t value);
/* Copies the unescaped value of key into out (NUL-terminated). Returns 0 or -1 if absent. */
int proto_get(const struct proto_msg *m, const char *key, char *out, size_t outlen);
/* The nth (from 0) value of a repeated key, as proto_get. */
int proto_get_nth(const struct proto_msg *m, const char *key, int nth, char *out, size_t outlen);
/* The value of key as a number, or dflt if absent or not a number. */
long long proto_get_ll(const struct proto_msg *m, const char *key, long long dflt);

/* Blocking I/O on a connected socket; retries EINTR. 0 on success, -1 on error/EOF.
 * proto_recv rejects bad magic/version/oversized frames (errno EPROTO). */
int proto_send(int fd, const struct proto_msg *m);
int proto_recv(int fd, struct proto_msg *m);

/* Connects to host:port over TCP (IPv4/IPv6). Returns fd or -1 (errno set). */
int proto_connect(const char *host, int port);

#endif
