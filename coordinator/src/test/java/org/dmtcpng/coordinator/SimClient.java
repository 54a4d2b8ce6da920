package org.dmtcpng.coordinator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.MessageType;

/**
 * A simulated checkpointed process speaking the protocol over real TCP. It can answer the barrier
 * by itself (auto mode), crash (close its socket) on a chosen ADVANCE, or be driven by hand.
 */
final class SimClient implements AutoCloseable {
  final String upid;
  private final CommandClient conn;
  private final BlockingQueue<Frame> inbox = new LinkedBlockingQueue<>();
  final List<String> events = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean auto;
  private volatile String crashOn;
  private volatile boolean closed;
  volatile long reachedCheckpointedAt;
  volatile long firstAdvanceAfterCheckpointAt;
  Frame welcome;

  SimClient(int port, String upid) throws IOException {
    this.upid = upid;
    this.conn = new CommandClient("127.0.0.1", port, 2000);
  }

  static SimClient join(int port, String upid) throws IOException {
    SimClient c = new SimClient(port, upid);
    c.hello(Frame.of(MessageType.HELLO).with("role", "process").with("upid", upid)
        .with("host", "testhost").with("real_pid", 100).with("vpid", 100).with("program", "sim")
        .with("state", "RUNNING").with("restart", 0));
    return c;
  }

  /**
   * A forked child's connection as its parent makes it: ATTACH with the token its parent announces
   * with EXPECT. The child's HELLO comes later ({@link #helloAsChild}), or never.
   */
  static SimClient attached(int port, String parentUpid, String token, String upid) throws IOException {
    SimClient c = new SimClient(port, upid);
    c.conn.send(Frame.of(MessageType.ATTACH).with("parent", parentUpid).with("token", token));
    return c;
  }

  SimClient helloAsChild() throws IOException {
    hello(Frame.of(MessageType.HELLO).with("role", "process").with("upid", upid)
        .with("host", "testhost").with("real_pid", 101).with("vpid", 101).with("program", "sim")
        .with("state", "RUNNING").with("restart", 0));
    return this;
  }

  static SimClient rejoin(int port, String upid, String comp, long generation, int members) throws IOException {
    SimClient c = new SimClient(port, upid);
    c.hello(Frame.of(MessageType.HELLO).with("role", "process").with("upid", upid)
        .with("comp_id", comp).with("host", "testhost").with("real_pid", 200).with("vpid", 100)
        .with("program", "sim").with("state", "RESTARTING").with("restart", 1)
        .with("generation", generation).with("num_members", members).with("image", "/x/" + upid));
    return c;
  }

  private void hello(Frame hello) throws IOException {
    conn.send(hello);
    welcome = conn.receive();
    Thread reader = new Thread(this::readLoop, "sim-" + upid);
    reader.setDaemon(true);
    reader.start();
  }

  /** Answers every ADVANCE and ABORT by itself from now on. */
  SimClient auto() {
    auto = true;
    Frame f;
    while ((f = inbox.poll()) != null) {
      handleAuto(f);
    }
    return this;
  }

  /** Closes the socket when an ADVANCE to this state arrives (implies auto). */
  SimClient crashOn(String state) {
    crashOn = state;
    return auto();
  }

  private void readLoop() {
    try {
      while (true) {
        Frame f = conn.receive();
        events.add(describe(f));
        if (f.type() == MessageType.ADVANCE && reachedCheckpointedAt != 0
            && firstAdvanceAfterCheckpointAt == 0) {
          firstAdvanceAfterCheckpointAt = System.nanoTime();
        }
        if (auto) {
          handleAuto(f);
        } else {
          inbox.add(f);
        }
      }
    } catch (IOException e) {
      closed = true;
    }
  }

  private synchronized void handleAuto(Frame f) {
    try {
      if (f.type() == MessageType.ADVANCE) {
        String state = f.get("state");
        if (state.equals(crashOn)) {
          close();
          return;
        }
        reach(state, f.getLong("generation", 0));
      } else if (f.type() == MessageType.ABORT) {
        reach("RUNNING", f.getLong("generation", 0));
      }
    } catch (IOException e) {
      closed = true;
    }
  }

  void reach(String state, long generation) throws IOException {
    Frame r = Frame.of(MessageType.REACHED).with("state", state).with("generation", generation);
    if (state.equals("CHECKPOINTED")) {
      r.with("image", "/ckpt/ckpt_sim_" + upid + ".dmtcp").with("image_bytes", 1).with("host", "testhost");
      reachedCheckpointedAt = System.nanoTime();
    }
    conn.send(r);
  }

  void send(Frame f) throws IOException {
    conn.send(f);
  }

  /** The next frame (by hand mode), or null after the timeout. */
  Frame next(long millis) throws InterruptedException {
    return inbox.poll(millis, TimeUnit.MILLISECONDS);
  }

  Frame expect(int type, String state) throws InterruptedException {
    Frame f = next(5000);
    if (f == null || f.type() != type || (state != null && !state.equals(f.get("state")))) {
      throw new AssertionError(upid + " expected type " + type + " " + state + ", got " + f);
    }
    return f;
  }

  boolean isClosed() {
    return closed;
  }

  private static String describe(Frame f) {
    return f.type() + (f.get("state") != null ? ":" + f.get("state") : "");
  }

  @Override
  public void close() throws IOException {
    closed = true;
    conn.close();
  }
}
