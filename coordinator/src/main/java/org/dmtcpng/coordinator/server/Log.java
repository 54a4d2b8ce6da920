package org.dmtcpng.coordinator.server;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** The coordinator's log: one line per event, to --coord-logfile or standard error. */
public final class Log {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private final PrintStream out;
  private final int quiet;

  public Log(String logFile, int quiet) throws IOException {
    this.out = logFile == null ? System.err
        : new PrintStream(Files.newOutputStream(Path.of(logFile), StandardOpenOption.CREATE,
            StandardOpenOption.APPEND), true, StandardCharsets.UTF_8);
    this.quiet = quiet;
  }

  public void note(String line) {
    if (quiet == 0 || out != System.err) {
      out.println("[" + LocalTime.now().format(TIME) + "] " + line);
    }
  }

  public void warn(String line) {
    if (quiet < 2 || out != System.err) {
      out.println("[" + LocalTime.now().format(TIME) + "] WARNING: " + line);
    }
  }
}
