package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Children forked while the checkpoint thread is still busy with the checkpoint that just ended
 * (its image reaching the disk after the program runs again) are members like any other: each
 * later checkpoint, which takes them in, completes. A child that inherited a lock its parent's
 * checkpoint thread held at the fork never answered, and the next checkpoint waited for it.
 */
class ForkAfterCheckpointTest {
  @Test
  void childrenForkedRightAfterACheckpointTakePartInTheNextOnes() throws Exception {
    try (LiveProcesses live = new LiveProcesses("forklinger")) {
      String port = live.startCoordinator();
      live.start("run1", bin("dmtcp_launch"), "-j", "-p", port, LiveProcesses.corpus("forklinger"));
      Path out = live.out("run1");
      await(() -> ProgressLog.read(out).progress().size() >= 40);
      for (int i = 0; i < 8; i++) {
        // a member that never answers holds the checkpoint for ever; 20 s is far longer than one takes here
        Process bc = new ProcessBuilder(bin("dmtcp_command"), "-p", port, "-bc").redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        boolean done = bc.waitFor(20, TimeUnit.SECONDS);
        bc.destroyForcibly();
        assertTrue(done && bc.exitValue() == 0, "checkpoint " + (i + 1) + " did not complete");
        assertTrue(LiveProcesses.peers(port) > 1, "no child was a member");
        Thread.sleep(150);
      }
      ProgressLog log = ProgressLog.read(out);
      assertTrue(log.errors().isEmpty(), log.errors().toString());
      assertNull(log.checkConsecutive());
      assertEquals(0, live.command(port, "-q"));
    }
  }
}
