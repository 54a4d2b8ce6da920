package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A temporary file the program has open comes back with its contents at the checkpoint when it
 * is gone at restart (gcc's driver deletes the files of a compiler it saw killed), and so does
 * a file deleted while open (tmpfile). Corpus program tmpfiles checks both files' contents.
 */
class TemporaryFilesTest {
  @Test
  void temporaryFilesGoneAtRestartComeBackWithTheirContents() throws Exception {
    Path named = null;
    try (LiveProcesses live = new LiveProcesses("tmpfiles")) {
      String port = live.startCoordinator();
      Process launched = live.start("run0", bin("dmtcp_launch"), "-j", "-p", port, corpus("tmpfiles"));
      await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 3);
      named = Path.of(CaseRun.read(live.out("run0")).lines().filter(l -> l.startsWith("TMPFILE "))
          .findFirst().orElseThrow().substring(8));
      String previous = "run0";
      for (int cycle = 1; cycle <= 2; cycle++) {
        assertEquals(0, live.command(port, "-bc"));
        assertEquals(0, live.command(port, "-k"));
        assertTrue(launched.waitFor(30, TimeUnit.SECONDS));
        Files.delete(named);
        List<String> restart = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
        restart.addAll(live.images());
        String run = "run" + cycle;
        launched = live.start(run, restart.toArray(String[]::new));
        long seen = ProgressLog.read(live.out(previous)).last();
        await(() -> ProgressLog.read(live.out(run)).last() >= seen + 10);
        String out = CaseRun.read(live.out(run));
        assertTrue(ProgressLog.read(live.out(run)).errors().isEmpty(), out);
        // (the deleted one comes back as a deleted file: tmpfiles checks its contents itself)
        assertTrue(out.contains("recreated " + named + " from the image"), out);
        assertTrue(Files.exists(named), "the named temporary file is back");
        previous = run;
      }
      assertEquals(0, live.command(port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, live.command(port, "-q"));
    } finally {
      if (named != null) {
        Files.deleteIfExists(named);
      }
    }
  }
}
