package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.HostWaits.await;
import static org.dmtcpng.autotest.HostWaits.comm;
import static org.dmtcpng.autotest.HostWaits.quietly;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.testhosts.Host;
import org.dmtcpng.testhosts.TestHosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A TCP connection between two hosts, with megabytes in flight, inside one computation started
 * through ssh: the server (netseq serve) on one host, its client on another. Restarted by
 * dmtcp_restart_script.sh on the same hosts, and then with the client's group moved to a third
 * host: each side is restarted by the dmtcp_restart of its own host, so the runtime makes the
 * connection again through the coordinator's name service, and the bytes that were in flight
 * go back in. The server checks every number and logs where it runs; the client checks every
 * answer; neither may report damage.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class MultiHostSocketsTest {

  @Test
  void aConnectionBetweenHostsComesBackOnTheSameHostsAndAfterAMove() throws Exception {
    try (TestHosts hosts = TestHosts.start(3); LiveProcesses live = new LiveProcesses("multihost-tcp")) {
      Host a = hosts.host(0);
      Host b = hosts.host(1);
      Host c = hosts.host(2);
      String port = live.startCoordinator();
      Path serverLog = live.work.resolve("server.log");
      Path clientLog = live.work.resolve("client.log");
      HostCounterLog server = new HostCounterLog(serverLog);
      String script = "ssh " + b.name() + " " + corpus("netseq") + " serve 5077 " + serverLog + " > b.out 2>&1 & "
          + "sleep 1; ssh " + a.name() + " " + corpus("netseq") + " connect " + b.name() + " 5077 " + clientLog
          + " > a.out 2>&1 & wait";
      Map<String, String> env = Map.of("PATH", hosts.environment().get("PATH"));
      live.start("launch", env, bin("dmtcp_launch"), "-j", "-p", port, "bash", "-c", script);
      await("the server to count on " + b, () -> quietly(() -> server.last() >= 5));

      cycle(live, port, env, 1, Map.of(), server, clientLog, b);
      cycle(live, port, env, 2, Map.of(a.name(), c.name()), server, clientLog, b);
      assertTrue(c.processes().stream().anyMatch(pid -> comm(pid).equals("netseq") && c.runs(pid)),
          "the client does not run on " + c);
      assertEquals(0, live.command(port, "-q"));
    }
  }

  private void cycle(LiveProcesses live, String port, Map<String, String> env, int cycle, Map<String, String> moves,
      HostCounterLog server, Path clientLog, Host serverHost) throws Exception {
    long low = server.last();
    assertEquals(0, live.command(port, "-bc"), "cycle " + cycle + ": checkpoint");
    long high = server.last();
    assertEquals(0, live.command(port, "-k"), "cycle " + cycle + ": kill");
    await("cycle " + cycle + ": the computation to be gone",
        () -> quietly(() -> Members.of(bin("dmtcp_command"), port).isEmpty()));
    long offset = server.size();
    Path script = live.work.resolve("dmtcp_restart_script.sh").toRealPath();
    String text = Files.readString(script);
    for (Map.Entry<String, String> m : moves.entrySet()) {
      assertTrue(text.contains("'" + m.getKey() + ":"), "the script has no line for " + m.getKey() + ":\n" + text);
      text = text.replace("'" + m.getKey() + ":", "'" + m.getValue() + ":");
    }
    Files.writeString(script, text);
    live.start("restart" + cycle, env, live.work.resolve("dmtcp_restart_script.sh").toString());
    try {
      await("cycle " + cycle + ": the server to go on",
          () -> quietly(() -> server.stepsFrom(offset).size() >= 10));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nthe restart script said:\n" + CaseRun.read(live.out("restart" + cycle))
          + "\nthe client logged:\n" + CaseRun.read(clientLog), e);
    }
    assertNull(server.checkContinuesOn(offset, low, high, serverHost.name()), "cycle " + cycle);
    String clientSaid = Files.exists(clientLog) ? CaseRun.read(clientLog) : "";
    assertFalse(clientSaid.contains("ERROR"), clientSaid);
    assertFalse(CaseRun.read(server.file()).contains("ERROR"), CaseRun.read(server.file()));
  }
}
