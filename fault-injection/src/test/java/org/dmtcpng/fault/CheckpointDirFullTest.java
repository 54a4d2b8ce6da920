package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Starves a checkpoint of disk: the checkpoint directory is a small tmpfs that is filled up
 * after a first good generation. The next checkpoint must fail (dmtcp_command -bc non-zero),
 * the process must go on running, and the good image must be left exactly as it was.
 */
class CheckpointDirFullTest {
  @Test
  void aCheckpointThatRunsOutOfSpaceLeavesTheLastGoodImageIntact() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
    try (Computation c = Computation.start("full")) {
      Path small = c.dir.resolve("small");
      Files.createDirectory(small);
      assertEquals(0, Bin.run(30, c.dir, "mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs",
          small.toString()).exitCode(), "mount tmpfs");
      try {
        c.launchInto(small, "a", Bin.corpus("counter").toString());
        c.awaitRunning(1, Duration.ofSeconds(60));
        assertEquals(0, c.command("--bcheckpoint").exitCode(), "first checkpoint");
        List<Path> images = c.imagesIn(small);
        assertEquals(1, images.size(), "images: " + images);
        byte[] good = Files.readAllBytes(images.get(0));

        // leave less room than another image needs
        Bin.run(60, c.dir, "dd", "if=/dev/zero", "of=" + small.resolve("filler"), "bs=64k");
        Bin.Result second = c.command("--bcheckpoint");
        assertNotEquals(0, second.exitCode(), "a checkpoint into a full disk reported success");

        c.awaitRunning(1, Duration.ofSeconds(60));
        long before = c.lastProgress("a");
        Computation.awaitTrue(Duration.ofSeconds(30), "the program to go on",
            () -> c.lastProgress("a") > before);
        assertArrayEquals(good, Files.readAllBytes(images.get(0)), "the good image changed");
        assertEquals(images, c.imagesIn(small), "images after the failed checkpoint");
      } finally {
        c.killAll();
        Bin.run(30, c.dir, "umount", "-l", small.toString());
      }
    }
  }
}
