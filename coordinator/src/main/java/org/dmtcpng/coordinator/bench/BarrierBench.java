package org.dmtcpng.coordinator.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.FrameCodec;
import org.dmtcpng.coordinator.protocol.MessageType;

/**
 * Benchmark, not a test: N simulated processes (one selector thread, non-blocking sockets) join a
 * real coordinator and go through one full checkpoint barrier. Prints the wall time of the
 * blocking checkpoint request and the time to join.
 * usage: BarrierBench PORT N
 */
public final class BarrierBench {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int n = Integer.parseInt(args[1]);
    Selector selector = Selector.open();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      ch.write(ByteBuffer.wrap(FrameCodec.encode(Frame.of(MessageType.HELLO).with("role", "process")
          .with("upid", "bench-" + i).with("host", "bench").with("real_pid", i).with("vpid", i)
          .with("program", "bench").with("state", "RUNNING").with("restart", 0))));
      ch.configureBlocking(false);
      ch.register(selector, SelectionKey.OP_READ, ByteBuffer.allocate(4096));
    }
    waitForPeers(port, n);
    long joined = System.nanoTime();
    CompletableFuture<Frame> result = CompletableFuture.supplyAsync(() -> {
      try (CommandClient c = new CommandClient("127.0.0.1", port, 5000)) {
        return c.command("bcheckpoint", null);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
    long start = System.nanoTime();
    while (!result.isDone()) {
      selector.select(100);
      for (SelectionKey key : selector.selectedKeys()) {
        serve((SocketChannel) key.channel(), (ByteBuffer) key.attachment(), key);
      }
      selector.selectedKeys().clear();
    }
    long end = System.nanoTime();
    Frame r = result.get();
    System.out.printf("clients=%d join_s=%.3f barrier_s=%.3f status=%s%n", n,
        (joined - t0) / 1e9, (end - start) / 1e9, r.get("command_status"));
  }

  private static void serve(SocketChannel ch, ByteBuffer in, SelectionKey key) throws IOException {
    if (ch.read(in) < 0) {
      key.cancel();
      return;
    }
    in.flip();
    while (in.remaining() >= FrameCodec.HEADER_BYTES) {
      int at = in.position();
      int len = in.getInt(at + 8);
      if (in.remaining() < FrameCodec.HEADER_BYTES + len) {
        break;
      }
      int type = in.getShort(at + 6);
      byte[] payload = new byte[len];
      in.position(at + FrameCodec.HEADER_BYTES);
      in.get(payload);
      Frame f = FrameCodec.decodePayload(type, payload);
      if (type == MessageType.ADVANCE) {
        String state = f.get("state");
        Frame reply = Frame.of(MessageType.REACHED).with("state", state).with("generation", f.get("generation"));
        if (state.equals("CHECKPOINTED")) {
          reply.with("image", "/bench/ckpt_bench_" + key.hashCode() + ".dmtcp").with("host", "bench");
        }
        ByteBuffer out = ByteBuffer.wrap(FrameCodec.encode(reply));
        while (out.hasRemaining()) {
          ch.write(out);
        }
      }
    }
    in.compact();
  }

  private static void waitForPeers(int port, int n) throws Exception {
    while (true) {
      try (CommandClient c = new CommandClient("127.0.0.1", port, 5000)) {
        if (Integer.parseInt(c.command("status", null).get("num_peers")) == n) {
          return;
        }
      }
      Thread.sleep(50);
    }
  }
}
