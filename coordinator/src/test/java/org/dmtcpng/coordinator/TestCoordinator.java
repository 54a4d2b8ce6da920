package org.dmtcpng.coordinator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.server.CoordinatorServer;
import org.dmtcpng.coordinator.server.Log;

/** The real coordinator server, in this JVM, on a free port, with its own checkpoint folder. */
final class TestCoordinator implements AutoCloseable {
  final CoordinatorServer server;
  final Path dir;
  final int port;

  /** Counted down when the server asks to exit (--exit-on-last, quit). */
  final CountDownLatch exited = new CountDownLatch(1);

  TestCoordinator(int interval) throws Exception {
    this(interval, false);
  }

  TestCoordinator(int interval, boolean exitOnLast) throws Exception {
    dir = Files.createTempDirectory("coord-test");
    server = new CoordinatorServer(new CoordinatorServer.Config("127.0.0.1", 0, dir, interval,
        exitOnLast, false, "/opt/dmtcp/bin/dmtcp_restart"), new Log(dir.resolve("log").toString(), 0),
        exited::countDown);
    port = server.start();
  }

  Frame command(String command) throws IOException {
    try (CommandClient c = new CommandClient("127.0.0.1", port, 2000)) {
      return c.command(command, null);
    }
  }

  /** A blocking checkpoint request running in the background. */
  CompletableFuture<Frame> bcheckpoint() {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return command("bcheckpoint");
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }, Executors.newSingleThreadExecutor());
  }

  String log() throws IOException {
    return Files.readString(dir.resolve("log"));
  }

  @Override
  public void close() throws IOException {
    server.close();
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
