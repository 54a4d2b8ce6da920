package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A thread that blocks every signal with a raw system call cannot be stopped: the checkpoint
 * must fail (not hang), leave no image behind, and the program must go on running.
 */
class UnstoppableThreadTest {
  @Test
  void aThreadThatCannotBeStoppedFailsTheCheckpointInsteadOfHangingIt() throws Exception {
    try (Computation c = Computation.start("unstoppable")) {
      c.launch("p", Bin.corpus("sigblocker").toString());
      c.awaitRunning(1, Duration.ofSeconds(60));
      Bin.Result r = c.command("--bcheckpoint");
      assertNotEquals(0, r.exitCode(), "the checkpoint cannot have succeeded: " + r);
      assertTrue(c.images().isEmpty(), "no image may be left: " + c.images());
      assertFalse(Files.exists(c.dir.resolve("dmtcp_restart_script.sh")));
      c.awaitRunning(1, Duration.ofSeconds(30));
      long before = c.lastProgress("p");
      Computation.awaitTrue(Duration.ofSeconds(30), "the program to go on",
          () -> c.lastProgress("p") > before);
      assertTrue(Computation.readQuietly(c.dir.resolve("p.out")).contains("did not stop"),
          "the runtime says why");
    }
  }
}
