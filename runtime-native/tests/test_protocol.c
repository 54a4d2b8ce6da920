/* Frames and fields of docs/protocol.md: escaping, round trips over a real
 * socket pair, and refusal of bad magic, bad version and oversized frames. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "common/protocol.h"

static void put32(unsigned char *b, unsigned v) {
  b[0] = (unsigned char)(v >> 24); b[1] = (unsigned char)(v >> 16); b[2] = (unsigned char)(v >> 8); b[3] = (unsigned char)v;
}

int main(void) {
  struct proto_msg m, r;
  proto_init(&m, MSG_HELLO);
  CHECK(proto_add(&m, "upid", "abc-1-2") == 0);
  CHECK(proto_add(&m, "argv", "a%b\nc=d\x01") == 0);
  CHECK(proto_add_u64(&m, "real_pid", 4711) == 0);
  CHECK(memmem(m.payload, m.len, "argv=a%25b%0Ac=d%01\n", 20) != NULL);
  char buf[64];
  CHECK(proto_get(&m, "argv", buf, sizeof buf) == 0 && strcmp(buf, "a%b\nc=d\x01") == 0);
  CHECK(proto_get_ll(&m, "real_pid", -1) == 4711);
  CHECK(proto_get_ll(&m, "missing", -7) == -7);
  CHECK(proto_get(&m, "upi", buf, sizeof buf) == -1); /* a prefix is not a key */

  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(proto_send(sv[0], &m) == 0);
  CHECK(proto_recv(sv[1], &r) == 0);
  CHECK(r.type == MSG_HELLO && r.len == m.len && memcmp(r.payload, m.payload, m.len) == 0);

  unsigned char bad[12];
  put32(bad, 0x12345678); bad[4] = 0; bad[5] = 1; bad[6] = 0; bad[7] = 1; put32(bad + 8, 0);
  CHECK(write(sv[0], bad, 12) == 12);
  CHECK(proto_recv(sv[1], &r) == -1); /* bad magic */
  put32(bad, PROTO_MAGIC); bad[5] = 2;
  CHECK(write(sv[0], bad, 12) == 12);
  CHECK(proto_recv(sv[1], &r) == -1); /* wrong version */
  bad[5] = 1; put32(bad + 8, 1u << 24);
  CHECK(write(sv[0], bad, 12) == 12);
  CHECK(proto_recv(sv[1], &r) == -1); /* oversized */
  put32(bad + 8, 100);
  CHECK(write(sv[0], bad, 12) == 12);
  close(sv[0]);
  CHECK(proto_recv(sv[1], &r) == -1); /* truncated */
  close(sv[1]);

  /* A payload that does not fit is refused, not overrun. */
  proto_init(&m, MSG_UPDATE);
  char big[2048];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  int refused = 0;
  for (int i = 0; i < 20 && !refused; i++) refused = proto_add(&m, "k", big) != 0;
  CHECK(refused && m.len <= sizeof m.payload);
  CHECK_DONE("test_protocol");
}
