package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Files that changed or vanished between checkpoint and restart. By default a file the program
 * had open and that is gone stops the restart: one line naming the file, exit 99, before
 * anything of the images is mapped. With --ckpt-open-files the image holds the file's contents
 * and a file that is gone is put back; a file that is there is kept, unless the computation was
 * launched with --allow-file-overwrite, when the saved contents replace it.
 */
class OpenFileGoneTest {
  @Test
  void aFileThatIsGoneStopsTheRestartInOneLine() throws Exception {
    try (Computation c = Computation.start("file-gone")) {
      Path notes = c.launchHolding("original contents\n");
      List<Path> images = c.checkpointAndKill();
      Files.delete(notes);

      Bin.Result r = Bin.run(60, c.dir, restartCommand(c, images));
      assertEquals(99, r.exitCode(), r.stderr());
      List<String> lines = r.stderrLines();
      assertEquals(1, lines.size(), "one line: " + r.stderr());
      assertTrue(lines.get(0).contains(notes.toString()) && lines.get(0).contains("gone"),
          lines.get(0));
    }
  }

  @Test
  void withCkptOpenFilesAFileThatIsGoneIsPutBack() throws Exception {
    try (Computation c = Computation.start("file-saved")) {
      Path notes = c.launchHolding("saved in the image\n", "--ckpt-open-files");
      byte[] before = Files.readAllBytes(notes);
      List<Path> images = c.checkpointAndKill();
      Files.delete(notes);
      c.restart("restarted", images);
      c.awaitRunning(1, Duration.ofSeconds(60));
      assertArrayEquals(before, Files.readAllBytes(notes));
    }
  }

  @Test
  void aSavedFileThatIsThereIsKeptUnlessOverwriteIsAllowed() throws Exception {
    try (Computation c = Computation.start("file-kept")) {
      Path notes = c.launchHolding("saved\n", "--ckpt-open-files");
      List<Path> images = c.checkpointAndKill();
      Files.writeString(notes, "changed after the checkpoint\n");
      c.restart("restarted", images);
      c.awaitRunning(1, Duration.ofSeconds(60));
      assertEquals("changed after the checkpoint\n", Files.readString(notes));
    }
    try (Computation c = Computation.start("file-overwritten")) {
      Path notes = c.launchHolding("saved\n", "--ckpt-open-files", "--allow-file-overwrite");
      List<Path> images = c.checkpointAndKill();
      Files.writeString(notes, "changed after the checkpoint\n");
      c.restart("restarted", images);
      c.awaitRunning(1, Duration.ofSeconds(60));
      assertEquals("saved\n", Files.readString(notes));
    }
  }

  private static String[] restartCommand(Computation c, List<Path> images) {
    List<String> argv = new ArrayList<>(List.of(Bin.path("dmtcp_restart"), "-q", "-j", "-p", Integer.toString(c.port)));
    images.forEach(i -> argv.add(i.toString()));
    return argv.toArray(String[]::new);
  }
}
