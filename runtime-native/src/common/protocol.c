/* Frame and field codec of docs/protocol.md. No malloc, no stdio: used by the
 * checkpoint thread while user threads may be stopped holding libc locks. */
#include "protocol.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char HEX[] = "0123456789ABCDEF";

void proto_init(struct proto_msg *m, uint16_t type) {
  m->type = type;
  m->len = 0;
}

int proto_add(struct proto_msg *m, const char *key, const char *value) {
  size_t cap = sizeof m->payload, n = m->len, klen = strlen(key);
  if (n + klen + 2 > cap) return -1;
  memcpy(m->payload + n, key, klen);
  n += klen;
  m->payload[n++] = '=';
  for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
    if (*v == '%' || *v < 0x20) {
      if (n + 4 > cap) return -1;
      m->payload[n++] = '%';
      m->payload[n++] = HEX[*v >> 4];
      m->payload[n++] = HEX[*v & 15];
    } else {
      if (n + 2 > cap) return -1;
      m->payload[n++] = (char)*v;
    }
  }
  m->payload[n++] = '\n';
  m->len = (uint32_t)n;
  return 0;
}

int proto_add_u64(struct proto_msg *m, const char *key, uint64_t value) {
  char buf[24];
  int i = (int)sizeof buf - 1;
  buf[i] = '\0';
  do {
    buf[--i] = (char)('0' + value % 10);
    value /= 10;
  } while (value && i > 0);
  return proto_add(m, key, buf + i);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int proto_get(const struct proto_msg *m, const char *key, char *out, size_t outlen) {
  return proto_get_nth(m, key, 0, out, outlen);
}

int proto_get_nth(const struct proto_msg *m, const char *key, int nth, char *out, size_t outlen) {
  size_t klen = strlen(key), i = 0;
  while (i < m->len) {
    const char *line = m->payload + i;
    const char *end = memchr(line, '\n', m->len - i);
    size_t llen = end ? (size_t)(end - line) : m->len - i;
    if (llen > klen && memcmp(line, key, klen) == 0 && line[klen] == '=' && nth-- == 0) {
      size_t o = 0;
      for (size_t j = klen + 1; j < llen && o + 1 < outlen; j++) {
        int h, l;
        if (line[j] == '%' && j + 2 < llen && (h = hexval(line[j + 1])) >= 0 &&
            (l = hexval(line[j + 2])) >= 0) {
          out[o++] = (char)(h * 16 + l);
          j += 2;
        } else {
          out[o++] = line[j];
        }
      }
      out[o] = '\0';
      return 0;
    }
    i += llen + 1;
  }
  if (outlen) out[0] = '\0';
  return -1;
}

long long proto_get_ll(const struct proto_msg *m, const char *key, long long dflt) {
  char buf[32];
  if (proto_get(m, key, buf, sizeof buf) != 0 || !buf[0]) return dflt;
  long long v = 0;
  int neg = 0;
  const char *p = buf;
  if (*p == '-') { neg = 1; p++; }
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return dflt;
    v = v * 10 + (*p - '0');
  }
  return neg ? -v : v;
}

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len) {
    ssize_t r = read(fd, p, len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) {
      errno = ECONNRESET;
      return -1;
    }
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

static void put32(unsigned char *b, uint32_t v) {
  b[0] = (unsigned char)(v >> 24); b[1] = (unsigned char)(v >> 16);
  b[2] = (unsigned char)(v >> 8); b[3] = (unsigned char)v;
}
static uint32_t get32(const unsigned char *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int proto_send(int fd, const struct proto_msg *m) {
  unsigned char hdr[12];
  put32(hdr, PROTO_MAGIC);
  hdr[4] = 0; hdr[5] = PROTO_VERSION;
  hdr[6] = (unsigned char)(m->type >> 8); hdr[7] = (unsigned char)m->type;
  put32(hdr + 8, m->len);
  struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)m->payload, m->len}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  ssize_t w;
  do w = sendmsg(fd, &mh, MSG_NOSIGNAL); while (w < 0 && errno == EINTR);
  if (w < 0) return -1;
  size_t total = sizeof hdr + m->len;
  if ((size_t)w == total) return 0;
  /* short write: finish the rest */
  if ((size_t)w < sizeof hdr) {
    if (write_all(fd, hdr + w, sizeof hdr - (size_t)w)) return -1;
    return write_all(fd, m->payload, m->len);
  }
  return write_all(fd, m->payload + ((size_t)w - sizeof hdr), total - (size_t)w);
}

int proto_recv(int fd, struct proto_msg *m) {
  unsigned char hdr[12];
  if (read_all(fd, hdr, sizeof hdr)) return -1;
  uint32_t len = get32(hdr + 8);
  if (get32(hdr) != PROTO_MAGIC || hdr[4] != 0 || hdr[5] != PROTO_VERSION ||
      len > sizeof m->payload) {
    errno = EPROTO;
    return -1;
  }
  m->type = (uint16_t)(hdr[6] << 8 | hdr[7]);
  m->len = len;
  return read_all(fd, m->payload, len);
}

int proto_connect(const char *host, int port) {
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
  int rc = getaddrinfo(host, portstr, &hints, &res);
  if (rc != 0) {
    errno = EHOSTUNREACH;
    return -1;
  }
  int fd = -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}
