package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A file mapped read-only is taken as it is at restart (QUICK-START's heuristic), and not
 * stored. One whose mtime changed but whose bytes did not (a cache regenerated the same, as
 * glibc's gconv-modules.cache is by package installs) must still restart, with the program
 * seeing the same bytes: corpus mapfiles checks them.
 */
class MappedFileTouchedTest {
  @Test
  void aMappedFileTouchedSinceTheCheckpointStillRestarts() throws Exception {
    try (Computation c = Computation.start("mapped-touched")) {
      c.launch("mapfiles", Bin.corpus("mapfiles").toString());
      c.awaitRunning(1, Duration.ofSeconds(60));
      assertEquals(0, c.command("--bcheckpoint").exitCode());
      List<Path> images = c.imagesOfRestartScript();
      c.command("--kill");
      Computation.awaitTrue(Duration.ofSeconds(30), "the computation to be gone", () -> c.status().contains("NUM_PEERS=0"));
      Path ro = c.dir.resolve("mapfiles-ro");
      Files.setLastModifiedTime(ro, FileTime.from(Instant.now().plusSeconds(60)));
      c.restart("restarted", images);
      c.awaitRunning(1, Duration.ofSeconds(60));
      Thread.sleep(1500);
      String out = Computation.readQuietly(c.dir.resolve("restarted.out"));
      assertFalse(out.contains("ERROR"), out);
      assertFalse(out.contains("changed since the checkpoint"), out);
    }
  }
}
