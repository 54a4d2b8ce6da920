package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.MessageType;
import org.junit.jupiter.api.Test;

/** Fork and exec (docs/protocol.md 3.9) against the real server over TCP. */
class ForkAndExecTest {
  private static Frame expect(String token) {
    return Frame.of(MessageType.EXPECT).with("token", token);
  }

  @Test
  void aChildAnnouncedBeforeItsParentWasStoppedIsTakenIntoTheGeneration() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient parent = SimClient.join(tc.port, "p");
         SimClient child = SimClient.attached(tc.port, "p", "p#1", "c")) {
      parent.send(expect("p#1"));
      var done = tc.bcheckpoint();
      long gen = parent.expect(MessageType.ADVANCE, "SUSPENDED").getLong("generation", 0);
      parent.reach("SUSPENDED", gen);
      assertNull(parent.next(300), "the generation went on before the announced child joined");
      child.helloAsChild();
      assertEquals("RUNNING", child.welcome.get("state"));
      child.auto();
      parent.auto();
      assertEquals("DMT_COORD_SUCCESS", done.get(10, TimeUnit.SECONDS).get("command_status"));
      String script = Files.readString(tc.dir.resolve("dmtcp_restart_script.sh"));
      assertTrue(script.contains("ckpt_sim_p.dmtcp") && script.contains("ckpt_sim_c.dmtcp"), script);
    }
  }

  @Test
  void aChildWhoseHelloComesBeforeItsParentsExpectIsNotAwaitedAfterwards() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient parent = SimClient.join(tc.port, "p").auto()) {
      try (SimClient child = SimClient.attached(tc.port, "p", "p#1", "c").helloAsChild()) {
        BarrierTest.awaitPeers(tc, 2);
      }
      BarrierTest.awaitPeers(tc, 1);
      parent.send(expect("p#1"));
      assertEquals("DMT_COORD_SUCCESS", tc.bcheckpoint().get(10, TimeUnit.SECONDS).get("command_status"));
    }
  }

  @Test
  void aChildThatEndsBeforeItsHelloIsNotAwaited() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0);
         SimClient parent = SimClient.join(tc.port, "p").auto()) {
      parent.send(expect("p#1"));
      SimClient.attached(tc.port, "p", "p#1", "c").close();
      assertEquals("DMT_COORD_SUCCESS", tc.bcheckpoint().get(10, TimeUnit.SECONDS).get("command_status"));
    }
  }

  @Test
  void exitOnLastWaitsForAChildOnItsWay() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0, true)) {
      SimClient child;
      try (SimClient parent = SimClient.join(tc.port, "p")) {
        child = SimClient.attached(tc.port, "p", "p#1", "c");
        parent.send(expect("p#1"));
        parent.send(Frame.of(MessageType.BYE));
      }
      assertFalse(tc.exited.await(500, TimeUnit.MILLISECONDS), "exited while a forked child was on its way");
      child.helloAsChild();
      BarrierTest.awaitPeers(tc, 1);
      child.close();
      assertTrue(tc.exited.await(5, TimeUnit.SECONDS), "did not exit after the last process left");
    }
  }

  @Test
  void exitOnLastWaitsForAConnectionThatHasNotSaidHello() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0, true)) {
      SimClient late = new SimClient(tc.port, "late");
      SimClient.join(tc.port, "p").close();
      assertFalse(tc.exited.await(500, TimeUnit.MILLISECONDS), "exited while a process was connecting");
      late.close();
      assertTrue(tc.exited.await(5, TimeUnit.SECONDS), "did not exit once nobody was left");
    }
  }

  @Test
  void exitOnLastWaitsForAConnectionOnlyUntilItSaysWhatItIs() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0, true);
         CommandClient poll = new CommandClient("127.0.0.1", tc.port, 2000)) {
      SimClient.join(tc.port, "p").close();
      assertFalse(tc.exited.await(500, TimeUnit.MILLISECONDS), "exited while a connection had not said what it is");
      assertEquals("0", poll.command("status", null).get("num_peers"));
      assertTrue(tc.exited.await(5, TimeUnit.SECONDS), "a dmtcp_command connection kept the coordinator alive");
    }
  }

  @Test
  void anExecIsNotADeparture() throws Exception {
    try (TestCoordinator tc = new TestCoordinator(0, true);
         SimClient p = SimClient.join(tc.port, "p")) {
      p.send(Frame.of(MessageType.UPDATE).with("program", "python3").with("real_pid", 100));
      Frame list = awaitProgram(tc, "python3");
      assertEquals(1, list.getAll("peer").size(), list.toString());
      assertTrue(list.getAll("peer").get(0).contains("\tp\t"), list.toString());
      assertFalse(tc.log().contains(" left"), tc.log());
      assertFalse(tc.exited.await(200, TimeUnit.MILLISECONDS));
    }
  }

  private static Frame awaitProgram(TestCoordinator tc, String program) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      Frame list = tc.command("list");
      if (list.getAll("peer").stream().anyMatch(p -> p.contains("\t" + program + "\t"))) {
        return list;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no peer runs " + program + ": " + list);
      }
      Thread.sleep(20);
    }
  }
}
