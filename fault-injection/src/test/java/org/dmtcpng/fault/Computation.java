package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A private computation: its own coordinator on a free port, its own checkpoint directory,
 * and every process it started, all of which close() kills, also when a test fails.
 */
final class Computation implements AutoCloseable {
  private static final Pattern NUM_PEERS = Pattern.compile("NUM_PEERS=(\\d+)");
  private static final Pattern RUNNING = Pattern.compile("RUNNING=(yes|no)");

  final Path dir;
  final int port;
  private final Process coordinator;
  private final List<Process> processes = new ArrayList<>();

  private Computation(Path dir, int port, Process coordinator) {
    this.dir = dir;
    this.port = port;
    this.coordinator = coordinator;
  }

  static Computation start(String name) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("dmtcp-fault-" + name + "-");
    Path portFile = dir.resolve("port");
    Process coordinator = new ProcessBuilder(Bin.path("dmtcp_coordinator"), "-p", "0",
        "--port-file", portFile.toString(), "--ckptdir", dir.toString(),
        "--coord-logfile", dir.resolve("coordinator.log").toString())
        .directory(dir.toFile())
        .redirectOutput(dir.resolve("coordinator.out").toFile())
        .redirectErrorStream(true)
        .start();
    try {
      awaitTrue(Duration.ofSeconds(30), "coordinator port file",
          () -> Files.isRegularFile(portFile) && readQuietly(portFile).strip().matches("\\d+"));
      return new Computation(dir, Integer.parseInt(readQuietly(portFile).strip()), coordinator);
    } catch (RuntimeException | Error e) {
      coordinator.destroyForcibly();
      throw e;
    }
  }

  /** dmtcp_launch -j on this computation; output goes to dir/NAME.out. */
  Process launch(String name, String... command) throws IOException {
    return launchWith(Map.of(), name, command);
  }

  /** launch, with these variables added to the environment. */
  Process launchWith(Map<String, String> env, String name, String... command) throws IOException {
    List<String> argv = new ArrayList<>(List.of(Bin.path("dmtcp_launch"), "-j", "-p",
        Integer.toString(port), "--ckptdir", dir.toString()));
    argv.addAll(List.of(command));
    return started(name, argv, env);
  }

  /**
   * Writes a file (outside every temporary directory: those are saved with the image anyway)
   * and launches bash holding it open on descriptor 3 (launch options first); returns the file
   * once it runs. It is removed with the computation.
   */
  Path launchHolding(String contents, String... options) throws IOException {
    // (the project itself may live in /tmp, as a fresh clone for CI does)
    Path held = Path.of(System.getProperty("user.home"), ".cache", "dmtcp-fault-held-files");
    Files.createDirectories(held);
    heldDir = Files.createTempDirectory(held, "held");
    Path notes = heldDir.resolve("notes.txt");
    Files.writeString(notes, contents);
    List<String> argv = new ArrayList<>(List.of(options));
    argv.addAll(List.of("bash", "-c",
        "exec 3<'" + notes + "'; i=0; while :; do echo PROGRESS $i; i=$((i+1)); read -t 0.1 <> /dev/zero; done"));
    launch("holder", argv.toArray(String[]::new));
    awaitRunning(1, Duration.ofSeconds(60));
    return notes;
  }

  private Path heldDir;

  /** A blocking checkpoint, then --kill; returns the images of the restart script. */
  List<Path> checkpointAndKill() throws IOException, InterruptedException {
    Bin.Result r = command("--bcheckpoint");
    assertEquals(0, r.exitCode(), "checkpoint: " + r.stdout() + r.stderr());
    List<Path> images = imagesOfRestartScript();
    command("--kill");
    awaitTrue(Duration.ofSeconds(30), "the computation to be gone", () -> status().contains("NUM_PEERS=0"));
    return images;
  }

  /** dmtcp_launch -j with its own checkpoint directory; output goes to dir/NAME.out. */
  Process launchInto(Path ckptDir, String name, String... command) throws IOException {
    List<String> argv = new ArrayList<>(List.of(Bin.path("dmtcp_launch"), "-j", "-p",
        Integer.toString(port), "--ckptdir", ckptDir.toString()));
    argv.addAll(List.of(command));
    return started(name, argv);
  }

  /** dmtcp_restart -j of the given images on this computation; output to dir/NAME.out. */
  Process restart(String name, List<Path> images) throws IOException {
    List<String> argv = new ArrayList<>(List.of(Bin.path("dmtcp_restart"), "-j", "-p",
        Integer.toString(port)));
    images.forEach(i -> argv.add(i.toString()));
    return started(name, argv);
  }

  private Process started(String name, List<String> argv) throws IOException {
    return started(name, argv, Map.of());
  }

  private Process started(String name, List<String> argv, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().putAll(env);
    Process p = pb
        .directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(dir.resolve(name + ".out").toFile())
        .redirectErrorStream(true)
        .start();
    processes.add(p);
    return p;
  }

  Bin.Result command(String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of(Bin.path("dmtcp_command"), "-p",
        Integer.toString(port)));
    argv.addAll(List.of(args));
    return Bin.run(120, dir, argv.toArray(String[]::new));
  }

  /** Polls the coordinator's status until it reports n peers, all RUNNING. */
  void awaitRunning(int n, Duration timeout) {
    awaitTrue(timeout, n + " peers RUNNING", () -> {
      String status = status();
      return matches(NUM_PEERS, status, Integer.toString(n)) && matches(RUNNING, status, "yes");
    });
  }

  String status() {
    try {
      return command("--status").stdout();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  String output(String name) {
    return readQuietly(dir.resolve(name + ".out"));
  }

  /** The last "PROGRESS n" a corpus program printed, or -1. */
  long lastProgress(String name) {
    long last = -1;
    for (String line : output(name).split("\n")) {
      if (line.startsWith("PROGRESS ")) {
        last = Long.parseLong(line.substring(9).strip());
      }
    }
    return last;
  }

  List<Path> images() throws IOException {
    return imagesIn(dir);
  }

  List<Path> imagesIn(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.filter(p -> p.getFileName().toString().matches("ckpt_.*\\.dmtcp"))
          .sorted(Comparator.naturalOrder()).toList();
    }
  }

  /** The images named by dmtcp_restart_script.sh, in the order it names them. */
  List<Path> imagesOfRestartScript() throws IOException {
    String script = Files.readString(dir.resolve("dmtcp_restart_script.sh"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("(/[^\\s'\"]*ckpt_[^\\s'\"]*\\.dmtcp)(?![.\\w])").matcher(script);
    List<Path> found = new ArrayList<>();
    while (m.find()) {
      Path p = Path.of(m.group(1));
      if (!found.contains(p)) {
        found.add(p);
      }
    }
    return found;
  }

  void killAll() {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    processes.clear();
  }

  @Override
  public void close() throws InterruptedException {
    killAll();
    try {
      command("--quit");
    } catch (IOException | AssertionError ignored) {
      // the coordinator may already be gone; it is killed below either way
    }
    coordinator.descendants().forEach(ProcessHandle::destroyForcibly);
    coordinator.destroyForcibly();
    coordinator.waitFor();
    if (!Boolean.getBoolean("fault.keep")) {
      deleteTree(dir);
    }
    if (heldDir != null) {
      deleteTree(heldDir);
    }
  }

  static void awaitTrue(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  static void assertStatus(String status, int peers, String running) {
    assertEquals(Integer.toString(peers), group(NUM_PEERS, status), "NUM_PEERS in\n" + status);
    assertEquals(running, group(RUNNING, status), "RUNNING in\n" + status);
  }

  private static boolean matches(Pattern p, String text, String value) {
    return value.equals(group(p, text));
  }

  private static String group(Pattern p, String text) {
    Matcher m = p.matcher(text);
    return m.find() ? m.group(1) : null;
  }

  static String readQuietly(Path p) {
    try {
      return Files.readString(p, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a temp dir left behind is not a test failure
    }
  }
}
