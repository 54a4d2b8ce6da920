package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.HostWaits.await;
import static org.dmtcpng.autotest.HostWaits.comm;
import static org.dmtcpng.autotest.HostWaits.quietly;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.testhosts.Host;
import org.dmtcpng.testhosts.TestHosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A computation over several hosts (test-hosts: namespaces with their own names, addresses and
 * sshds). `ssh host cmd` from inside the computation makes cmd a member on that host, joined to
 * the coordinator here; dmtcp_restart_script.sh restarts each process on its own host through
 * ssh, and after an edit of its host line, on another host. Each process goes on from its
 * checkpointed value, on the host its lines, the coordinator's list and /proc say.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class MultiHostRestartTest {

  /** One hostcounter of the computation, with its log. */
  private record Counter(String name, HostCounterLog log) {}

  @Test
  void processesStartedThroughSshComeBackEachOnItsOwnHost() throws Exception {
    try (TestHosts hosts = TestHosts.start(2); LiveProcesses live = new LiveProcesses("multihost")) {
      Host a = hosts.host(0);
      Host b = hosts.host(1);
      String port = live.startCoordinator();
      Counter ca = counter(live, "a");
      Counter cb = counter(live, "b");
      // bash, two ssh clients here, a hostcounter on each host
      String script = "ssh " + a.name() + " " + corpus("hostcounter") + " " + live.work.resolve("a.log") + " > a.out 2>&1 & "
          + "ssh " + b.name() + " " + corpus("hostcounter") + " " + live.work.resolve("b.log") + " > b.out 2>&1 & wait";
      live.start("launch", env(hosts), bin("dmtcp_launch"), "-j", "-p", port, "bash", "-c", script);
      awaitOn(port, a, ca);
      awaitOn(port, b, cb);
      assertEquals(5, Members.of(bin("dmtcp_command"), port).size(), "bash, 2 ssh, 2 hostcounter");

      for (int cycle = 1; cycle <= 2; cycle++) {
        cycle(hosts, live, port, cycle, Map.of(), List.of(a, b), ca, cb);
      }
      assertEquals(0, live.command(port, "-q"));
    }
  }

  @Test
  void editingTheHostOfAGroupInTheScriptMovesItsProcessesThere() throws Exception {
    try (TestHosts hosts = TestHosts.start(3); LiveProcesses live = new LiveProcesses("multihost-move")) {
      Host a = hosts.host(0);
      Host b = hosts.host(1);
      Host c = hosts.host(2);
      String port = live.startCoordinator();
      Counter ca = counter(live, "a");
      Counter cb = counter(live, "b");
      // dmtcp_launch ssh host cmd, directly: the ssh clients are the local members
      for (Object[] hc : new Object[][] {{a, "a"}, {b, "b"}}) {
        Host h = (Host) hc[0];
        live.start("ssh-" + hc[1], env(hosts), bin("dmtcp_launch"), "-j", "-p", port, "ssh", h.name(),
            corpus("hostcounter"), live.work.resolve(hc[1] + ".log").toString());
      }
      awaitOn(port, a, ca);
      awaitOn(port, b, cb);

      // b's group goes to c; then once more, where it is now
      cycle(hosts, live, port, 1, Map.of(b.name(), c.name()), List.of(a, c), ca, cb);
      cycle(hosts, live, port, 2, Map.of(), List.of(a, c), ca, cb);
      assertTrue(b.processes().stream().noneMatch(pid -> comm(pid).equals("hostcounter")),
          "a hostcounter is left on " + b);
      assertEquals(0, live.command(port, "-q"));
    }
  }

  /**
   * Checkpoint, kill, restart with the script (host names replaced as moves says); then
   * counters.get(i) must go on on hosts.get(i).
   */
  private void cycle(TestHosts hosts, LiveProcesses live, String port, int cycle, Map<String, String> moves,
      List<Host> where, Counter... counters) throws Exception {
    long[] low = new long[counters.length];
    long[] high = new long[counters.length];
    for (int i = 0; i < counters.length; i++) {
      low[i] = counters[i].log().last();
    }
    assertEquals(0, live.command(port, "-bc"), "cycle " + cycle + ": checkpoint");
    for (int i = 0; i < counters.length; i++) {
      high[i] = counters[i].log().last();
    }
    assertEquals(0, live.command(port, "-k"), "cycle " + cycle + ": kill");
    await("cycle " + cycle + ": the computation to be gone",
        () -> quietly(() -> Members.of(bin("dmtcp_command"), port).isEmpty()
            && hosts.hosts().stream().allMatch(h -> h.processes().stream().noneMatch(p -> comm(p).equals("hostcounter")))));
    long[] offset = new long[counters.length];
    for (int i = 0; i < counters.length; i++) {
      offset[i] = counters[i].log().size();
    }

    Path script = live.work.resolve("dmtcp_restart_script.sh").toRealPath();
    String text = Files.readString(script);
    for (Map.Entry<String, String> m : moves.entrySet()) {
      assertTrue(text.contains("'" + m.getKey() + ":"), "the script has no line for " + m.getKey() + ":\n" + text);
      text = text.replace("'" + m.getKey() + ":", "'" + m.getValue() + ":");
    }
    Files.writeString(script, text);
    Process restart = live.start("restart" + cycle, env(hosts), live.work.resolve("dmtcp_restart_script.sh").toString());
    try {
      awaitBack(port, cycle, where, offset, low, high, counters);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nthe restart script said:\n" + CaseRun.read(live.out("restart" + cycle))
          + "\nmembers: " + Members.of(bin("dmtcp_command"), port) + "\nthe coordinator said:\n" + tail(live.out("coordinator")), e);
    }
    assertTrue(restart.isAlive(), "the restart script ended: " + CaseRun.read(live.out("restart" + cycle)));
  }

  private void awaitBack(String port, int cycle, List<Host> where, long[] offset, long[] low, long[] high,
      Counter... counters) throws Exception {
    for (int i = 0; i < counters.length; i++) {
      Counter c = counters[i];
      Host h = where.get(i);
      int k = i;
      awaitOn(port, h, c);
      await("cycle " + cycle + ": " + c.name() + " to step on " + h,
          () -> quietly(() -> c.log().stepsFrom(offset[k]).size() >= 5));
      assertNull(c.log().checkContinuesOn(offset[i], low[i], high[i], h.name()), "cycle " + cycle);
      // the kernel agrees: a hostcounter in the host's namespaces, seeing its name
      assertTrue(h.processes().stream().anyMatch(pid -> comm(pid).equals("hostcounter") && h.runs(pid)),
          "no hostcounter in the namespaces of " + h);
    }
  }

  private static String tail(Path file) {
    List<String> lines = List.of(CaseRun.read(file).split("\n"));
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private static Counter counter(LiveProcesses live, String name) {
    return new Counter(name, new HostCounterLog(live.work.resolve(name + ".log")));
  }

  /** Waits until the coordinator lists a running hostcounter on host and its log grows. */
  private static void awaitOn(String port, Host host, Counter c) throws Exception {
    await(c.name() + " to run on " + host, () -> quietly(() -> Members.of(bin("dmtcp_command"), port).stream()
        .anyMatch(m -> m.program().equals("hostcounter") && m.host().equals(host.name()) && m.state().equals("RUNNING"))));
    long before = c.log().last();
    await(c.name() + " to count", () -> quietly(() -> c.log().last() > before + 2));
  }

  private static Map<String, String> env(TestHosts hosts) throws IOException {
    return Map.of("PATH", hosts.environment().get("PATH"));
  }
}
