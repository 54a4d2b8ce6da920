package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** bin/dmtcp_coordinator and bin/dmtcp_command as users run them: real processes. */
class CommandLineTest {
  static final Path BIN = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize().resolve("bin");

  record Run(int rc, String out, String err) {}

  static Run run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("hung: " + String.join(" ", cmd));
    }
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }

  @Test
  void aPortAlreadyTakenIsOneLineAndExit99() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Run r = run(BIN.resolve("dmtcp_coordinator").toString(), "-q", "-p", Integer.toString(taken.getLocalPort()));
      assertEquals(99, r.rc(), r.toString());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains("port " + taken.getLocalPort() + " is already in use"), r.err());
    }
  }

  @Test
  void anUnknownOptionPrintsUsageAndFails() throws Exception {
    Run r = run(BIN.resolve("dmtcp_coordinator").toString(), "--no-such-option");
    assertTrue(r.rc() != 0);
    assertTrue(r.err().contains("Usage: dmtcp_coordinator"), r.err());
    Run c = run(BIN.resolve("dmtcp_command").toString(), "--no-such-option");
    assertEquals(2, c.rc());
    assertTrue(c.err().contains("Usage:  dmtcp_command"), c.err());
  }

  @Test
  void dmtcpCommandHIsHelpAsTheCoordinatorsQuestionMark() throws Exception {
    for (String h : List.of("h", "--help", "help")) {
      Run r = run(BIN.resolve("dmtcp_command").toString(), h);
      assertEquals(0, r.rc(), h + ": " + r);
      assertTrue(r.out().startsWith("Usage:  dmtcp_command") && r.out().contains("h, --help"), r.out());
      assertEquals("", r.err());
    }
  }

  /** Files and directories the coordinator cannot use: one line naming them, exit 99. */
  @Test
  void aPathTheCoordinatorCannotUseIsOneLineAndExit99() throws Exception {
    String coordinator = BIN.resolve("dmtcp_coordinator").toString();
    String missing = "/nonexistent-" + ProcessHandle.current().pid();
    List<List<String>> bad = List.of(
        List.of("--port-file", missing + "/port"),
        List.of("--coord-logfile", missing + "/log"),
        List.of("--tmpdir", missing),
        List.of("--daemon", "--tmpdir", missing),
        List.of("--daemon", "--port-file", missing + "/port"));
    for (List<String> options : bad) {
      List<String> cmd = new ArrayList<>(List.of(coordinator, "-q", "-p", "0"));
      cmd.addAll(options);
      Run r = run(cmd.toArray(String[]::new));
      assertEquals(99, r.rc(), options + ": " + r);
      assertEquals(1, r.err().strip().lines().count(), options + ": " + r.err());
      assertTrue(r.err().startsWith("dmtcp_coordinator: ") && r.err().contains(missing)
          && r.err().contains("No such file or directory"), options + ": " + r.err());
    }
  }

  @Test
  void dmtcpCommandWithoutACoordinatorSaysSoAndExits2() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Run r = run(BIN.resolve("dmtcp_command").toString(), "-p", Integer.toString(port), "--json", "-s");
    assertEquals(2, r.rc());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals("DMT_COORD_NOT_FOUND", j.get("command_status").asText());
    assertEquals("DMT_STATUS", j.get("command").asText());
    assertEquals(1, j.get("schema_version").asInt());
  }

  @Test
  void statusListIntervalAndQuitAgainstARealCoordinator() throws Exception {
    Path dir = java.nio.file.Files.createTempDirectory("cli");
    Path portFile = dir.resolve("port");
    List<String> cmd = new ArrayList<>(List.of(BIN.resolve("dmtcp_coordinator").toString(), "--daemon",
        "-p", "0", "--port-file", portFile.toString(), "--ckptdir", dir.toString(), "-i", "0"));
    assertEquals(0, run(cmd.toArray(String[]::new)).rc(), "--daemon returns once it listens");
    String port = java.nio.file.Files.readString(portFile).strip();
    String command = BIN.resolve("dmtcp_command").toString();
    try (SimClient a = SimClient.join(Integer.parseInt(port), "cli-a").auto()) {
      Run s = run(command, "-p", port, "-s");
      assertEquals(0, s.rc(), s.toString());
      assertTrue(s.out().contains("NUM_PEERS=1") && s.out().contains("RUNNING=yes")
          && s.out().contains("CKPT_INTERVAL=0") && s.out().contains("Port: " + port), s.out());
      assertEquals(0, run(command, "-p", port, "-i", "42").rc());
      JsonNode j = new ObjectMapper().readTree(run(command, "-p", port, "--json", "--status").out());
      assertEquals(42, j.get("checkpoint_interval").asInt());
      assertEquals(1, j.get("num_peers").asInt());
      assertTrue(j.get("running").asBoolean());
      assertEquals("DMT_COORD_SUCCESS", j.get("command_status").asText());
      JsonNode l = new ObjectMapper().readTree(run(command, "-p", port, "--json", "-l").out());
      assertEquals("cli-a", l.get("peers").get(0).get("unique_pid").asText());
      Run bc = run(command, "-p", port, "-bc");
      assertEquals(0, bc.rc(), bc.toString());
      assertTrue(java.nio.file.Files.isSymbolicLink(dir.resolve("dmtcp_restart_script.sh")));
      assertEquals(0, run(command, "-p", port, "-q").rc());
    }
    Run gone = run(command, "-p", port, "-s");
    assertEquals(2, gone.rc(), "the coordinator quit: " + gone);
  }
}
