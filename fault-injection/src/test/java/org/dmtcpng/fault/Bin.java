package org.dmtcpng.fault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The project's commands in bin/, run as real processes with a deadline. */
final class Bin {
  static final Path ROOT =
      Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();

  private Bin() {}

  static String path(String command) {
    return ROOT.resolve("bin").resolve(command).toString();
  }

  static Path corpus(String program) {
    return ROOT.resolve("app-corpus/build").resolve(program);
  }

  /** What a finished command printed and returned. */
  record Result(int exitCode, String stdout, String stderr) {
    List<String> stderrLines() {
      List<String> lines = new ArrayList<>();
      for (String line : stderr.split("\n")) {
        if (!line.isBlank()) {
          lines.add(line);
        }
      }
      return lines;
    }
  }

  /** Runs a command to completion; kills it and fails if it outlives the deadline. */
  static Result run(long timeoutSeconds, Path workDir, String... command)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(workDir, "cmd", ".out");
    Path err = Files.createTempFile(workDir, "cmd", ".err");
    Process p = new ProcessBuilder(command)
        .directory(workDir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .start();
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        throw new AssertionError("hung for " + timeoutSeconds + " s: " + String.join(" ", command));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** Sends a signal by name (STOP, CONT, KILL) with kill(1): the JDK can only TERM and KILL. */
  static void signal(long pid, String signal) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("kill -" + signal + " " + pid + " failed");
    }
  }
}
