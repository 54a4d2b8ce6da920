package org.dmtcpng.autotest;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;

/**
 * Runs one case for real: a private coordinator on a free port, the program under dmtcp_launch,
 * then cycles of checkpoint, kill and restart (alternately dmtcp_restart on the images and
 * dmtcp_restart_script.sh), checking the program's own output each time. Every process it starts
 * is killed at the end, also when the case fails or times out.
 */
public final class CaseRun implements AutoCloseable {
  /** A phase as it happened: launch, ckpt or rstr, in which cycle, and how long it took. */
  public record Phase(String name, int cycle, boolean passed, long millis) {}

  /** The case failed; the message says at which phase and why. */
  public static final class Failure extends Exception {
    Failure(String message) {
      super(message);
    }
  }

  private static final Pattern IMAGE = Pattern.compile("(/[^\\s'\"]*ckpt_[^\\s'\"]*\\.dmtcp)");
  private final Path root;
  private final Case c;
  private final Path work;
  private final String asUser;
  private final Consumer<String> out;
  private final List<Process> started = new ArrayList<>();
  private final List<Phase> phases = new ArrayList<>();
  private Process coordinator;
  private int port;
  private Duration timeouts = new Duration(60);

  record Duration(int seconds) {}

  public CaseRun(Path root, Case c, Path work, String asUser, Consumer<String> out) {
    this.root = root;
    this.c = c;
    this.work = work;
    this.asUser = asUser;
    this.out = out;
  }

  private List<Integer> delaysMillis = List.of();

  /** Waits this long before each cycle's checkpoint (a random schedule); none by default. */
  public CaseRun delays(List<Integer> millis) {
    delaysMillis = millis;
    return this;
  }

  public List<Phase> phases() {
    return phases;
  }

  public Path work() {
    return work;
  }

  /** Runs the whole case; throws Failure with the reason. */
  public void run() throws Failure, IOException, InterruptedException {
    if (!c.ownCoordinator()) {
      startCoordinator();
    }
    long t0 = System.nanoTime();
    Process program = start("run0", launchCommand());
    if (c.ownCoordinator()) {
      port = awaitPortFile("launch", 0, t0, "dmtcp_launch --new-coordinator", "run0");
    }
    boolean launched = awaitQuietly(() -> peersRunning(c.processes())
        && ProgressLog.read(output("run0")).progress().size() >= 3);
    phases.add(new Phase("launch", 0, launched, ms(t0)));
    if (!launched) {
      throw new Failure("launch: the program did not reach " + c.processes()
          + " RUNNING processes with progress; it printed: " + tail(output("run0")));
    }
    String current = "run0";
    for (int cycle = 1; cycle <= c.cycles(); cycle++) {
      if (cycle <= delaysMillis.size()) {
        Thread.sleep(delaysMillis.get(cycle - 1));
      }
      List<Path> images = checkpoint(cycle, current);
      kill(cycle, current, program);
      String next = "run" + cycle;
      program = restart(cycle, images, next);
      current = next;
    }
    checkOutput(current, "the final run");
  }

  private List<Path> checkpoint(int cycle, String current) throws Failure, IOException, InterruptedException {
    long low = ProgressLog.read(output(current)).last();
    long t0 = System.nanoTime();
    ProcResult r = runCommand(120, bin("dmtcp_command"), "-p", Integer.toString(port), "--bcheckpoint");
    long high = ProgressLog.read(output(current)).last();
    marks.put(cycle, new long[] {low, high});
    if (r.rc != 0) {
      fail("ckpt", cycle, t0, "dmtcp_command --bcheckpoint exited " + r.rc + ": " + r.text());
    }
    List<Path> images = restartScriptImages();
    if (images.size() != c.processes()) {
      fail("ckpt", cycle, t0, "the restart script names " + images.size() + " images, expected "
          + c.processes() + ": " + images);
    }
    long bytes = 0;
    for (Path image : images) {
      bytes += Files.size(image);
    }
    if (c.maxImageBytes() > 0 && bytes > c.maxImageBytes()) {
      fail("ckpt", cycle, t0, "the images take " + bytes + " bytes, more than " + c.maxImageBytes());
    }
    for (Path image : images) {
      ProcResult v = runCommand(120, bin("readdmtcp"), "--verify", image.toString());
      if (v.rc != 0) {
        fail("ckpt", cycle, t0, "image " + image + " does not verify: " + v.text());
      }
    }
    phases.add(new Phase("ckpt", cycle, true, ms(t0)));
    out.accept("ckpt:PASSED ");
    return images;
  }

  private final Map<Integer, long[]> marks = new java.util.HashMap<>();

  private void kill(int cycle, String current, Process program) throws Failure, IOException, InterruptedException {
    long t0 = System.nanoTime();
    /* Only what was printed before the kill counts: members die one by one, and a process
     * that sees a peer die first (a child, the other end of a pipe) may rightly complain. */
    long printedBefore = Files.size(output(current));
    ProcResult r = runCommand(60, bin("dmtcp_command"), "-p", Integer.toString(port), "--kill");
    if (r.rc != 0) {
      fail("rstr", cycle, t0, "dmtcp_command --kill exited " + r.rc + ": " + r.text());
    }
    if (!program.waitFor(timeouts.seconds(), TimeUnit.SECONDS)
        || !awaitQuietly(() -> peers() <= 0)) {
      fail("rstr", cycle, t0, "the processes did not die on --kill");
    }
    if (c.ownCoordinator() && !awaitQuietly(() -> status() == null)) {
      fail("rstr", cycle, t0, "the coordinator of dmtcp_launch --new-coordinator did not exit with the computation");
    }
    checkOutput(ProgressLog.readPrefix(output(current), printedBefore), "before the kill");
  }

  private Process restart(int cycle, List<Path> images, String next)
      throws Failure, IOException, InterruptedException {
    long t0 = System.nanoTime();
    List<String> cmd = new ArrayList<>();
    if (cycle % 2 == 1) {
      if (c.ownCoordinator()) {
        Files.deleteIfExists(portFile());
        cmd.addAll(List.of(bin("dmtcp_restart"), "--new-coordinator", "-p", "0", "--port-file", portFile().toString()));
      } else {
        cmd.addAll(List.of(bin("dmtcp_restart"), "-j", "-p", Integer.toString(port)));
      }
      cmd.addAll(c.restartOptions());
      images.forEach(i -> cmd.add(i.toString()));
    } else {
      cmd.add(work.resolve("dmtcp_restart_script.sh").toString());
    }
    Process p = start(next, cmd);
    if (c.ownCoordinator() && cycle % 2 == 1) {
      port = awaitPortFile("rstr", cycle, t0, "dmtcp_restart --new-coordinator", next);
    }
    boolean back = awaitQuietly(() -> peersRunning(c.processes())
        && ProgressLog.read(output(next)).progress().size() >= 3);
    if (!back) {
      fail("rstr", cycle, t0, "the restarted computation did not come back RUNNING with progress"
          + " (" + (cycle % 2 == 1 ? "dmtcp_restart" : "dmtcp_restart_script.sh")
          + (p.isAlive() ? "" : ", which exited " + p.exitValue()) + "): " + tail(output(next)));
    }
    long[] m = marks.get(cycle);
    String problem = ProgressLog.read(output(next)).checkContinues(m[0], m[1]);
    if (problem != null) {
      fail("rstr", cycle, t0, problem);
    }
    phases.add(new Phase("rstr", cycle, true, ms(t0)));
    out.accept("rstr:PASSED; ");
    return p;
  }

  private void checkOutput(String name, String when) throws Failure {
    checkOutput(ProgressLog.read(output(name)), when);
  }

  private void checkOutput(ProgressLog log, String when) throws Failure {
    String problem = !log.errors().isEmpty() ? "the program reported: " + log.errors().get(0)
        : log.checkConsecutive();
    if (problem != null) {
      throw new Failure(when + ": " + problem);
    }
  }

  private void fail(String phase, int cycle, long t0, String why) throws Failure {
    phases.add(new Phase(phase, cycle, false, ms(t0)));
    out.accept(phase + ":FAILED ");
    throw new Failure(phase + " (cycle " + cycle + "): " + why);
  }

  // ---- the coordinator ---------------------------------------------------------------------

  private Path portFile() {
    return work.resolve("port");
  }

  /** The port a coordinator started by the program's own command wrote. */
  private int awaitPortFile(String phase, int cycle, long t0, String who, String output)
      throws Failure, InterruptedException {
    Path portFile = portFile();
    if (!awaitQuietly(() -> Files.exists(portFile) && read(portFile).strip().matches("\\d+"))) {
      fail(phase, cycle, t0, who + " wrote no port file: " + tail(output(output)));
    }
    return Integer.parseInt(read(portFile).strip());
  }

  private void startCoordinator() throws Failure, IOException, InterruptedException {
    Path portFile = portFile();
    coordinator = start("coordinator", List.of(bin("dmtcp_coordinator"), "-p", "0", "--port-file",
        portFile.toString(), "--ckptdir", work.toString(), "--coord-logfile",
        work.resolve("coordinator.log").toString()));
    if (!awaitQuietly(() -> Files.exists(portFile) && read(portFile).strip().matches("\\d+"))) {
      throw new Failure("launch: the coordinator did not start: " + tail(output("coordinator")));
    }
    port = Integer.parseInt(read(portFile).strip());
  }

  private Frame status() {
    try (CommandClient client = new CommandClient("127.0.0.1", port, 2000)) {
      client.setReadTimeout(5000);
      return client.command("status", null);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private int peers() {
    Frame s = status();
    return s == null ? -1 : Integer.parseInt(s.get("num_peers", "-1"));
  }

  private boolean peersRunning(int n) {
    Frame s = status();
    return s != null && Integer.parseInt(s.get("num_peers", "-1")) == n && "yes".equals(s.get("running"));
  }

  // ---- processes ---------------------------------------------------------------------------

  private List<String> launchCommand() {
    List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_launch")));
    cmd.addAll(c.ownCoordinator()
        ? List.of("--new-coordinator", "-p", "0", "--port-file", portFile().toString())
        : List.of("-j", "-p", Integer.toString(port)));
    cmd.addAll(List.of("--ckptdir", work.toString()));
    cmd.addAll(c.launchOptions());
    String corpus = root.resolve("app-corpus/build").toString();
    for (String a : c.argv()) {
      cmd.add(a.replace("{corpus}", corpus));
    }
    return cmd;
  }

  private List<String> asUser(List<String> cmd) {
    if (asUser == null) {
      return cmd;
    }
    List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", asUser, "--"));
    wrapped.addAll(cmd);
    return wrapped;
  }

  private Process start(String name, List<String> cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(asUser(cmd))
        .directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(output(name).toFile())
        .redirectErrorStream(true);
    pb.environment().putAll(c.env());
    pb.environment().remove("DMTCP_COORD_PORT");
    pb.environment().remove("DMTCP_PORT");
    Process p = pb.start();
    started.add(p);
    return p;
  }

  record ProcResult(int rc, String stdout) {
    String text() {
      String s = stdout.strip();
      return s.length() > 400 ? s.substring(s.length() - 400) : s;
    }
  }

  private ProcResult runCommand(int timeoutSeconds, String... cmd) throws IOException, InterruptedException {
    Path log = Files.createTempFile(work, "cmd", ".out");
    if (asUser != null) {
      Files.setPosixFilePermissions(log, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
    }
    Process p = new ProcessBuilder(asUser(List.of(cmd))).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(log.toFile()).redirectErrorStream(true).start();
    started.add(p);
    boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
    }
    String text = read(log);
    Files.deleteIfExists(log);
    return new ProcResult(done ? p.exitValue() : -1, text);
  }

  private List<Path> restartScriptImages() throws IOException {
    Path script = work.resolve("dmtcp_restart_script.sh");
    List<Path> images = new ArrayList<>();
    if (!Files.exists(script)) {
      return images;
    }
    Matcher m = IMAGE.matcher(read(script));
    while (m.find()) {
      Path p = Path.of(m.group(1));
      if (!images.contains(p)) {
        images.add(p);
      }
    }
    return images;
  }

  private boolean awaitQuietly(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeouts.seconds());
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  Path output(String name) {
    return work.resolve(name + ".out");
  }

  private String bin(String command) {
    return root.resolve("bin").resolve(command).toString();
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }

  private static String tail(Path p) {
    String s = read(p).strip();
    return s.isEmpty() ? "(nothing)" : s.length() > 300 ? "..." + s.substring(s.length() - 300) : s;
  }

  /** Kills everything this case started, the coordinator last. */
  @Override
  public void close() {
    if (port > 0) {
      try (CommandClient client = new CommandClient("127.0.0.1", port, 1000)) {
        client.setReadTimeout(2000);
        client.command("kill", null);
      } catch (IOException | RuntimeException ignored) {
        // gone already
      }
    }
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : started) {
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    removeIpcObjects();
  }

  /**
   * A program that makes IPC objects lists them in ipc-cleanup, one a line: ipcrm options for
   * System V objects, "mq NAME" for POSIX queues. Those of its first run, in the host's IPC
   * namespace, outlive its processes (the restarted ones are in namespaces that end with them).
   */
  private void removeIpcObjects() {
    Path list = work.resolve("ipc-cleanup");
    if (!Files.exists(list)) {
      return;
    }
    List<String> ipcrm = new ArrayList<>(List.of("ipcrm"));
    List<String> unlink = new ArrayList<>(List.of("python3", "-c",
        "import ctypes, sys\nlibc = ctypes.CDLL(None)\nfor n in sys.argv[1:]: libc.mq_unlink(n.encode())"));
    for (String line : read(list).split("\n")) {
      String l = line.strip();
      if (l.startsWith("mq ")) {
        unlink.add(l.substring(3).strip());
      } else if (!l.isEmpty()) {
        ipcrm.addAll(List.of(l.split("\\s+")));
      }
    }
    try {
      for (List<String> cmd : List.of(ipcrm, unlink)) {
        if (cmd.size() > (cmd == ipcrm ? 1 : 3)) {
          Process p = new ProcessBuilder(asUser(cmd)).redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
      Files.deleteIfExists(list);
    } catch (IOException e) {
      // ipcrm or python3 missing: the objects stay
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
