package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The validator that reads the corpus programs' own output. */
class ProgressLogTest {
  @Test
  void aRestartThatGoesOnFromTheCheckpointPasses() {
    ProgressLog log = ProgressLog.parse("PROGRESS 16\nPROGRESS 17\nPROGRESS 18\n");
    assertNull(log.checkContinues(15, 16));
    assertNull(log.checkContinues(16, 16));
  }

  @Test
  void aRestartFromTheWrongPlaceFails() {
    assertTrue(ProgressLog.parse("PROGRESS 0\nPROGRESS 1\n").checkContinues(15, 16).contains("counted from 0"));
    assertTrue(ProgressLog.parse("PROGRESS 40\n").checkContinues(15, 16).contains("counted from 40"));
  }

  @Test
  void gapsRepeatsAndErrorsFail() {
    assertTrue(ProgressLog.parse("PROGRESS 3\nPROGRESS 5\n").checkContinues(3, 3).contains("jumped from 3 to 5"));
    assertTrue(ProgressLog.parse("PROGRESS 3\nPROGRESS 3\n").checkConsecutive().contains("jumped"));
    assertTrue(ProgressLog.parse("PROGRESS 3\nERROR heap word differs\n").checkContinues(3, 3)
        .contains("heap word differs"));
    assertEquals("no progress after restart", ProgressLog.parse("").checkContinues(0, 1));
  }

  @Test
  void aLineCutInTheMiddleIsNotCounted() {
    ProgressLog log = ProgressLog.parse("PROGRESS 7\nPROGRESS 8\nPROGR");
    assertEquals(8, log.last());
    assertEquals(2, log.progress().size());
  }

  @Test
  void onlyWhatWasPrintedBeforeTheSnapshotCounts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    java.nio.file.Path out = dir.resolve("run0");
    String before = "PROGRESS 1\nPROGRESS 2\n";
    java.nio.file.Files.writeString(out, before + "ERROR parent: a child ended\n");
    assertTrue(ProgressLog.readPrefix(out, before.length()).errors().isEmpty());
    assertEquals(1, ProgressLog.readPrefix(out, before.length() + 30).errors().size());
    assertEquals(1, ProgressLog.read(out).errors().size());
  }
}
