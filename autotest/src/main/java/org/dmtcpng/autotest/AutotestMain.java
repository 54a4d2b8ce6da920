package org.dmtcpng.autotest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * ./autotest [-v] [--list] [--slow] [--core] [--stress N] [--keep] [--as-user NAME] [case...]
 * Runs the table of cases and ends with "N passed, N failed" (", N skipped"); exits non-zero on
 * any failure.
 */
public final class AutotestMain {
  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  static int run(String[] args) throws Exception {
    boolean verbose = false, list = false, slow = false, keep = false, coreOnly = false;
    int stress = 1;
    String asUser = null;
    List<String> names = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-v", "--verbose" -> verbose = true;
        case "--list" -> list = true;
        case "--slow" -> slow = true;
        case "--keep" -> keep = true;
        case "--core" -> coreOnly = true;
        case "--stress" -> stress = Integer.parseInt(args[++i]);
        case "--as-user" -> asUser = args[++i];
        case "-h", "--help" -> {
          System.out.println("usage: ./autotest [-v] [--list] [--slow] [--core] [--stress N] [--keep]"
              + " [--as-user NAME] [case...]");
          return 0;
        }
        default -> {
          if (args[i].startsWith("-")) {
            System.err.println("autotest: unknown option " + args[i]);
            return 2;
          }
          names.add(args[i]);
        }
      }
    }
    Path root = Path.of(System.getProperty("dmtcp.root", ".")).toAbsolutePath().normalize();
    List<Case> cases = new ArrayList<>();
    for (Case c : Corpus.all()) {
      boolean named = names.contains(c.name());
      if (named || (names.isEmpty() && (slow || !c.slow()) && (!coreOnly || c.core()))) {
        cases.add(c);
      }
    }
    for (String n : names) {
      if (Corpus.all().stream().noneMatch(c -> c.name().equals(n))) {
        System.err.println("autotest: no case named " + n + " (see --list)");
        return 2;
      }
    }
    if (list) {
      cases.forEach(c -> System.out.println(c.name() + "  " + String.join(" ", c.argv())
          + (c.slow() ? "  [slow]" : "") + (c.core() ? "  [core]" : "")));
      return 0;
    }
    String userProblem = asUser == null ? null : UnprivilegedUser.prepare(asUser, root);

    List<CaseResult> results = new ArrayList<>();
    Runtime.getRuntime().addShutdownHook(new Thread(Cleanup::killAll));
    for (int round = 0; round < stress; round++) {
      for (Case c : cases) {
        results.add(runCase(root, c, asUser, userProblem, verbose, keep));
      }
    }
    Reports.write(root, results);
    long passed = results.stream().filter(r -> r.status().equals("passed")).count();
    long failed = results.stream().filter(r -> r.status().equals("failed")).count();
    long skipped = results.stream().filter(r -> r.status().equals("skipped")).count();
    for (CaseResult r : results) {
      if (r.status().equals("skipped")) {
        System.out.println("skipped " + r.name() + ": " + r.reason());
      }
    }
    System.out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
    return failed > 0 ? 1 : 0;
  }

  private static CaseResult runCase(Path root, Case c, String asUser, String userProblem,
      boolean verbose, boolean keep) throws IOException, InterruptedException {
    long start = System.currentTimeMillis();
    String label = (c.name() + " ").length() < 24
        ? (c.name() + " " + ".".repeat(23 - c.name().length())) : c.name() + " ";
    System.out.print(label + " ");
    System.out.flush();
    String skip = userProblem != null ? userProblem
        : c.requiredTool() != null && !onPath(c.requiredTool()) ? c.requiredTool() + " is not installed" : null;
    if (skip != null) {
      System.out.println("skipped (" + skip + ")");
      return new CaseResult(c.name(), "skipped", skip, List.of(), start, System.currentTimeMillis(), null);
    }
    Path base = root.resolve("target/autotest-work");
    Files.createDirectories(base);
    Path work = Files.createTempDirectory(base, c.name() + "-");
    if (asUser != null) {
      Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx"));
      new ProcessBuilder("chown", asUser, work.toString()).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
    }
    CaseRun run = new CaseRun(root, c, work, asUser, s -> {
      if (verbose) {
        System.out.print(s);
        System.out.flush();
      }
    });
    Cleanup.register(run);
    String status = "passed", reason = null;
    try {
      run.run();
    } catch (CaseRun.Failure e) {
      status = "failed";
      reason = e.getMessage();
    } finally {
      run.close();
      Cleanup.unregister(run);
    }
    String kept = null;
    if (status.equals("failed") || keep) {
      kept = work.toString();
      Files.writeString(work.resolve("images.txt"), listing(work));
    } else {
      deleteTree(work);
    }
    System.out.println(status.equals("passed") ? "PASSED" : "FAILED: " + reason);
    if (kept != null && status.equals("failed")) {
      System.out.println("    coordinator log, program output and images kept in " + kept);
    }
    return new CaseResult(c.name(), status, reason, run.phases(), start, System.currentTimeMillis(), kept);
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  private static String listing(Path dir) throws IOException {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) {
        sb.append(Files.isRegularFile(p) ? Files.size(p) : 0).append('\t').append(p.getFileName()).append('\n');
      }
    }
    return sb.toString();
  }

  static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a work folder left behind is not a failure
    }
  }
}
