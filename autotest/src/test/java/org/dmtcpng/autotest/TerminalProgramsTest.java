package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Programs that live in a terminal come back in the terminal of dmtcp_restart: a user at an
 * interactive bash inside tmux launches them, types into them, checkpoints, kills them, restarts
 * them from the same shell and goes on typing. The terminal modes they had (a REPL's line
 * editing, vim's raw mode) and the foreground process group come back with them.
 */
class TerminalProgramsTest {
  private static final int CYCLES = 3;

  @Test
  void thePython3ReplGoesOnWhereItWas() throws Exception {
    assumeInstalled("tmux", "python3");
    try (LiveProcesses live = new LiveProcesses("tty-python"); Tmux tmux = new Tmux(live.work)) {
      String port = live.startCoordinator();
      tmux.type("cd " + live.work + " && " + bin("dmtcp_launch") + " -j -p " + port + " /usr/bin/python3 -q", "Enter");
      tmux.awaitScreen(">>>");
      tmux.type("x = 40", "Enter");
      for (int cycle = 1; cycle <= CYCLES; cycle++) {
        tmux.type("x += 1; print('VALUE', x)", "Enter");
        tmux.awaitScreen("VALUE " + (40 + cycle));
        checkpointAndKill(live, port);
        tmux.type("clear; " + bin("dmtcp_restart") + " -j -p " + port + " ckpt_python*.dmtcp", "Enter");
        awaitRunning(live, port);
      }
      tmux.type("print('FINAL', x * 2)", "Enter");
      tmux.awaitScreen("FINAL " + 2 * (40 + CYCLES));
    }
  }

  @Test
  void vimEditsAFileAcrossRestarts() throws Exception {
    assumeInstalled("tmux", "vim");
    try (LiveProcesses live = new LiveProcesses("tty-vim"); Tmux tmux = new Tmux(live.work)) {
      String port = live.startCoordinator();
      Path file = live.work.resolve("notes.txt");
      tmux.type("cd " + live.work + " && " + bin("dmtcp_launch") + " -j -p " + port
          + " vim -n -u NONE -i NONE -N notes.txt", "Enter");
      tmux.awaitScreen("notes.txt");
      StringBuilder expected = new StringBuilder();
      for (int cycle = 1; cycle <= CYCLES; cycle++) {
        // keys reach vim one by one (raw mode); the line only exists in its buffer
        String line = "line " + cycle + " typed before checkpoint " + cycle;
        tmux.type("o" + line, "Escape");
        tmux.awaitScreen(line);
        expected.append(line).append('\n');
        checkpointAndKill(live, port);
        tmux.type("clear; " + bin("dmtcp_restart") + " -j -p " + port + " ckpt_vim*.dmtcp", "Enter");
        awaitRunning(live, port);
        tmux.type("", "C-l"); // vim redraws the screen the clear wiped
        tmux.awaitScreen(line);
      }
      tmux.type(":wq", "Enter");
      LiveProcesses.await(() -> Files.exists(file));
      LiveProcesses.await(() -> CaseRun.read(file).equals("\n" + expected));
      assertEquals("\n" + expected, CaseRun.read(file));
    }
  }

  /**
   * Skips the test, saying why, when a program it needs is not in /usr/bin or /bin (the PATH of
   * the terminal's shell); scripts/install-deps.sh installs them.
   */
  private static void assumeInstalled(String... programs) {
    for (String program : programs) {
      assumeTrue(Files.isExecutable(Path.of("/usr/bin", program)) || Files.isExecutable(Path.of("/bin", program)),
          "needs " + program + " in /usr/bin or /bin (scripts/install-deps.sh installs it)");
    }
  }

  private static void checkpointAndKill(LiveProcesses live, String port) throws Exception {
    assertEquals(0, live.command(port, "-bc"), "the checkpoint failed");
    assertEquals(0, live.command(port, "-k"));
    LiveProcesses.await(() -> peers(port, false) == 0);
  }

  private static void awaitRunning(LiveProcesses live, String port) throws InterruptedException {
    LiveProcesses.await(() -> peers(port, true) == 1);
  }

  /** Members of the computation (with running: only once all are RUNNING), or -1. */
  private static int peers(String port, boolean running) {
    try (var client = new org.dmtcpng.coordinator.client.CommandClient("127.0.0.1", Integer.parseInt(port), 2000)) {
      client.setReadTimeout(5000);
      var status = client.command("status", null);
      return !running || "yes".equals(status.get("running")) ? Integer.parseInt(status.get("num_peers", "-1")) : -1;
    } catch (Exception e) {
      return -1;
    }
  }
}
