package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;

/**
 * A test's work directory and the real processes it starts there (each with its output in
 * {@code <name>.out}), with the commands the tests share: start a coordinator, talk to it with
 * dmtcp_command, wait for a condition. Closing it kills every process it started, their
 * descendants and the ones handed to {@link #alsoKill}, and deletes the directory.
 */
final class LiveProcesses implements AutoCloseable {
  static final Path ROOT = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();

  final Path work;
  private final List<Process> started = new ArrayList<>();
  private final List<ProcessHandle> others = new ArrayList<>();

  LiveProcesses(String prefix) throws IOException {
    work = Files.createTempDirectory(prefix);
  }

  static String bin(String command) {
    return ROOT.resolve("bin").resolve(command).toString();
  }

  static String corpus(String program) {
    return ROOT.resolve("app-corpus/build").resolve(program).toString();
  }

  Path out(String name) {
    return work.resolve(name + ".out");
  }

  /** The checkpoint images in the work directory, in name order. */
  List<String> images() throws IOException {
    try (var s = Files.list(work)) {
      return s.filter(p -> p.getFileName().toString().matches("ckpt_.*\\.dmtcp")).map(Path::toString).sorted()
          .toList();
    }
  }

  Process start(String name, String... cmd) throws IOException {
    return start(name, Map.of(), cmd);
  }

  /** As start, with these variables added to the environment. */
  Process start(String name, Map<String, String> env, String... cmd) throws IOException {
    return start(name, env, ProcessBuilder.Redirect.from(new File("/dev/null")), cmd);
  }

  /** As start, with a pipe to its standard input ({@link Process#getOutputStream}). */
  Process startWithInput(String name, String... cmd) throws IOException {
    return start(name, Map.of(), ProcessBuilder.Redirect.PIPE, cmd);
  }

  private Process start(String name, Map<String, String> env, ProcessBuilder.Redirect input, String... cmd)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectInput(input)
        .redirectOutput(out(name).toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p);
    return p;
  }

  /** Starts a coordinator on a free port with its images in the work directory; returns the port. */
  String startCoordinator() throws IOException, InterruptedException {
    Path portFile = work.resolve("coordinator.port");
    start("coordinator", bin("dmtcp_coordinator"), "-p", "0", "--port-file", portFile.toString(),
        "--ckptdir", work.toString());
    await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+"));
    return CaseRun.read(portFile).strip();
  }

  int command(String port, String what) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(bin("dmtcp_command"), "-p", port, what).directory(work.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "dmtcp_command " + what + " did not return");
    return p.exitValue();
  }

  /** Processes that will no longer be descendants of what this started (orphans of a kill). */
  void alsoKill(List<ProcessHandle> handles) {
    others.addAll(handles);
  }

  /** The coordinator's status, or null when it does not answer. */
  static Frame status(String port) {
    try (CommandClient client = new CommandClient("127.0.0.1", Integer.parseInt(port), 2000)) {
      client.setReadTimeout(5000);
      return client.command("status", null);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** How many processes the coordinator has, or -1 when it does not answer. */
  static int peers(String port) {
    Frame s = status(port);
    return s == null ? -1 : Integer.parseInt(s.get("num_peers", "-1"));
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(50);
    }
  }

  @Override
  public void close() {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    others.forEach(ProcessHandle::destroyForcibly);
    AutotestMain.deleteTree(work);
  }
}
