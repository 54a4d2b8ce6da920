package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed, truncated, oversized and wrong-version input closes that connection with one log
 * line, and the coordinator goes on serving the others.
 */
class BadInputTest {
  static byte[] frame(int magic, int version, int type, int length, String payload) {
    byte[] p = payload.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(12 + p.length).putInt(magic).putShort((short) version)
        .putShort((short) type).putInt(length).put(p).array();
  }

  static Stream<Arguments> badInput() {
    int m = 0x444D5443;
    return Stream.of(
        Arguments.of("bad magic", frame(0x12345678, 1, 30, 0, ""), "bad magic"),
        Arguments.of("wrong version", frame(m, 2, 30, 0, ""), "wrong protocol version 2"),
        Arguments.of("oversized", frame(m, 1, 30, 1 << 24, ""), "oversized frame"),
        Arguments.of("unknown type", frame(m, 1, 999, 0, ""), "unknown message type 999"),
        Arguments.of("bad line", frame(m, 1, 30, 8, "noequal\n"), "malformed payload"),
        Arguments.of("bad key", frame(m, 1, 30, 6, "K=v\nx\n".substring(0, 6)), "malformed payload"),
        Arguments.of("not utf-8", frame(m, 1, 30, 4, "k=\u00ff\n").clone(), "malformed"),
        Arguments.of("REACHED before HELLO", frame(m, 1, 11, 0, ""), "first message must be HELLO"),
        Arguments.of("HELLO without upid", frame(m, 1, 1, 13, "role=process\n"), "missing field upid"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void badInputClosesOnlyThatConnection(String what, byte[] bytes, String logged) throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient good = SimClient.join(tc.port, "good").auto()) {
      if (what.equals("not utf-8")) {
        bytes = frame(0x444D5443, 1, 30, 3, "").clone();
        bytes = ByteBuffer.allocate(15).put(bytes, 0, 12).put(new byte[] {'k', '=', (byte) 0xff}).array();
      }
      try (Socket s = new Socket("127.0.0.1", tc.port)) {
        s.setSoTimeout(5000);
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
        InputStream in = s.getInputStream();
        assertEquals(-1, in.read(), what + ": the connection must be closed");
      }
      assertEquals("1", tc.command("status").get("num_peers"), "the good client is still served");
      String log = tc.log();
      assertTrue(log.contains(logged), what + ": log was\n" + log);
      assertEquals(1, log.lines().filter(l -> l.contains("closing connection")).count(), log);
    }
  }

  @org.junit.jupiter.api.Test
  void aTruncatedFrameIsADisconnectAndNothingMore() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient good = SimClient.join(tc.port, "good").auto()) {
      try (Socket s = new Socket("127.0.0.1", tc.port)) {
        s.getOutputStream().write(frame(0x444D5443, 1, 30, 100, "command=sta"));
      }
      Thread.sleep(200);
      assertEquals("1", tc.command("status").get("num_peers"));
    }
  }
}
