package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stops (SIGSTOP) one member just before a checkpoint: the barrier must wait for it, with the
 * other member held (RUNNING=no), and complete once it is continued, with both images whole.
 */
class MemberStoppedDuringCheckpointTest {
  @Test
  void theBarrierWaitsForAStoppedMemberAndCompletesWhenItContinues() throws Exception {
    try (Computation c = Computation.start("stop")) {
      c.launch("a", Bin.corpus("counter").toString());
      Process stopped = c.launch("b", Bin.corpus("counter").toString());
      c.awaitRunning(2, Duration.ofSeconds(60));

      Bin.signal(stopped.pid(), "STOP");
      assertEquals(0, c.command("--checkpoint").exitCode());
      Computation.awaitTrue(Duration.ofSeconds(30), "the barrier to hold",
          () -> c.status().contains("RUNNING=no"));
      Thread.sleep(1000);
      Computation.assertStatus(c.status(), 2, "no");
      long held = c.lastProgress("a");
      Thread.sleep(500);
      assertEquals(held, c.lastProgress("a"), "a member ran on while the barrier was held");

      Bin.signal(stopped.pid(), "CONT");
      c.awaitRunning(2, Duration.ofSeconds(60));
      List<Path> images = c.imagesOfRestartScript();
      assertEquals(2, images.size(), "images: " + images);
      for (Path image : images) {
        assertEquals(0, Images.verify(image).exitCode(), image + " does not verify");
      }
    }
  }
}
