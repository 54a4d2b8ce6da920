package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.coordinator.barrier.Computation;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.MessageType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The checkpoint and restart barriers of docs/protocol.md, against the real server over TCP. */
class BarrierTest {
  @Test
  void aBarrierAdvancesOnlyWhenEveryMemberHasReachedIt() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a");
         SimClient b = SimClient.join(tc.port, "b")) {
      assertEquals("RUNNING", a.welcome.get("state"));
      var done = tc.bcheckpoint();
      for (String state : Computation.CHECKPOINT_STATES) {
        Frame fa = a.expect(MessageType.ADVANCE, state);
        b.expect(MessageType.ADVANCE, state);
        a.reach(state, fa.getLong("generation", 0));
        assertNull(a.next(200), "a was advanced before b reached " + state);
        b.reach(state, fa.getLong("generation", 0));
      }
      Frame result = done.get(10, TimeUnit.SECONDS);
      assertEquals("DMT_COORD_SUCCESS", result.get("command_status"));
      assertEquals("1", result.get("last_ckpt_generation"));
      Path link = tc.dir.resolve("dmtcp_restart_script.sh");
      assertTrue(Files.isSymbolicLink(link), "dmtcp_restart_script.sh is a symlink");
      Path script = link.resolveSibling(Files.readSymbolicLink(link));
      assertTrue(Files.isExecutable(script));
      String text = Files.readString(script);
      assertTrue(text.contains("/ckpt/ckpt_sim_a.dmtcp") && text.contains("/ckpt/ckpt_sim_b.dmtcp"), text);
      assertTrue(text.contains("'/opt/dmtcp/bin/dmtcp_restart'"), text);
      assertTrue(text.contains("coord_port=${DMTCP_COORD_PORT:-" + tc.port + "}"), text);
    }
  }

  @Test
  void aMemberThatEndsBeforeItIsStoppedIsLeftOutOfTheGeneration() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a").auto();
         SimClient b = SimClient.join(tc.port, "b").crashOn("SUSPENDED")) {
      Frame result = tc.bcheckpoint().get(10, TimeUnit.SECONDS);
      assertEquals("DMT_COORD_SUCCESS", result.get("command_status"));
      assertFalse(a.events.contains(MessageType.ABORT + ""), a.events.toString());
      String script = Files.readString(tc.dir.resolve("dmtcp_restart_script.sh"));
      assertTrue(script.contains("ckpt_sim_a.dmtcp") && !script.contains("ckpt_sim_b.dmtcp"), script);
    }
  }

  @Test
  void aMemberLostAfterItWasStoppedAbortsTheGeneration() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a").auto();
         SimClient b = SimClient.join(tc.port, "b")) {
      var done = tc.bcheckpoint();
      long gen = b.expect(MessageType.ADVANCE, "SUSPENDED").getLong("generation", 0);
      b.reach("SUSPENDED", gen);
      b.close();  // killed while parked
      assertEquals("DMT_COORD_CKPT_FAILED", done.get(10, TimeUnit.SECONDS).get("command_status"));
      assertTrue(a.events.contains(MessageType.ABORT + ""), a.events.toString());
      assertFalse(Files.exists(tc.dir.resolve("dmtcp_restart_script.sh")));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"FD_LEADER_ELECTION", "DRAINED", "CHECKPOINTED", "REFILLED", "RUNNING"})
  void aMemberThatDiesAbortsTheGenerationOnlyBeforeTheCommit(String state) throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a").auto();
         SimClient b = SimClient.join(tc.port, "b").crashOn(state)) {
      Frame result = tc.bcheckpoint().get(10, TimeUnit.SECONDS);
      boolean beforeCommit = Computation.CHECKPOINT_STATES.indexOf(state)
          <= Computation.CHECKPOINT_STATES.indexOf("CHECKPOINTED");
      assertEquals(beforeCommit ? "DMT_COORD_CKPT_FAILED" : "DMT_COORD_SUCCESS", result.get("command_status"));
      assertEquals(beforeCommit, a.events.contains(MessageType.ABORT + ""), a.events.toString());
      assertEquals(!beforeCommit, Files.exists(tc.dir.resolve("dmtcp_restart_script.sh")));
      awaitPeers(tc, 1);
      assertEquals("yes", tc.command("status").get("running"), "the survivor runs again");
    }
  }

  @Test
  void aMemberThatCannotWriteItsImageAbortsTheGeneration() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a").auto();
         SimClient b = SimClient.join(tc.port, "b")) {
      var done = tc.bcheckpoint();
      for (String state : List.of("SUSPENDED", "FD_LEADER_ELECTION", "DRAINED")) {
        long gen = b.expect(MessageType.ADVANCE, state).getLong("generation", 0);
        b.reach(state, gen);
      }
      b.expect(MessageType.ADVANCE, "CHECKPOINTED");
      b.send(Frame.of(MessageType.REACHED).with("state", "CHECKPOINTED").with("generation", 1)
          .with("error", "cannot write: No space left on device"));
      b.expect(MessageType.ABORT, null);
      b.reach("RUNNING", 1);
      assertEquals("DMT_COORD_CKPT_FAILED", done.get(10, TimeUnit.SECONDS).get("command_status"));
      assertFalse(Files.exists(tc.dir.resolve("dmtcp_restart_script.sh")));
      assertEquals("2", tc.command("status").get("num_peers"));
    }
  }

  @Test
  void aProcessThatJoinsWhileMembersAreStoppedIsTakenIntoTheGeneration() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a")) {
      var done = tc.bcheckpoint();
      long gen = a.expect(MessageType.ADVANCE, "SUSPENDED").getLong("generation", 0);
      // a's child, joining before a reports SUSPENDED (a waits for it)
      try (SimClient child = SimClient.join(tc.port, "child")) {
        assertEquals("RUNNING", child.welcome.get("state"));
        assertEquals(gen, child.expect(MessageType.ADVANCE, "SUSPENDED").getLong("generation", 0));
        child.auto();
        child.reach("SUSPENDED", gen);
        a.reach("SUSPENDED", gen);
        for (String state : Computation.CHECKPOINT_STATES.subList(1, 6)) {
          a.reach(a.expect(MessageType.ADVANCE, state).get("state"), gen);
        }
        assertEquals("DMT_COORD_SUCCESS", done.get(10, TimeUnit.SECONDS).get("command_status"));
        String script = Files.readString(tc.dir.resolve("dmtcp_restart_script.sh"));
        assertTrue(script.contains("ckpt_sim_a") && script.contains("ckpt_sim_child"), script);
      }
    }
  }

  @Test
  void aProcessThatJoinsDuringACheckpointWaitsUntilItEnds() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a")) {
      var done = tc.bcheckpoint();
      long gen = a.expect(MessageType.ADVANCE, "SUSPENDED").getLong("generation", 0);
      a.reach("SUSPENDED", gen);
      a.reach(a.expect(MessageType.ADVANCE, "FD_LEADER_ELECTION").get("state"), gen);
      // past SUSPENDED: a newcomer is not part of this generation
      try (SimClient late = SimClient.join(tc.port, "late")) {
        assertEquals("WAIT", late.welcome.get("state"));
        assertEquals("no", tc.command("status").get("running"));
        for (String state : Computation.CHECKPOINT_STATES.subList(2, 6)) {
          a.reach(a.expect(MessageType.ADVANCE, state).get("state"), gen);
        }
        assertEquals("DMT_COORD_SUCCESS", done.get(10, TimeUnit.SECONDS).get("command_status"));
        Frame release = late.expect(MessageType.ADVANCE, "RUNNING");
        assertEquals(gen, release.getLong("generation", 0));
        assertNull(late.next(200), "the late process must not see the barrier's other states");
        assertTrue(Files.readString(tc.dir.resolve("dmtcp_restart_script.sh")).contains("ckpt_sim_a"));
        assertFalse(Files.readString(tc.dir.resolve("dmtcp_restart_script.sh")).contains("ckpt_sim_late"));
      }
    }
  }

  @Test
  void theIntervalTimerStartsCheckpointsByItself() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(1);
         SimClient a = SimClient.join(tc.port, "a").auto()) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!"2".equals(tc.command("status").get("last_ckpt_generation"))) {
        assertTrue(System.nanoTime() < deadline, "no two interval checkpoints in 10 s: " + a.events);
        Thread.sleep(50);
      }
    }
  }

  @Test
  void aRestartIsReleasedOnlyWhenEveryMemberIsBack() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.rejoin(tc.port, "a", "comp-1", 4, 2)) {
      assertEquals(MessageType.WELCOME, a.welcome.type());
      assertNull(a.next(300), "released before the whole computation was back");
      try (SimClient b = SimClient.rejoin(tc.port, "b", "comp-1", 4, 2)) {
        for (String state : Computation.RESTART_STATES) {
          a.expect(MessageType.ADVANCE, state);
          b.expect(MessageType.ADVANCE, state);
          a.reach(state, 4);
          assertNull(b.next(150));
          b.reach(state, 4);
        }
        awaitRunning(tc, 2);
        Frame status = tc.command("status");
        assertEquals("comp-1", status.get("comp_id"));
        assertEquals("4", status.get("last_ckpt_generation"));
      }
    }
  }

  @Test
  void aMemberEndingOnceReleasedDoesNotFailTheRestart() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.rejoin(tc.port, "a", "comp-1", 4, 2);
         SimClient b = SimClient.rejoin(tc.port, "b", "comp-1", 4, 2)) {
      for (String state : Computation.RESTART_STATES) {
        a.expect(MessageType.ADVANCE, state);
        b.expect(MessageType.ADVANCE, state);
        if (state.equals("RUNNING")) {
          break;
        }
        a.reach(state, 4);
        b.reach(state, 4);
      }
      // b is released and its program ends at once, before a's REACHED RUNNING arrives
      b.close();
      awaitPeers(tc, 1);
      a.reach("RUNNING", 4);
      assertNull(a.next(500), "the rest of the computation must not be killed");
      awaitRunning(tc, 1);
    }
  }

  @Test
  void aRestartMissingAMemberIsNeverReleased() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.rejoin(tc.port, "a", "comp-1", 2, 3);
         SimClient b = SimClient.rejoin(tc.port, "b", "comp-1", 2, 3)) {
      b.close();
      assertEquals(MessageType.KILL, a.next(5000).type(), "the partial computation must be killed");
      a.close(); // it obeys the KILL
      awaitPeers(tc, 0);
      try (SimClient other = SimClient.rejoin(tc.port, "c", "comp-1", 2, 5)) {
        assertEquals(MessageType.WELCOME, other.welcome.type(), "a new restart can begin");
      }
    }
  }

  @Test
  void aMemberThatLeavesAfterTheRestartReleasedItIsAnOrdinaryDeparture() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.rejoin(tc.port, "a", "comp-1", 6, 3);
         SimClient b = SimClient.rejoin(tc.port, "b", "comp-1", 6, 3);
         SimClient quick = SimClient.rejoin(tc.port, "quick", "comp-1", 6, 3)) {
      for (String state : Computation.RESTART_STATES) {
        for (SimClient c : List.of(a, b, quick)) {
          c.expect(MessageType.ADVANCE, state);
        }
        if (state.equals("RUNNING")) {
          quick.close(); // released, and it exits at once: no REACHED RUNNING from it
          b.reach(state, 6);
          a.reach(state, 6);
        } else {
          for (SimClient c : List.of(a, b, quick)) {
            c.reach(state, 6);
          }
        }
      }
      awaitRunning(tc, 2);
      assertNull(a.next(300), "a released member must not be killed because another one left");
      assertNull(b.next(0));
      assertFalse(a.isClosed() || b.isClosed());
      // the computation goes on from generation 6 with the two that are left
      a.auto();
      b.auto();
      Frame result = tc.bcheckpoint().get(10, TimeUnit.SECONDS);
      assertEquals("DMT_COORD_SUCCESS", result.get("command_status"), "a checkpoint after the departure");
      assertEquals("7", tc.command("status").get("last_ckpt_generation"));
    }
  }

  @Test
  void aMemberLeavingBeforeTheReleaseStillFailsTheRestart() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.rejoin(tc.port, "a", "comp-1", 2, 2);
         SimClient b = SimClient.rejoin(tc.port, "b", "comp-1", 2, 2)) {
      for (String state : List.of("NS_PUBLISHED", "NS_RESOLVED", "REFILLED")) {
        a.expect(MessageType.ADVANCE, state);
        b.expect(MessageType.ADVANCE, state);
        a.reach(state, 2);
        if (!state.equals("REFILLED")) {
          b.reach(state, 2);
        }
      }
      b.close(); // gone at REFILLED, before ADVANCE RUNNING
      assertEquals(MessageType.KILL, a.next(5000).type(), "a restart that lost a member before its release fails");
    }
  }

  @Test
  void killAfterCheckpointKillsBeforeAnyMemberResumes() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a");
         SimClient b = SimClient.join(tc.port, "b")) {
      awaitRunning(tc, 2);
      var done = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return tc.command("kcheckpoint");
        } catch (java.io.IOException e) {
          throw new IllegalStateException(e);
        }
      });
      for (String state : List.of("SUSPENDED", "FD_LEADER_ELECTION", "DRAINED", "CHECKPOINTED", "REFILLED")) {
        a.expect(MessageType.ADVANCE, state);
        b.expect(MessageType.ADVANCE, state);
        a.reach(state, 1);
        b.reach(state, 1);
      }
      assertEquals(MessageType.KILL, a.next(5000).type(), "KILL instead of ADVANCE RUNNING");
      assertEquals(MessageType.KILL, b.next(5000).type(), "KILL instead of ADVANCE RUNNING");
      assertEquals("DMT_COORD_SUCCESS", done.get(10, TimeUnit.SECONDS).get("command_status"));
      assertEquals("1", tc.command("status").get("last_ckpt_generation"));
    }
  }

  @Test
  void aMismatchedRestartIsRefused() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.rejoin(tc.port, "a", "comp-1", 2, 2);
         SimClient b = SimClient.rejoin(tc.port, "b", "comp-1", 3, 2)) {
      assertEquals(MessageType.REFUSED, b.welcome.type());
      assertTrue(b.welcome.get("reason").contains("does not match"), b.welcome.get("reason"));
    }
  }

  @Test
  void theNameServiceAnswersWhatWasPublished() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a")) {
      String binary = "\u0000\u0001%=\n\u00ff";
      a.send(Frame.of(MessageType.NS_PUBLISH).with("key", "tcp:1").with("value", binary));
      assertEquals("OK", a.next(5000).get("status"));
      a.send(Frame.of(MessageType.NS_QUERY).with("key", "tcp:1"));
      Frame found = a.next(5000);
      assertEquals(binary, found.get("value"));
      a.send(Frame.of(MessageType.NS_QUERY).with("key", "tcp:2"));
      assertEquals("NOT_FOUND", a.next(5000).get("status"));
    }
  }

  @Test
  void theNameServiceListsTheEntriesOfAPrefix() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient a = SimClient.join(tc.port, "a");
         SimClient b = SimClient.join(tc.port, "b")) {
      a.send(Frame.of(MessageType.NS_PUBLISH).with("key", "moved:2").with("value", "y"));
      a.send(Frame.of(MessageType.NS_PUBLISH).with("key", "moved:1").with("value", "x"));
      a.send(Frame.of(MessageType.NS_PUBLISH).with("key", "other:1").with("value", "z"));
      for (int i = 0; i < 3; i++) {
        assertEquals("OK", a.next(5000).get("status"));
      }
      b.send(Frame.of(MessageType.NS_LIST).with("prefix", "moved:"));
      Frame listed = b.next(5000);
      assertEquals(MessageType.NS_ANSWER, listed.type());
      assertEquals(java.util.List.of("moved:1", "moved:2"), listed.getAll("key"));
      assertEquals(java.util.List.of("x", "y"), listed.getAll("value"));
      b.send(Frame.of(MessageType.NS_LIST).with("prefix", "nothing:"));
      assertTrue(b.next(5000).getAll("key").isEmpty());
    }
  }

  static void awaitPeers(TestCoordinator tc, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Integer.toString(n).equals(tc.command("status").get("num_peers"))) {
      assertTrue(System.nanoTime() < deadline, "peers never became " + n);
      Thread.sleep(20);
    }
  }

  static void awaitRunning(TestCoordinator tc, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Frame s = tc.command("status");
      if (Integer.toString(n).equals(s.get("num_peers")) && "yes".equals(s.get("running"))) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "never " + n + " running: " + s);
      Thread.sleep(20);
    }
  }
}
