package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The options of DMTCP's dmtcp_launch and dmtcp_restart that job scripts use, on the real binaries. */
class LaunchOptionsTest {
  /** Ends every run: the launcher once waited 30 s for a coordinator that had already failed. */
  private static final int RUN_LIMIT_SECONDS = 20;

  record Ran(int rc, String out, String err) {}

  @Test
  void aTemporaryDirectoryThatIsNotThereIsOneLineAndExit99() throws Exception {
    try (LiveProcesses live = new LiveProcesses("tmpdir")) {
      String missing = live.work.resolve("not-there").toString();
      String port = Integer.toString(freePort());
      List<Ran> runs = List.of(
          run(live, Map.of(), bin("dmtcp_launch"), "--new-coordinator", "-p", port, "--tmpdir", missing,
              corpus("counter")),
          run(live, Map.of("DMTCP_TMPDIR", missing), bin("dmtcp_launch"), "--new-coordinator", "-p", port,
              corpus("counter")),
          run(live, Map.of(), bin("dmtcp_restart"), "--new-coordinator", "-p", port, "--tmpdir", missing,
              live.work.resolve("ckpt_x.dmtcp").toString()));
      for (Ran r : runs) {
        assertEquals(99, r.rc(), r.toString());
        assertEquals(List.of("temporary directory " + missing + ": No such file or directory"),
            r.err().lines().map(l -> l.replaceFirst("^dmtcp_(launch|restart): ", "")).toList(), r.err());
        assertFalse(listens(port), "no coordinator was started");
      }
    }
  }

  @Test
  void aCoordinatorThatCannotStartEndsTheLaunchAtOnce() throws Exception {
    try (LiveProcesses live = new LiveProcesses("nocoord"); Socket taken = new Socket()) {
      taken.bind(new InetSocketAddress(0)); // bound, not listening: no coordinator answers there
      String port = Integer.toString(taken.getLocalPort());
      Ran r = run(live, Map.of(), bin("dmtcp_launch"), "--new-coordinator", "-p", port, corpus("counter"));
      assertEquals(99, r.rc(), r.toString());
      assertTrue(r.err().contains("dmtcp_coordinator: port " + port + " is already in use"), r.err());
      assertTrue(r.err().contains("dmtcp_launch: could not start a coordinator on port " + port), r.err());
      assertEquals("", r.out());
    }
  }

  /** Runs cmd in live's directory to its end, within RUN_LIMIT_SECONDS; kills what is left. */
  static Ran run(LiveProcesses live, Map<String, String> env, String... cmd) throws Exception {
    Path out = Files.createTempFile(live.work, "stdout", "");
    Path err = Files.createTempFile(live.work, "stderr", "");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(live.work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(RUN_LIMIT_SECONDS, TimeUnit.SECONDS),
          String.join(" ", cmd) + " did not end within " + RUN_LIMIT_SECONDS + " s");
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    return new Ran(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static boolean listens(String port) {
    try (Socket s = new Socket("127.0.0.1", Integer.parseInt(port))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
