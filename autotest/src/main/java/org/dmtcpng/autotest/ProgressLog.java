package org.dmtcpng.autotest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a corpus program printed: its PROGRESS numbers and its ERROR lines. */
public final class ProgressLog {
  private final List<Long> progress = new ArrayList<>();
  private final List<String> errors = new ArrayList<>();

  public static ProgressLog read(Path file) {
    return readPrefix(file, Long.MAX_VALUE);
  }

  /** What the program had printed when the file held {@code bytes} bytes (a snapshot taken earlier). */
  public static ProgressLog readPrefix(Path file, long bytes) {
    try {
      if (!Files.exists(file)) {
        return parse("");
      }
      byte[] all = Files.readAllBytes(file);
      int n = (int) Math.min(all.length, Math.max(0, bytes));
      return parse(new String(all, 0, n, StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      return parse("");
    }
  }

  public static ProgressLog parse(String text) {
    ProgressLog log = new ProgressLog();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      boolean complete = i < lines.length - 1;
      if (line.startsWith("PROGRESS ") && complete) {
        try {
          log.progress.add(Long.parseLong(line.substring(9).strip()));
        } catch (NumberFormatException e) {
          log.errors.add("unreadable line: " + line);
        }
      } else if (line.startsWith("ERROR")) {
        log.errors.add(line);
      }
    }
    return log;
  }

  public List<Long> progress() {
    return progress;
  }

  public List<String> errors() {
    return errors;
  }

  public long last() {
    return progress.isEmpty() ? -1 : progress.get(progress.size() - 1);
  }

  /**
   * Checks the output of a restarted run: it must go on from the checkpoint, whose value lies
   * between what the program had printed before the checkpoint request (low) and after it
   * returned (high), and count up by one without gaps. Returns null if all is well.
   */
  public String checkContinues(long low, long high) {
    if (!errors.isEmpty()) {
      return "the program reported: " + errors.get(0);
    }
    if (progress.isEmpty()) {
      return "no progress after restart";
    }
    long first = progress.get(0);
    if (first < low || first > high + 1) {
      return "after restart it counted from " + first + ", but the checkpoint was taken between "
          + low + " and " + high;
    }
    return checkConsecutive();
  }

  /** Null if the numbers count up by one; else what is wrong. */
  public String checkConsecutive() {
    for (int i = 1; i < progress.size(); i++) {
      if (progress.get(i) != progress.get(i - 1) + 1) {
        return "progress jumped from " + progress.get(i - 1) + " to " + progress.get(i);
      }
    }
    return null;
  }
}
