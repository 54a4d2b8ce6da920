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
 * A process that forks a short-lived child every 10 ms is checkpointed again and again: forks
 * wait for a checkpoint and checkpoints for a fork, children join and leave the computation
 * around the barrier, and every checkpoint succeeds. The last generation restarts (with whatever
 * children it caught) and the parent goes on counting.
 */
class ForkDuringCheckpointTest {
  @Test
  void checkpointsOfAProcessThatForksAllTheTimeSucceedAndRestart() throws Exception {
    try (LiveProcesses live = new LiveProcesses("forkstorm")) {
      String port = live.startCoordinator();
      Process launched = live.start("run1", bin("dmtcp_launch"), "-j", "-p", port, LiveProcesses.corpus("forkstorm"));
      Path out = live.out("run1");
      await(() -> ProgressLog.read(out).progress().size() >= 20);
      long low = 0;
      long high = 0;
      for (int i = 0; i < 6; i++) {
        low = ProgressLog.read(out).last();
        assertEquals(0, live.command(port, "-bc"), "checkpoint " + (i + 1));
        high = ProgressLog.read(out).last();
        long seen = high;
        await(() -> ProgressLog.read(out).last() >= seen + 5);
      }
      ProgressLog before = ProgressLog.read(out);
      assertTrue(before.errors().isEmpty(), before.errors().toString());
      assertNull(before.checkConsecutive());
      assertEquals(0, live.command(port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS), "the process died on --kill");
      live.start("run2", live.work.resolve("dmtcp_restart_script.sh").toString());
      Path out2 = live.out("run2");
      await(() -> ProgressLog.read(out2).progress().size() >= 20);
      assertNull(ProgressLog.read(out2).checkContinues(low, high + 1), CaseRun.read(out2));
      assertEquals(0, live.command(port, "-bc"), "a checkpoint after restart");
      assertEquals(0, live.command(port, "-q"));
    }
  }
}
