package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The two connections to a member's listener whose server end no process holds, as a web
 * server's client meets them (tcpclosed, with 3 s waits): one still waiting in the accept queue
 * with its request sent, and one the server answered and closed while most of the 2 MiB answer
 * was still on its way. Only the listener's host can tell them apart. Each is checkpointed on
 * purpose, resumed, then restarted, and the program must read its answer whole; the images
 * must show which of the two each was (readdmtcp).
 */
class ServerClosedConnectionTest {
  private static final Map<String, String> SLOW = Map.of("TCPCLOSED_PAUSE_MS", "3000");

  @Test
  void waitingAndServerClosedConnectionsComeBackWhole() throws Exception {
    try (LiveProcesses live = new LiveProcesses("server-closed")) {
      String port = live.startCoordinator();
      Process run = live.start("run0", SLOW, bin("dmtcp_launch"), "-j", "-p", port, corpus("tcpclosed"));

      checkpointIn(live, port, "run0", "WAITING 1", "pending");
      await(() -> said(live, "run0", "PROGRESS 1") || !errors(live, "run0").isEmpty());
      assertTrue(errors(live, "run0").isEmpty(), "after resuming a waiting connection: " + errors(live, "run0"));

      checkpointIn(live, port, "run0", "CLOSED 2", "taken");
      await(() -> said(live, "run0", "PROGRESS 2") || !errors(live, "run0").isEmpty());
      assertTrue(errors(live, "run0").isEmpty(), "after resuming a server-closed connection: " + errors(live, "run0"));

      // the restart from the image taken in a server-closed connection
      assertEquals(0, live.command(port, "-k"));
      run.waitFor();
      live.start("run1", restartCommand(live, port));
      await(() -> said(live, "run1", "PROGRESS 2") || !errors(live, "run1").isEmpty());
      assertTrue(errors(live, "run1").isEmpty(), "after restarting a server-closed connection: " + errors(live, "run1"));

      // the restart from an image taken while a connection waited in the accept queue
      checkpointIn(live, port, "run1", "WAITING 4", "pending");
      assertEquals(0, live.command(port, "-k"));
      await(() -> LiveProcesses.peers(port) == 0);
      live.start("run2", restartCommand(live, port));
      await(() -> said(live, "run2", "PROGRESS 4") || !errors(live, "run2").isEmpty());
      assertTrue(errors(live, "run2").isEmpty(), "after restarting a waiting connection: " + errors(live, "run2"));
      assertEquals(0, live.command(port, "-k"));
    }
  }

  /** Checkpoints one second into the wait that `marker` begins; the client's image must say `state`. */
  private static void checkpointIn(LiveProcesses live, String port, String run, String marker, String state)
      throws Exception {
    await(() -> said(live, run, marker) || !errors(live, run).isEmpty());
    assertTrue(errors(live, run).isEmpty(), errors(live, run).toString());
    Thread.sleep(1000);
    assertEquals(0, live.command(port, "--bcheckpoint"), "checkpoint in " + marker);
    String described = describeImages(live);
    assertTrue(described.contains("state: connected bound") && described.contains(" " + state),
        "no connection is " + state + " in the images of the checkpoint in " + marker + ":\n" + described);
  }

  private static String describeImages(LiveProcesses live) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(bin("readdmtcp")));
    cmd.addAll(images(live));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    StringBuilder sockets = new StringBuilder();
    for (String line : out.split("\n")) {
      if (line.contains(" socket ") || line.contains("state:")) sockets.append(line).append('\n');
    }
    return sockets.toString();
  }

  private static List<String> images(LiveProcesses live) throws IOException {
    try (var s = Files.list(live.work)) {
      return s.filter(p -> p.getFileName().toString().matches("ckpt_tcpclosed_.*\\.dmtcp")).map(Path::toString).toList();
    }
  }

  private static String[] restartCommand(LiveProcesses live, String port) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
    cmd.addAll(images(live));
    return cmd.toArray(String[]::new);
  }

  private static boolean said(LiveProcesses live, String run, String line) {
    return CaseRun.read(live.out(run)).lines().anyMatch(line::equals);
  }

  private static List<String> errors(LiveProcesses live, String run) {
    return ProgressLog.read(live.out(run)).errors();
  }
}
