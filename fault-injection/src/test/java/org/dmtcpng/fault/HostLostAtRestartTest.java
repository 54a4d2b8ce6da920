package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.testhosts.Host;
import org.dmtcpng.testhosts.TestHosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A computation over two hosts (here, and a test host reached through ssh) whose other host is
 * gone when it is restarted (its sshd killed): the restart script must not wait forever for a
 * restart that cannot happen. It stops the processes restarted here, says which host failed and
 * exits with ssh's 255.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HostLostAtRestartTest {
  /** The restart's processes still there: the ones working in dir (the coordinator aside). */
  private static java.util.List<String> leftIn(Path dir) {
    return ProcessHandle.allProcesses().map(p -> {
      try {
        Path proc = Path.of("/proc", Long.toString(p.pid()));
        String comm = Files.readString(proc.resolve("comm")).strip();
        boolean here = Files.readSymbolicLink(proc.resolve("cwd")).equals(dir);
        return here && java.util.Set.of("ssh", "dmtcp_restart", "bash", "hostcounter").contains(comm)
            ? p.pid() + " " + comm : null;
      } catch (java.io.IOException e) {
        return null;
      }
    }).filter(java.util.Objects::nonNull).toList();
  }

  @Test
  void theRestartScriptStopsEverythingWhenAHostCannotBeReached() throws Exception {
    try (TestHosts hosts = TestHosts.start(1); Computation c = Computation.start("host-lost")) {
      Host a = hosts.host(0);
      Path log = c.dir.resolve("a.log");
      // dmtcp_launch ssh host cmd: the ssh client here, hostcounter over there
      c.launch("ssh", hosts.sshDirectory().resolve("ssh").toString(), a.name(),
          Bin.corpus("hostcounter").toString(), log.toString());
      c.awaitRunning(2, Duration.ofSeconds(120));
      c.checkpointAndKill();

      ProcessHandle.of(a.sshdPid()).ifPresent(ProcessHandle::destroyForcibly);
      Computation.awaitTrue(Duration.ofSeconds(30), "sshd of " + a + " to be gone",
          () -> !ProcessHandle.of(a.sshdPid()).map(ProcessHandle::isAlive).orElse(false));

      Path out = c.dir.resolve("restart.out");
      ProcessBuilder pb = new ProcessBuilder(c.dir.resolve("dmtcp_restart_script.sh").toString())
          .directory(c.dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      hosts.putPath(pb.environment());
      Process restart = pb.start();
      try {
        assertTrue(restart.waitFor(120, TimeUnit.SECONDS), "the restart script waits for a host that is gone");
        String said = Files.readString(out);
        assertEquals(255, restart.exitValue(), said);
        assertTrue(said.contains("the restart on " + a.name() + " failed (exit code 255)"), said);
        // the ssh client restarted here was waiting for its partner: it is stopped, not left behind
        Computation.awaitTrue(Duration.ofSeconds(30), "no member left", () -> c.status().contains("NUM_PEERS=0"));
        Computation.awaitTrue(Duration.ofSeconds(30), "the script's processes to end",
            () -> leftIn(c.dir).isEmpty());
      } finally {
        restart.descendants().forEach(ProcessHandle::destroyForcibly);
        restart.destroyForcibly();
      }
    }
  }
}
