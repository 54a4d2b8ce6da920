package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private tmux server (its socket in the test's work directory) with one window running an
 * interactive bash, as a user at a terminal would have: keys are typed into it and its screen is
 * read back. Closing it kills the server and everything running in it.
 */
final class Tmux implements AutoCloseable {
  private final Path socket;
  private final Path work;

  Tmux(Path work) throws IOException, InterruptedException {
    this.work = work;
    this.socket = work.resolve("tmux.sock");
    run("new-session", "-d", "-s", "t", "-x", "120", "-y", "40",
        "env -i PATH=/usr/bin:/bin HOME=" + work + " TERM=xterm-256color bash --norc --noprofile -i");
    LiveProcesses.await(() -> screen().contains("$") || screen().contains("#"));
  }

  /** Types text literally, then the named keys (Enter, Escape, ...). */
  void type(String text, String... keys) throws IOException, InterruptedException {
    if (!text.isEmpty()) {
      run("send-keys", "-t", "t", "-l", text);
    }
    for (String k : keys) {
      run("send-keys", "-t", "t", k);
    }
  }

  String screen() {
    try {
      return run("capture-pane", "-p", "-t", "t", "-S", "-200");
    } catch (IOException | InterruptedException | AssertionError e) {
      return "";
    }
  }

  void awaitScreen(String text) throws InterruptedException {
    try {
      LiveProcesses.await(() -> screen().contains(text));
    } catch (AssertionError e) {
      throw new AssertionError("the terminal never showed '" + text + "'; it shows:\n" + screen(), e);
    }
  }

  private String run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("tmux", "-S", socket.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS), "tmux " + args[0] + " hangs");
    assertEquals(0, p.exitValue(), "tmux " + String.join(" ", args) + ": " + new String(out, StandardCharsets.UTF_8));
    return new String(out, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    try {
      run("kill-server");
    } catch (IOException | InterruptedException | AssertionError ignored) {
      // already gone
    }
  }
}
