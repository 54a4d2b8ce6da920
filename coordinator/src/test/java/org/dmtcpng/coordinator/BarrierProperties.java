package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.dmtcpng.coordinator.barrier.Computation;
import org.dmtcpng.coordinator.protocol.Frame;

/**
 * Random computations against the real server: each round some members join, some crash at a
 * random barrier state, others leave between checkpoints, and a blocking checkpoint runs. The
 * invariants are the model's (spec-tla/Barrier.tla): no member is advanced past CHECKPOINTED
 * before every member has written its image; a committed generation has exactly one image per
 * member that reached CHECKPOINTED; an aborted generation is never committed (the script keeps
 * the previous generation).
 */
class BarrierProperties {
  /** What one member does in a round. */
  enum Fate { RUNS, LEAVES_BEFORE, CRASH_SUSPENDED, CRASH_DRAINED, CRASH_CHECKPOINTED, CRASH_REFILLED, JOINS_LATE }

  @Provide
  Arbitrary<List<List<Fate>>> rounds() {
    return Arbitraries.of(Fate.class).list().ofMinSize(1).ofMaxSize(5).list().ofMinSize(1).ofMaxSize(4);
  }

  @Property(tries = 25)
  void everyGenerationIsWholeOrNotAtAll(@ForAll("rounds") @Size(min = 1) List<List<Fate>> rounds)
      throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0)) {
      String lastScript = null;
      int serial = 0;
      for (List<Fate> round : rounds) {
        List<SimClient> members = new ArrayList<>();
        List<SimClient> late = new ArrayList<>();
        try {
          for (Fate f : round) {
            String upid = "p" + (serial++);
            if (f == Fate.JOINS_LATE) {
              continue;
            }
            SimClient c = SimClient.join(tc.port, upid);
            switch (f) {
              case CRASH_SUSPENDED -> c.crashOn("SUSPENDED");
              case CRASH_DRAINED -> c.crashOn("DRAINED");
              case CRASH_CHECKPOINTED -> c.crashOn("CHECKPOINTED");
              case CRASH_REFILLED -> c.crashOn("REFILLED");
              default -> c.auto();
            }
            members.add(c);
          }
          for (int i = 0; i < round.size(); i++) {
            if (round.get(i) == Fate.LEAVES_BEFORE) {
              members.get(countBefore(round, i)).close();
            }
          }
          long alive = round.stream().filter(f -> f != Fate.LEAVES_BEFORE && f != Fate.JOINS_LATE).count();
          BarrierTest.awaitPeers(tc, (int) alive);
          var done = tc.bcheckpoint();
          if (round.contains(Fate.JOINS_LATE) && alive > 0) {
            late.add(SimClient.join(tc.port, "late" + (serial++)).auto());
          }
          Frame result = done.get(20, TimeUnit.SECONDS);
          // A member lost before it reported SUSPENDED is left out of the generation while others
          // remain; one lost after that (it was stopped, so it was killed) aborts it.
          long endsBeforeStopped = round.stream().filter(f -> f == Fate.CRASH_SUSPENDED).count();
          // When every member ends before it is stopped, the outcome depends on whether the late
          // joiner got in before the request (then it carries the generation) or after.
          boolean killedWhileStopped = round.stream().anyMatch(f -> f == Fate.CRASH_DRAINED
              || f == Fate.CRASH_CHECKPOINTED);
          boolean noneLeft = endsBeforeStopped > 0 && endsBeforeStopped == alive;
          String status = result.get("command_status");
          if (alive == 0) {
            assertEquals("DMT_COORD_NOT_RUNNING", status);
            continue;
          }
          if (killedWhileStopped || (noneLeft && !round.contains(Fate.JOINS_LATE))) {
            assertEquals("DMT_COORD_CKPT_FAILED", status, round.toString());
          } else if (!noneLeft) {
            assertEquals("DMT_COORD_SUCCESS", status, round.toString());
          }
          boolean crashBeforeCommit = status.equals("DMT_COORD_CKPT_FAILED");
          Path link = tc.dir.resolve("dmtcp_restart_script.sh");
          String script = Files.exists(link) ? Files.readString(link) : null;
          if (crashBeforeCommit) {
            assertEquals(lastScript, script, "an aborted generation changed the restart script");
          } else {
            long images = script.lines().filter(l -> l.contains("ckpt_sim_")).mapToLong(
                l -> l.split("ckpt_sim_", -1).length - 1).sum();
            long wrote = java.util.stream.Stream.concat(members.stream(), late.stream())
                .filter(c -> c.reachedCheckpointedAt != 0).count();
            assertEquals(wrote, images, "one image per member that wrote one: " + script);
            assertTrue(images >= alive - endsBeforeStopped, "every member of the generation has an image: " + script);
            for (SimClient c : members) {
              if (c.reachedCheckpointedAt != 0 && c.firstAdvanceAfterCheckpointAt != 0) {
                for (SimClient other : members) {
                  assertTrue(other.reachedCheckpointedAt == 0
                      || other.reachedCheckpointedAt <= c.firstAdvanceAfterCheckpointAt,
                      "a member was advanced before every image was written");
                }
              }
            }
            lastScript = script;
          }
        } finally {
          for (SimClient c : members) {
            c.close();
          }
          for (SimClient c : late) {
            c.close();
          }
          BarrierTest.awaitPeers(tc, 0);
        }
      }
    }
  }

  private static int countBefore(List<Fate> round, int index) {
    int n = 0;
    for (int i = 0; i < index; i++) {
      if (round.get(i) != Fate.JOINS_LATE) {
        n++;
      }
    }
    return n;
  }

  static List<String> states() {
    return Computation.CHECKPOINT_STATES;
  }
}
