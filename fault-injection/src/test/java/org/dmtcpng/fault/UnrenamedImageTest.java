package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The window the TLA+ model points at: a member dies after its generation was committed but
 * before it renamed its image, so its final name still holds the previous generation and the
 * committed one is its complete .part. dmtcp_restart given the generation's images must finish
 * that commit and restart the whole generation, not refuse it.
 */
class UnrenamedImageTest {
  @Test
  void aCommittedImageLeftAsPartIsRenamedAndRestarted() throws Exception {
    try (Computation c = Computation.start("unrenamed")) {
      c.launch("a", Bin.corpus("counter").toString());
      c.launch("b", Bin.corpus("counter").toString());
      c.awaitRunning(2, Duration.ofSeconds(60));
      assertEquals(0, c.command("--bcheckpoint").exitCode(), "generation 1");
      List<Path> images = c.imagesOfRestartScript();
      Path b = images.get(1);
      byte[] bGeneration1 = Files.readAllBytes(b);
      assertEquals(0, c.command("--bcheckpoint").exitCode(), "generation 2");
      // b "died before its rename": generation 2 stays as .part, generation 1 under the final name
      Files.move(b, b.resolveSibling(b.getFileName() + ".part"), StandardCopyOption.REPLACE_EXISTING);
      Files.write(b, bGeneration1);
      assertEquals(1, Images.generation(b));
      c.command("--kill");
      c.killAll();
      Computation.awaitTrue(Duration.ofSeconds(30), "the computation to be gone",
          () -> c.status().contains("NUM_PEERS=0"));

      c.restart("restarted", images);
      c.awaitRunning(2, Duration.ofSeconds(60));
      assertEquals(2, Images.generation(b), "the committed image was renamed into place");
      assertFalse(Files.exists(b.resolveSibling(b.getFileName() + ".part")));
    }
  }
}
