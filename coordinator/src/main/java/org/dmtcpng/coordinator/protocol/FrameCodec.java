package org.dmtcpng.coordinator.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Frame layout and field escaping of docs/protocol.md, section 1, independent of any transport:
 * the Netty pipeline and the plain-socket client both use it.
 */
public final class FrameCodec {
  public static final int MAGIC = 0x444D5443;
  public static final int VERSION = 1;
  public static final int HEADER_BYTES = 12;
  public static final int MAX_PAYLOAD = 1 << 20;
  private static final Pattern KEY = Pattern.compile("[a-z_][a-z0-9_]*");
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private FrameCodec() {}

  /** Checks a header and returns the payload length it announces. */
  public static int payloadLength(int magic, int version, int type, long length) {
    if (magic != MAGIC) {
      throw new ProtocolException("bad magic 0x" + Integer.toHexString(magic));
    }
    if (version != VERSION) {
      throw new ProtocolException("wrong protocol version " + version);
    }
    if (length < 0 || length > MAX_PAYLOAD) {
      throw new ProtocolException("oversized frame (" + length + " bytes)");
    }
    if (!MessageType.isKnown(type)) {
      throw new ProtocolException("unknown message type " + type);
    }
    return (int) length;
  }

  public static Frame decodePayload(int type, byte[] payload) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(payload)).toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException("malformed payload (not UTF-8)");
    }
    Frame frame = Frame.of(type);
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        throw new ProtocolException("malformed payload (unterminated line)");
      }
      String line = text.substring(start, end);
      int eq = line.indexOf('=');
      if (eq <= 0 || !KEY.matcher(line.substring(0, eq)).matches()) {
        throw new ProtocolException("malformed payload (bad line)");
      }
      frame.with(line.substring(0, eq), unescape(line.substring(eq + 1)));
      start = end + 1;
    }
    return frame;
  }

  public static byte[] encode(Frame frame) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : frame.fields()) {
      body.writeBytes(e.getKey().getBytes(StandardCharsets.UTF_8));
      body.write('=');
      body.writeBytes(escape(e.getValue()).getBytes(StandardCharsets.UTF_8));
      body.write('\n');
    }
    byte[] payload = body.toByteArray();
    ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    out.putInt(MAGIC).putShort((short) VERSION).putShort((short) frame.type())
        .putInt(payload.length).put(payload);
    return out.array();
  }

  static String escape(String value) {
    StringBuilder sb = new StringBuilder(value.length());
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c == '%' || c < 0x20) {
        out.write('%');
        out.write(HEX[c >> 4]);
        out.write(HEX[c & 15]);
      } else {
        out.write(c);
      }
    }
    sb.append(out.toString(StandardCharsets.UTF_8));
    return sb.toString();
  }

  static String unescape(String value) {
    if (value.indexOf('%') < 0) {
      return value;
    }
    byte[] in = value.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length) {
        int hi = Character.digit(in[i + 1], 16);
        int lo = Character.digit(in[i + 2], 16);
        if (hi >= 0 && lo >= 0) {
          out.write(hi * 16 + lo);
          i += 2;
          continue;
        }
      }
      out.write(in[i]);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
