package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The two ends of a TCP connection restarted apart, each image by a dmtcp_restart of its own (as
 * when the processes of a computation come back on different hosts): no dmtcp_restart can make
 * the connection itself, so the runtime makes it again through the coordinator's name service
 * before the programs run, and the megabytes that were in flight go back in. The client and
 * server of tcpseq check every number.
 */
class SeparateRestartsTest {
  @Test
  void aConnectionWhoseEndsRestartApartIsMadeAgainWithItsBytes() throws Exception {
    try (LiveProcesses live = new LiveProcesses("separate")) {
      String port = live.startCoordinator();
      Process launched = live.start("run0", bin("dmtcp_launch"), "-j", "-p", port, corpus("tcpseq"));
      await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 5);
      String previous = "run0";
      List<Process> running = List.of(launched);
      for (int cycle = 1; cycle <= 3; cycle++) {
        long before = ProgressLog.read(live.out(previous)).last();
        assertEquals(0, live.command(port, "-bc"));
        long atCheckpoint = ProgressLog.read(live.out(previous)).last();
        assertEquals(0, live.command(port, "-k"));
        for (Process p : running) {
          assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        List<String> images = live.images();
        assertEquals(2, images.size(), "two images");
        List<Process> again = new ArrayList<>();
        for (int k = 0; k < images.size(); k++) {
          again.add(live.start("run" + cycle + "-" + k, bin("dmtcp_restart"), "-j", "-p", port, images.get(k)));
        }
        running = again;
        // the server (the one printing progress) goes on from where it was, with no damage
        String[] outs = {"run" + cycle + "-0", "run" + cycle + "-1"};
        await(() -> {
          for (String o : outs) {
            if (ProgressLog.read(live.out(o)).progress().size() >= 10) {
              return true;
            }
          }
          return false;
        });
        String server = ProgressLog.read(live.out(outs[0])).progress().size() >= 10 ? outs[0] : outs[1];
        for (String o : outs) {
          assertTrue(ProgressLog.read(live.out(o)).errors().isEmpty(), CaseRun.read(live.out(o)));
        }
        String problem = ProgressLog.read(live.out(server)).checkContinues(before, atCheckpoint);
        assertEquals(null, problem, problem);
        previous = server;
      }
      assertEquals(0, live.command(port, "-k"));
      assertEquals(0, live.command(port, "-q"));
    }
  }
}
