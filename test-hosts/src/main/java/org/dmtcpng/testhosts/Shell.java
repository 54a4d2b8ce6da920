package org.dmtcpng.testhosts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a system command to its end and returns its output; a failure is an IOException with it. */
final class Shell {
  private Shell() {}

  static String run(String... cmd) throws IOException {
    return run(List.of(cmd));
  }

  static String run(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": did not end within 60 s");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + ": exit code " + p.exitValue() + ": " + text.strip());
      }
      return text;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", cmd) + ": interrupted");
    }
  }

  /** As run, but a failure is ignored: for teardown, which goes on whatever happens. */
  static String quietly(String... cmd) {
    try {
      return run(cmd);
    } catch (IOException e) {
      return "";
    }
  }
}
