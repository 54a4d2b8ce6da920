package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;
import org.junit.jupiter.api.Test;

/**
 * An exec storm: a process execs itself 1,000 times while a checkpoint is requested every 100 ms.
 * It stays one process of the computation throughout: the coordinator lists it under one upid
 * whenever it is asked (never none, never another), logs one join and one departure, and every
 * image it writes is that upid's. An image taken a third of the way restarts, and the restarted
 * process execs on to the end, still under that upid.
 */
class ExecIdentityTest {
  private static final int EXECS = 1000;

  @Test
  void aProcessThatExecsAThousandTimesUnderCheckpointsKeepsOneIdentity() throws Exception {
    try (LiveProcesses live = new LiveProcesses("execstorm")) {
      String port = live.startCoordinator();
      Process storm = live.start("run1", bin("dmtcp_launch"), "-j", "-p", port, corpus("execstorm"),
          Integer.toString(EXECS));
      Path out = live.out("run1");
      await(() -> !ProgressLog.read(out).progress().isEmpty());
      Set<String> upids = new TreeSet<>();
      int requested = 0;
      Path midway = live.work.resolve("midway.dmtcp");
      try (CommandClient client = new CommandClient("127.0.0.1", Integer.parseInt(port), 2000)) {
        while (storm.isAlive()) {
          if ("DMT_COORD_SUCCESS".equals(client.command("checkpoint", null).get("command_status"))) {
            requested++;
          }
          List<String> peers = client.command("list", null).getAll("peer");
          assertTrue(peers.size() == 1 || !storm.isAlive() && peers.isEmpty(),
              "the coordinator lists " + peers + " while the storm runs");
          peers.forEach(peer -> upids.add(peer.split("\t")[1]));
          if (!Files.exists(midway) && ProgressLog.read(out).last() >= EXECS / 3 && live.images().size() == 1) {
            Files.copy(Path.of(live.images().get(0)), midway); // complete: written as .part, then renamed
          }
          Thread.sleep(100);
        }
      }
      assertEquals(0, storm.waitFor(), CaseRun.read(out));
      ProgressLog log = ProgressLog.read(out);
      assertTrue(log.errors().isEmpty(), log.errors().toString());
      assertNull(log.checkConsecutive());
      assertEquals(EXECS, log.last(), "the storm did not exec to the end");
      assertEquals(1, upids.size(), "one process, one upid: " + upids);
      String upid = upids.iterator().next();
      long committed = Long.parseLong(LiveProcesses.status(port).get("last_ckpt_generation"));
      assertTrue(requested >= 10 && committed >= 10, requested + " checkpoints requested, " + committed + " committed");
      String coordinatorLog = CaseRun.read(live.out("coordinator"));
      assertEquals(1, count(coordinatorLog, " joined"), coordinatorLog);
      assertEquals(1, count(coordinatorLog, " left"), coordinatorLog);
      assertEquals(List.of(live.work.resolve("ckpt_execstorm_" + upid + ".dmtcp").toString()), live.images());

      Process again = live.start("run2", bin("dmtcp_restart"), "-j", "-p", port, midway.toString());
      assertTrue(again.waitFor(120, TimeUnit.SECONDS), "the restarted storm did not end");
      Path out2 = live.out("run2");
      ProgressLog log2 = ProgressLog.read(out2);
      assertEquals(0, again.exitValue(), CaseRun.read(out2));
      assertTrue(log2.errors().isEmpty() && log2.checkConsecutive() == null, CaseRun.read(out2));
      assertTrue(log2.progress().get(0) < EXECS / 2 && log2.last() == EXECS, CaseRun.read(out2));
      String all = CaseRun.read(live.out("coordinator"));
      Set<String> named = new TreeSet<>();
      Matcher m = Pattern.compile("process (\\S+) \\(").matcher(all);
      while (m.find()) {
        named.add(m.group(1));
      }
      assertEquals(Set.of(upid), named, "the coordinator heard of another process: " + all);
      assertEquals(0, live.command(port, "-q"));
    }
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
      n++;
    }
    return n;
  }
}
