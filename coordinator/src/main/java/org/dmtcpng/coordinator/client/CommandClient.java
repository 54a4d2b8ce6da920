package org.dmtcpng.coordinator.client;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.FrameCodec;
import org.dmtcpng.coordinator.protocol.MessageType;
import org.dmtcpng.coordinator.protocol.ProtocolException;

/** A blocking client of the coordinator over plain sockets: dmtcp_command and the tests. */
public final class CommandClient implements AutoCloseable {
  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  public CommandClient(String host, int port, int connectTimeoutMillis) throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  public void send(Frame f) throws IOException {
    out.write(FrameCodec.encode(f));
    out.flush();
  }

  public Frame receive() throws IOException {
    int magic = in.readInt();
    int version = in.readUnsignedShort();
    int type = in.readUnsignedShort();
    long length = in.readInt() & 0xffffffffL;
    int len = FrameCodec.payloadLength(magic, version, type, length);
    byte[] payload = new byte[len];
    in.readFully(payload);
    return FrameCodec.decodePayload(type, payload);
  }

  /** Sends one COMMAND and waits for its COMMAND_RESULT. */
  public Frame command(String command, Long interval) throws IOException {
    Frame f = Frame.of(MessageType.COMMAND).with("command", command);
    if (interval != null) {
      f.with("interval", interval);
    }
    send(f);
    Frame reply = receive();
    if (reply.type() != MessageType.COMMAND_RESULT) {
      throw new ProtocolException("unexpected reply type " + reply.type());
    }
    return reply;
  }

  public void setReadTimeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
