package org.dmtcpng.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.MessageType;
import org.junit.jupiter.api.Test;

/** The commands typed on the standard input of a real bin/dmtcp_coordinator, as DMTCP users do. */
class InteractiveCommandsTest {
  @Test
  void fReleasesARestartWaitingForMissingProcessesWithThoseThatCame() throws Exception {
    try (Interactive c = new Interactive();
         SimClient first = SimClient.rejoin(c.port, "r1", "comp-f", 3, 2)) {
      assertEquals("WAIT", first.welcome.get("state"), "1 of 2 processes: the restart waits");
      c.type("f");
      assertEquals("restart forced without its 1 missing process (refused if they come later)", c.answer());
      first.expect(MessageType.ADVANCE, "NS_PUBLISHED");
      first.reach("NS_PUBLISHED", 3);
      first.auto();
      await(() -> "yes".equals(c.status().get("running")));
      assertEquals("1", c.status().get("num_peers"));
      try (SimClient late = SimClient.rejoin(c.port, "r2", "comp-f", 3, 2)) {
        assertEquals(MessageType.REFUSED, late.welcome.type(), "the missing one is not let in later");
      }
      assertTrue(Files.readString(c.dir.resolve("log")).contains("forced with 1 of 2 processes"));
    }
  }

  @Test
  void fWithoutARestartWaitingSaysSoInOneLine() throws Exception {
    try (Interactive c = new Interactive()) {
      c.type("f");
      assertEquals("no restart is waiting for missing processes: nothing to force", c.answer());
      try (SimClient running = SimClient.join(c.port, "a").auto()) {
        c.type("f");
        assertEquals("no restart is waiting for missing processes: nothing to force", c.answer());
        assertEquals("yes", c.status().get("running"));
      }
    }
  }

  @Test
  void iPrintsTheIntervalAndAsksForNothing() throws Exception {
    try (Interactive c = new Interactive("-i", "42")) {
      c.type("i");
      assertEquals("Checkpoint Interval: 42", c.answer());
      try (CommandClient cmd = new CommandClient("127.0.0.1", c.port, 2000)) {
        cmd.command("interval", 0L);
      }
      c.type("i");
      assertEquals("Checkpoint Interval: disabled (checkpoint manually instead)", c.answer());
      c.type("s"); // a command of its own, not the answer to a question
      assertEquals("Coordinator:", c.answer());
    }
  }

  @Test
  void questionMarkAndHListEveryCommand() throws Exception {
    try (Interactive c = new Interactive()) {
      for (String help : List.of("?", "h")) {
        c.type(help);
        List<String> text = new ArrayList<>();
        do {
          text.add(c.answer().strip());
        } while (!text.get(text.size() - 1).startsWith("?"));
        assertTrue(text.contains("f : Force a restart even if there are missing nodes (debugging)"), text.toString());
        assertTrue(text.contains("i : Print current checkpoint interval"), text.toString());
        for (String command : List.of("l", "s", "c", "k", "q")) {
          assertTrue(text.stream().anyMatch(l -> l.startsWith(command + " : ")), command + " in " + text);
        }
      }
    }
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(50);
    }
  }

  /**
   * bin/dmtcp_coordinator on a free port with a pipe to its standard input; what it prints after
   * its startup banner is read line by line. Its log goes to {@code dir/log}. Closing it kills it.
   */
  static final class Interactive implements AutoCloseable {
    final Path dir;
    final int port;
    private final Process process;
    private final Writer in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    Interactive(String... options) throws Exception {
      dir = Files.createTempDirectory("interactive");
      Path portFile = dir.resolve("port");
      List<String> cmd = new ArrayList<>(List.of(CommandLineTest.BIN.resolve("dmtcp_coordinator").toString(),
          "-p", "0", "--port-file", portFile.toString(), "--ckptdir", dir.toString(),
          "--coord-logfile", dir.resolve("log").toString()));
      cmd.addAll(List.of(options));
      process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      in = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader = new Thread(() -> {
        try (BufferedReader out = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = out.readLine()) != null) {
            lines.add(line);
          }
        } catch (IOException e) {
          // the coordinator is gone
        }
      }, "coordinator-stdout");
      reader.setDaemon(true);
      reader.start();
      String line;
      do {
        line = answer();
      } while (!line.equals("Type '?' for help."));
      port = Integer.parseInt(Files.readString(portFile).strip());
    }

    void type(String line) throws IOException {
      in.write(line + "\n");
      in.flush();
    }

    /** The next line the coordinator prints (failing after 30 s without one). */
    String answer() throws InterruptedException {
      String line = lines.poll(30, TimeUnit.SECONDS);
      assertNotNull(line, "the coordinator printed nothing more");
      return line;
    }

    Frame status() {
      try (CommandClient c = new CommandClient("127.0.0.1", port, 2000)) {
        return c.command("status", null);
      } catch (IOException e) {
        throw new AssertionError("the coordinator does not answer", e);
      }
    }

    @Override
    public void close() throws IOException {
      process.destroyForcibly();
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
