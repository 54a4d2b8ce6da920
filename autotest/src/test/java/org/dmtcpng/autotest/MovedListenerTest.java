package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A restart on a host where a listener's port is taken: the listener comes back on another
 * port, says so, and tells the computation through the name service, so the client's new
 * connections to the old port reach it there, not the process that holds the port now (this
 * test, answering with zeros). Twice: the program's port stays the one it bound.
 */
class MovedListenerTest {
  @Test
  void aListenerWhosePortIsTakenMovesAndItsClientsFollow() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    try (LiveProcesses live = new LiveProcesses("moved")) {
      String p = live.startCoordinator();
      List<Process> running = List.of(live.start("run0", bin("dmtcp_launch"), "-j", "-p", p, corpus("portclient"),
          Integer.toString(port)));
      await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 5);
      String previous = "run0";
      for (int cycle = 1; cycle <= 2; cycle++) {
        long before = ProgressLog.read(live.out(previous)).last();
        assertEquals(0, live.command(p, "-bc"));
        long atCheckpoint = ProgressLog.read(live.out(previous)).last();
        assertEquals(0, live.command(p, "-k"));
        for (Process r : running) {
          assertTrue(r.waitFor(30, TimeUnit.SECONDS));
        }
        try (Squatter squatter = new Squatter(port)) {
          List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", p));
          cmd.addAll(live.images());
          String run = "run" + cycle;
          running = List.of(live.start(run, cmd.toArray(String[]::new)));
          await(() -> ProgressLog.read(live.out(run)).progress().size() >= 10);
          String out = CaseRun.read(live.out(run));
          assertTrue(ProgressLog.read(live.out(run)).errors().isEmpty(), out);
          assertTrue(out.contains("its port is taken"), out);
          assertNull(ProgressLog.read(live.out(run)).checkContinues(before, atCheckpoint));
          previous = run;
        }
      }
      assertEquals(0, live.command(p, "-k"));
    }
  }

  /** Holds the port outside the computation, answering every connection with zeros. */
  private static final class Squatter implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;

    Squatter(int port) throws IOException {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      thread = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept(); OutputStream o = s.getOutputStream()) {
            o.write(new byte[8]);
          } catch (IOException e) {
            return;
          }
        }
      });
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
