package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints that the program resumes from (no kill): tcpqueued keeps its bytes in flight in the
 * receive queues, sent and acknowledged, so the runtime copies them without taking them and puts
 * nothing back. After each checkpoint the program must go on reading exactly what was queued.
 * (autotest's tcpqueued case covers the restart, where they are put back from the images.)
 */
class QueuedBytesResumeTest {
  @Test
  void bytesCopiedFromTheQueuesAreReadOnceAfterEachResume() throws Exception {
    try (LiveProcesses live = new LiveProcesses("queued-resume")) {
      String port = live.startCoordinator();
      live.start("run", bin("dmtcp_launch"), "-j", "-p", port, "--ckptdir", live.work.toString(),
          corpus("tcpqueued"));
      await(() -> rounds(live) >= 2);
      Random random = new Random();
      for (int checkpoint = 1; checkpoint <= 5; checkpoint++) {
        Thread.sleep(random.nextInt(300));
        assertEquals(0, live.command(port, "--bcheckpoint"), "checkpoint " + checkpoint);
        int after = rounds(live);
        await(() -> rounds(live) >= after + 3 || !log(live).errors().isEmpty());
        assertTrue(log(live).errors().isEmpty(), "after checkpoint " + checkpoint + ": " + log(live).errors());
        assertEquals(null, log(live).checkConsecutive(), "after checkpoint " + checkpoint);
      }
      assertEquals(0, live.command(port, "--kill"));
    }
  }

  private static ProgressLog log(LiveProcesses live) {
    return ProgressLog.read(live.out("run"));
  }

  private static int rounds(LiveProcesses live) {
    return log(live).progress().size();
  }
}
