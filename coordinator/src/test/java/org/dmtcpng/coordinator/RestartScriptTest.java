package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.dmtcpng.coordinator.barrier.CommittedGeneration;
import org.dmtcpng.coordinator.barrier.CommittedGeneration.Image;
import org.dmtcpng.coordinator.script.RestartScript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restart script of a computation over three hosts, run with stand-ins for ssh,
 * dmtcp_restart and dmtcp_command that record how they were called: every host's restart is
 * started on that host, told a coordinator address it can reach, waited for, and one that fails
 * stops the others. The real thing, over real hosts, is autotest's MultiHostRestartTest.
 */
class RestartScriptTest {
  @TempDir
  Path dir;

  private Path calls;

  private Path writeScript() throws IOException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    calls = dir.resolve("calls");
    // each stand-in appends one line "<host> <command> <args>"; RC_<host> / SLEEP_<host> shape its exit
    String restart = """
        #!/bin/bash
        host=${FAKE_HOST:-here}
        echo "$host dmtcp_restart $*" >> CALLS
        trap 'kill $! 2>/dev/null; exit 143' TERM
        v=SLEEP_${host//[^a-zA-Z0-9]/_}; sleep "${!v:-0}" & wait $!
        v=RC_${host//[^a-zA-Z0-9]/_}; exit "${!v:-0}"
        """.replace("CALLS", calls.toString());
    stub(bin.resolve("dmtcp_restart"), restart);
    stub(bin.resolve("dmtcp_command"), "#!/bin/bash\necho \"here dmtcp_command $*\" >> " + calls + "\n");
    stub(bin.resolve("dmtcp_coordinator"), "#!/bin/bash\necho \"here dmtcp_coordinator $*\" >> " + calls + "\n");
    // ssh HOST WORDS...: runs the words as sshd would (joined, by a shell), "on" HOST
    Path sshDir = Files.createDirectories(dir.resolve("sshbin"));
    stub(sshDir.resolve("ssh"), "#!/bin/bash\nh=$1; shift; FAKE_HOST=$h exec bash -c \"$*\"\n");
    CommittedGeneration g = new CommittedGeneration("c0ffee-1-2", 3, List.of(
        new Image("u1", "coordhost", "bash", dir.resolve("ckpt_bash_u1.dmtcp").toString()),
        new Image("u2", "hostA", "counter", dir.resolve("ckpt_counter_u2.dmtcp").toString()),
        new Image("u3", "hostB", "counter", dir.resolve("ckpt counter_u3.dmtcp").toString()),
        new Image("u4", "coordhost", "ssh", dir.resolve("ckpt_ssh_u4.dmtcp").toString())));
    return new RestartScript(dir, bin.resolve("dmtcp_restart").toString(), "coordhost", 7001).write(g);
  }

  private static void stub(Path p, String text) throws IOException {
    Files.writeString(p, text);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private int run(Path script, String... envAndArgs) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(dir.resolve("script.out").toFile());
    pb.environment().put("PATH", dir.resolve("sshbin") + ":" + System.getenv("PATH"));
    pb.environment().remove("DMTCP_COORD_HOST");
    pb.environment().remove("DMTCP_COORD_PORT");
    for (String a : envAndArgs) {
      if (a.contains("=")) {
        pb.environment().put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
      } else {
        pb.command().add(a);
      }
    }
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the script did not end");
    return p.exitValue();
  }

  private List<String> calls(String prefix) throws IOException {
    return Files.readAllLines(calls).stream().filter(l -> l.startsWith(prefix)).collect(Collectors.toList());
  }

  @Test
  void everyHostRestartsItsOwnImagesJoinedToAReachableCoordinator() throws Exception {
    Path script = writeScript();
    assertEquals(0, run(script, "SLEEP_hostB=1"));
    List<String> here = calls("here dmtcp_restart");
    assertEquals(1, here.size(), here.toString());
    assertTrue(here.get(0).endsWith("--coord-host localhost --coord-port 7001 " + dir.resolve("ckpt_bash_u1.dmtcp")
        + " " + dir.resolve("ckpt_ssh_u4.dmtcp")), here.get(0));
    for (String host : List.of("hostA", "hostB")) {
      List<String> remote = calls(host + " dmtcp_restart");
      assertEquals(1, remote.size(), host + ": " + remote);
      String line = remote.get(0);
      assertTrue(line.contains("--join-coordinator --coord-host ") && line.contains("--coord-port 7001"), line);
      String address = line.replaceAll(".*--coord-host (\\S+).*", "$1");
      // loopback or this machine's name (which may resolve to loopback) mean nothing over there
      assertFalse(address.equals("localhost") || address.startsWith("127.") || address.equals("coordhost"), line);
    }
    // a path with a space arrives as one word on the other host
    assertTrue(calls("hostB dmtcp_restart").get(0).endsWith(" " + dir.resolve("ckpt counter_u3.dmtcp")));
  }

  @Test
  void anExplicitCoordinatorHostIsGivenToEveryHost() throws Exception {
    Path script = writeScript();
    assertEquals(0, run(script, "-h", "10.1.2.3", "-p", "7002"));
    for (String host : List.of("here", "hostA", "hostB")) {
      assertTrue(calls(host + " dmtcp_restart").get(0).contains("--coord-host 10.1.2.3 --coord-port 7002"),
          host + ": " + calls(host));
    }
  }

  @Test
  void aFailedRemoteRestartStopsTheOthersAndFailsTheScript() throws Exception {
    Path script = writeScript();
    long t0 = System.nanoTime();
    assertEquals(99, run(script, "RC_hostA=99", "SLEEP_here=30", "SLEEP_hostB=30"));
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "the script waited for the others");
    assertEquals(1, calls("here dmtcp_command --coord-host localhost --coord-port 7001 --kill").size(),
        Files.readString(calls));
    assertTrue(Files.readString(dir.resolve("script.out")).contains("the restart on hostA failed (exit code 99)"));
  }

  @Test
  void aHostThatSshCannotReachStopsTheOthersToo() throws Exception {
    Path script = writeScript();
    assertEquals(255, run(script, "RC_hostB=255", "SLEEP_here=30", "SLEEP_hostA=30"));
    assertEquals(1, calls("here dmtcp_command --coord-host localhost --coord-port 7001 --kill").size());
  }

  @Test
  void aProgramsOwnExitCodeHereStopsNothing() throws Exception {
    // e.g. an ssh client that lost its connection at the restart ends with 255 here
    Path script = writeScript();
    long t0 = System.nanoTime();
    assertEquals(255, run(script, "RC_here=255", "SLEEP_hostA=2", "RC_hostA=3"));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.SECONDS.toNanos(2), "the script did not wait for hostA");
    assertEquals(0, calls("here dmtcp_command --coord-host localhost --coord-port 7001 --kill").size());
    assertTrue(Files.readString(dir.resolve("script.out")).contains("the restart on hostA ended with exit code 3"));
  }

  @Test
  void theExitCodeIsThatOfThisHostsRestartOnceAllHaveEnded() throws Exception {
    Path script = writeScript();
    assertEquals(5, run(script, "RC_here=5"));
  }

  @Test
  void editingTheHostOfALineMovesItsProcesses() throws Exception {
    Path script = writeScript();
    Path real = script.toRealPath();
    Files.writeString(real, Files.readString(real).replace("'hostB:", "'hostC:"));
    assertEquals(0, run(script));
    assertEquals(List.of(), calls("hostB"));
    assertEquals(1, calls("hostC dmtcp_restart --join-coordinator").size(), Files.readString(calls));
  }

  @Test
  void oneHostOnlyExecsDmtcpRestartAsBefore() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    calls = dir.resolve("calls");
    stub(bin.resolve("dmtcp_restart"), "#!/bin/bash\necho \"here dmtcp_restart $$ $*\" >> " + calls + "\n");
    CommittedGeneration g = new CommittedGeneration("c0ffee-1-2", 1, List.of(
        new Image("u1", "coordhost", "bash", dir.resolve("ckpt_bash_u1.dmtcp").toString())));
    Path script = new RestartScript(dir, bin.resolve("dmtcp_restart").toString(), "coordhost", 7001).write(g);
    assertEquals(0, run(script));
    assertEquals(1, calls("here dmtcp_restart").size());
  }

  @Test
  void anUnknownOptionIsRefused() throws Exception {
    assertEquals(99, run(writeScript(), "--bogus"));
    assertTrue(Files.readString(dir.resolve("script.out")).contains("unknown option --bogus"));
  }
}
