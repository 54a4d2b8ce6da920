package org.dmtcpng.testhosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fixture itself: two hosts with their own names and addresses, reachable by name through
 * ssh from here and from each other, processes started through ssh run on their host, and after
 * close() nothing of it is left: no namespace, veth, bridge, /etc/hosts line or sshd.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TestHostsTest {
  private static String run(TestHosts hosts, List<String> cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    hosts.putPath(pb.environment());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    return out.strip();
  }

  @Test
  void twoHostsWithTheirOwnNamesAddressesAndSshdsThatVanishAfterwards() throws Exception {
    List<Long> sshds = new ArrayList<>();
    List<String> namespaces = new ArrayList<>();
    String names;
    try (TestHosts hosts = TestHosts.start(2)) {
      Host a = hosts.host(0);
      Host b = hosts.host(1);
      assertEquals(a.name(), run(hosts, hosts.ssh(a, "hostname")));
      assertEquals(b.name(), run(hosts, hosts.ssh(b, "cat", "/proc/sys/kernel/hostname")));
      assertTrue(run(hosts, hosts.ssh(a, "ip", "-4", "-o", "addr")).contains(a.address() + "/24"));
      // from one host to the other, by name, with the same ssh; and the root namespace by name
      String viaA = run(hosts, hosts.ssh(a, hosts.sshDirectory().resolve("ssh").toString(), b.name(), "hostname"));
      assertEquals(b.name(), viaA);
      assertTrue(run(hosts, hosts.ssh(b, "getent", "hosts", hosts.rootName())).startsWith(hosts.rootAddress()));
      // a process started through ssh runs on the host; and one started by command() too
      Path pidFile = hosts.directory().resolve("sleeper.pid");
      run(hosts, hosts.ssh(a, "sh", "-c", "'sleep 600 > /dev/null 2>&1 & echo $! > " + pidFile + "'"));
      long sleeper = Long.parseLong(Files.readString(pidFile).strip());
      assertTrue(a.runs(sleeper) && !b.runs(sleeper));
      assertTrue(a.processes().contains(sleeper));
      assertEquals(b.name(), run(hosts, b.command("hostname")));
      for (Host h : hosts.hosts()) {
        sshds.add(h.sshdPid());
        namespaces.add(h.namespace());
      }
      sshds.add(sleeper);
      names = a.name();
    }
    for (long pid : sshds) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " is left");
    }
    String netns = Shell.run("ip", "netns", "list");
    for (String ns : namespaces) {
      assertFalse(netns.contains(ns), ns + " is left");
    }
    assertFalse(Files.readString(Path.of("/etc/hosts")).contains(names), "/etc/hosts still names " + names);
  }

  @Test
  void theUnprivilegedTestUserLogsInWithItsOwnCopyOfTheKey() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Shell.quietly("id", "-u", "dmtcptest").strip().matches("\\d+"),
        "no user dmtcptest on this machine");
    try (TestHosts hosts = TestHosts.start(1)) {
      Host a = hosts.host(0);
      String ssh = hosts.sshDirectory("dmtcptest").resolve("ssh").toString();
      assertEquals("dmtcptest " + a.name(),
          run(hosts, List.of(Requirements.find("runuser"), "-u", "dmtcptest", "--", ssh, a.name(), "echo $(id -un) $(hostname)")));
    }
  }
}
