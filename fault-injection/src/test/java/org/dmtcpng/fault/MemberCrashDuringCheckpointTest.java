package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Kills one member of a two-process computation at a random moment of a checkpoint. Whatever
 * the moment, the survivor must go on running, and the restart script must still name a whole
 * generation: every image it names verifies and all carry one generation (a generation of the
 * survivor alone if the victim died before it was stopped); or, in the window
 * between the commit and a member's rename, the odd member's committed image is complete as its
 * .part, from which dmtcp_restart finishes the commit. A failed checkpoint never destroys the
 * last good one.
 */
class MemberCrashDuringCheckpointTest {
  @Test
  void theLastGoodGenerationSurvivesAMemberKilledMidCheckpoint() throws Exception {
    Random random = Campaign.random("member-crash");
    int rounds = Campaign.rounds(3, 40);
    for (int round = 0; round < rounds; round++) {
      try (Computation c = Computation.start("crash")) {
        Process survivor = c.launch("a", Bin.corpus("counter").toString());
        Process victim = c.launch("b", Bin.corpus("counter").toString());
        c.awaitRunning(2, Duration.ofSeconds(60));
        assertEquals(0, c.command("--bcheckpoint").exitCode(), "first checkpoint");
        List<Path> good = c.imagesOfRestartScript();
        assertEquals(2, good.size(), "generation 1 images in the script: " + good);

        assertEquals(0, c.command("--checkpoint").exitCode(), "second checkpoint request");
        Thread.sleep(random.nextInt(400));
        Bin.signal(victim.pid(), "KILL");

        c.awaitRunning(1, Duration.ofSeconds(60));
        assertTrue(survivor.isAlive(), "round " + round + ": the survivor died");
        checkRestartScriptNamesAWholeGeneration(c, round);
      }
    }
  }

  private static void checkRestartScriptNamesAWholeGeneration(Computation c, int round)
      throws Exception {
    List<Path> images = c.imagesOfRestartScript();
    if (images.size() == 1) {
      // killed before it reported SUSPENDED: it ended before the checkpoint stopped it, and
      // generation 2 was committed without it (docs/protocol.md 3.4)
      assertEquals(0, Images.verify(images.get(0)).exitCode(), "round " + round + ": " + images);
      assertEquals(2, Images.generation(images.get(0)), "round " + round + ": " + images);
      return;
    }
    assertEquals(2, images.size(), "round " + round + ": script names " + images);
    Set<Long> generations = new HashSet<>();
    for (Path image : images) {
      Bin.Result v = Images.verify(image);
      assertEquals(0, v.exitCode(), "round " + round + ": " + image + " does not verify: " + v);
      generations.add(Images.generation(image));
    }
    if (generations.size() > 1) {
      // the window after the commit, before the victim renamed its image: its committed image
      // must be there, complete, as .part, for dmtcp_restart to finish the commit
      // (UnrenamedImageTest restarts from such a set)
      long newest = java.util.Collections.max(generations);
      for (Path image : images) {
        if (Images.generation(image) != newest) {
          Path part = image.resolveSibling(image.getFileName() + ".part");
          assertEquals(0, Images.verify(part).exitCode(), "round " + round + ": no complete " + part);
          assertEquals(newest, Images.generation(part), "round " + round + ": " + part);
        }
      }
    }
  }
}
