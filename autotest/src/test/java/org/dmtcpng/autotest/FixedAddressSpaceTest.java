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
 * With address-space randomization off (setarch -R, as some sites run), a restarted program maps
 * its new memory where the checkpoint's own buffers were before the restart. The next image must
 * still hold that memory: the runtime forgets the buffers of the checkpoint it was restarted from.
 */
class FixedAddressSpaceTest {
  @Test
  void memoryMappedAfterARestartIsInTheNextImage() throws Exception {
    try (LiveProcesses live = new LiveProcesses("fixed-address-space")) {
      String port = live.startCoordinator();
      Process launched = live.start("run0", "setarch", "-R", bin("dmtcp_launch"), "-j", "-p", port,
          corpus("mapgrow"));
      await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 3);
      Process previous = launched;
      for (int cycle = 1; cycle <= 2; cycle++) {
        String before = "run" + (cycle - 1);
        // long enough after the start for new blocks to take the whole cycle of 48
        long seen = ProgressLog.read(live.out(before)).last();
        await(() -> ProgressLog.read(live.out(before)).last() >= seen + 60);
        assertEquals(0, live.command(port, "-bc"));
        assertEquals(0, live.command(port, "-k"));
        assertTrue(previous.waitFor(30, TimeUnit.SECONDS));
        List<String> restart = new ArrayList<>(List.of("setarch", "-R", bin("dmtcp_restart"), "-j", "-p", port));
        restart.addAll(live.images());
        String next = "run" + cycle;
        Process restarted = live.start(next, restart.toArray(String[]::new));
        previous = restarted;
        await(() -> ProgressLog.read(live.out(next)).progress().size() >= 3 || !restarted.isAlive());
        ProgressLog log = ProgressLog.read(live.out(next));
        assertTrue(log.progress().size() >= 3 && log.errors().isEmpty(),
            "restart " + cycle + " did not go on: " + CaseRun.read(live.out(next)));
      }
      assertEquals(0, live.command(port, "-k"));
      assertTrue(previous.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, live.command(port, "-q"));
    }
  }
}
