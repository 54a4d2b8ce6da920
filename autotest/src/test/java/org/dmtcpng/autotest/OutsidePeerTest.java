package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection to a peer outside the computation (here: this test, echoing): the checkpoint
 * says so in one line naming it; after a restart the socket is not connected, and the program
 * sees an ordinary connection failure and goes on (never a hang).
 */
class OutsidePeerTest {
  @Test
  void aConnectionToOutsideIsReportedAndFailsCleanlyAfterARestart() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
         LiveProcesses live = new LiveProcesses("outside")) {
      Thread server = new Thread(() -> serve(echo));
      server.setDaemon(true);
      server.start();
      String port = live.startCoordinator();
      Process launched = live.start("run0", bin("dmtcp_launch"), "-j", "-p", port, corpus("outsideclient"),
          Integer.toString(echo.getLocalPort()));
      await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 3);
      long before = ProgressLog.read(live.out("run0")).last();
      assertEquals(0, live.command(port, "-bc"));
      long atCheckpoint = ProgressLog.read(live.out("run0")).last();
      String said = CaseRun.read(live.out("run0"));
      assertTrue(said.contains("leads outside the computation") && said.contains("127.0.0.1:" + echo.getLocalPort()), said);
      assertEquals(0, live.command(port, "-k"));
      launched.waitFor();
      List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
      cmd.addAll(live.images());
      live.start("run1", cmd.toArray(String[]::new));
      await(() -> ProgressLog.read(live.out("run1")).progress().size() >= 10);
      String out = CaseRun.read(live.out("run1"));
      assertTrue(out.contains("DISCONNECTED"), out);
      assertTrue(ProgressLog.read(live.out("run1")).errors().isEmpty(), out);
      assertNull(ProgressLog.read(live.out("run1")).checkContinues(before, atCheckpoint));
      assertEquals(0, live.command(port, "-k"));
    }
  }

  private static void serve(ServerSocket echo) {
    while (!echo.isClosed()) {
      try (Socket s = echo.accept()) {
        DataInputStream in = new DataInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        byte[] eight = new byte[8];
        while (true) {
          in.readFully(eight);
          out.write(eight);
        }
      } catch (IOException e) {
        // the client went away; take the next one
      }
    }
  }
}
