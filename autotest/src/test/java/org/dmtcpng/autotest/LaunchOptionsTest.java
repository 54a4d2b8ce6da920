package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The options of DMTCP's dmtcp_launch and dmtcp_restart that job scripts use, on the real
 * binaries: where the concept exists here they do what DMTCP's do; DMTCP's plugin switches are
 * accepted with a note, since there is nothing here to switch.
 */
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

  @Test
  void coordLogfileIsTheLogOfTheCoordinatorLaunchOrRestartStarts() throws Exception {
    try (LiveProcesses live = new LiveProcesses("coordlog")) {
      Path launchLog = live.work.resolve("launch.log");
      Path restartLog = live.work.resolve("restart.log");
      List<Path> portFiles = List.of(live.work.resolve("port0"), live.work.resolve("port1"));
      try {
        Process run0 = live.start("run0", bin("dmtcp_launch"), "--new-coordinator", "-p", "0", "--port-file",
            portFiles.get(0).toString(), "--coord-logfile", launchLog.toString(), corpus("counter"));
        await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 3);
        String port0 = CaseRun.read(portFiles.get(0)).strip();
        assertEquals(0, live.command(port0, "-kc"));
        assertTrue(run0.waitFor(30, TimeUnit.SECONDS));
        String log0 = CaseRun.read(launchLog);
        assertTrue(log0.contains("joined") && log0.contains("generation 1 committed"), log0);

        live.start("run1", bin("dmtcp_restart"), "--new-coordinator", "-p", "0", "--port-file",
            portFiles.get(1).toString(), "--coord-logfile", restartLog.toString(), live.images().get(0));
        await(() -> ProgressLog.read(live.out("run1")).progress().size() >= 3);
        String log1 = CaseRun.read(restartLog);
        assertTrue(log1.contains("restart of") && log1.contains("complete: 1 processes running"), log1);
        assertFalse(log1.contains("committed"), "each coordinator has a log of its own: " + log1);
      } finally {
        for (Path p : portFiles) {
          if (Files.exists(p)) {
            live.command(CaseRun.read(p).strip(), "-q"); // started detached: quit, not a descendant
          }
        }
      }
    }
  }

  @Test
  void coordLogfileWithACoordinatorAlreadyRunningSaysItIsUnused() throws Exception {
    try (LiveProcesses live = new LiveProcesses("coordlog-unused")) {
      String port = live.startCoordinator();
      Path log = live.work.resolve("unused.log");
      Ran r = run(live, Map.of(), bin("dmtcp_launch"), "-j", "-p", port, "--coord-logfile", log.toString(),
          "/bin/sh", "-c", "exit 7");
      assertEquals(7, r.rc(), r.toString());
      assertEquals(List.of("dmtcp_launch: note: --coord-logfile " + log + " unused: the coordinator at localhost:"
          + port + " was already running"), r.err().lines().toList());
      assertFalse(Files.exists(log));
      Ran quiet = run(live, Map.of(), bin("dmtcp_launch"), "-q", "-j", "-p", port, "--coord-logfile",
          log.toString(), "/bin/sh", "-c", "exit 7");
      assertEquals(new Ran(7, "", ""), quiet);
    }
  }

  @Test
  void aCoordLogfileThatCannotBeWrittenIsOneLineAndExit99() throws Exception {
    try (LiveProcesses live = new LiveProcesses("coordlog-bad")) {
      String log = live.work.resolve("not-there/coordinator.log").toString();
      String port = Integer.toString(freePort());
      Ran r = run(live, Map.of(), bin("dmtcp_launch"), "--new-coordinator", "-p", port, "--coord-logfile", log,
          corpus("counter"));
      assertEquals(99, r.rc(), r.toString());
      assertEquals(List.of("dmtcp_launch: coordinator log file " + log + ": No such file or directory"),
          r.err().lines().toList());
      assertFalse(listens(port), "no coordinator was started");
    }
  }

  @Test
  void mtcpCheckpointSignalIsTheOldNameOfCkptSignal() throws Exception {
    try (LiveProcesses live = new LiveProcesses("mtcpsignal")) {
      Process p = live.start("run0", bin("dmtcp_launch"), "--no-coordinator", "-p", "0",
          "--mtcp-checkpoint-signal", "10", corpus("counter"));
      Path status = Path.of("/proc", Long.toString(p.pid()), "status"); // dmtcp_launch execs the program
      await(() -> (caught(status) & (1L << (10 - 1))) != 0);
      assertEquals(0, caught(status) & (1L << (12 - 1)), "SIGUSR2 is not the checkpoint signal then");
    }
  }

  @Test
  void pluginSwitchesAreAcceptedWithOneNoteEachAndQuietSilencesThem() throws Exception {
    try (LiveProcesses live = new LiveProcesses("plugins")) {
      String note = " changes nothing: this dmtcp has no separate ";
      Map<List<String>, Map<String, String>> cases = Map.of(
          List.of("--disable-alloc-plugin"), Map.of(),
          List.of("--disable-dl-plugin"), Map.of(),
          List.of("--disable-all-plugins"), Map.of(),
          List.of(), Map.of("DMTCP_DL_PLUGIN", "0"),
          List.of("--disable-alloc-plugin", "--disable-dl-plugin"), Map.of("DMTCP_ALLOC_PLUGIN", "0"));
      for (var c : cases.entrySet()) {
        Ran r = launchExit7(live, c.getKey(), c.getValue());
        assertEquals(7, r.rc(), "the program ran: " + r);
        // one note per switch, naming the option when there is one, else the variable
        List<String> expected = new ArrayList<>();
        for (String option : c.getKey()) {
          expected.add("dmtcp_launch: note: " + option + note);
        }
        c.getValue().keySet().stream()
            .filter(v -> !c.getKey().contains("--disable-" + v.replaceAll("DMTCP_|_PLUGIN", "").toLowerCase() + "-plugin"))
            .forEach(v -> expected.add("dmtcp_launch: note: " + v + "=0" + note));
        List<String> said = r.err().lines()
            .map(l -> l.contains(note) ? l.substring(0, l.indexOf(note) + note.length()) : l).sorted().toList();
        assertEquals(expected.stream().sorted().toList(), said, r.err());
      }
      List<String> all = List.of("--disable-alloc-plugin", "--disable-dl-plugin", "--disable-all-plugins");
      Map<String, String> env = Map.of("DMTCP_DL_PLUGIN", "0", "DMTCP_ALLOC_PLUGIN", "0");
      List<String> quietly = new ArrayList<>(List.of("-q"));
      quietly.addAll(all);
      assertEquals(new Ran(7, "", ""), launchExit7(live, quietly, env));
      Map<String, String> quietEnv = new java.util.HashMap<>(env);
      quietEnv.put("DMTCP_QUIET", "1");
      assertEquals(new Ran(7, "", ""), launchExit7(live, all, quietEnv));
      assertEquals(new Ran(7, "", ""), launchExit7(live, List.of(), Map.of("DMTCP_DL_PLUGIN", "1")));
    }
  }

  @Test
  void withPluginIsRefusedInOneLine() throws Exception {
    try (LiveProcesses live = new LiveProcesses("withplugin")) {
      Ran r = run(live, Map.of(), bin("dmtcp_launch"), "--no-coordinator", "-p", "0", "--with-plugin",
          "/usr/lib/libplugin.so", "/bin/sh", "-c", "exit 7");
      assertEquals(99, r.rc(), r.toString());
      assertEquals(List.of("dmtcp_launch: --with-plugin /usr/lib/libplugin.so: this dmtcp cannot load plugins"),
          r.err().lines().toList());
    }
  }

  @Test
  void helpShowsTheOptions() throws Exception {
    try (LiveProcesses live = new LiveProcesses("help")) {
      String launch = run(live, Map.of(), bin("dmtcp_launch"), "--help").out();
      for (String option : List.of("--coord-logfile", "--mtcp-checkpoint-signal", "--disable-alloc-plugin",
          "--disable-dl-plugin", "--disable-all-plugins", "--with-plugin", "DMTCP_COORD_LOG_FILENAME")) {
        assertTrue(launch.contains(option), option + " in\n" + launch);
      }
      assertTrue(run(live, Map.of(), bin("dmtcp_restart"), "--help").out().contains("--coord-logfile"));
    }
  }

  private static Ran launchExit7(LiveProcesses live, List<String> options, Map<String, String> env)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_launch"), "--no-coordinator", "-p", "0"));
    cmd.addAll(options);
    cmd.addAll(List.of("/bin/sh", "-c", "exit 7"));
    return run(live, env, cmd.toArray(String[]::new));
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

  /** The SigCgt mask of /proc/PID/status (signals with a handler), or 0 while it cannot be read. */
  private static long caught(Path status) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("SigCgt:")) {
          return Long.parseUnsignedLong(line.substring(7).strip(), 16);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not there yet
    }
    return 0;
  }
}
