package org.dmtcpng.autotest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The log of app-corpus's hostcounter: a line "PROGRESS n host" per step, appended. A restarted
 * process appends after what the killed one wrote, so a restart is read from an offset on.
 */
final class HostCounterLog {
  /** One step: the value and the host name the program saw. */
  record Step(long n, String host) {}

  private final Path file;

  HostCounterLog(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  long size() throws IOException {
    return Files.exists(file) ? Files.size(file) : 0;
  }

  /** The complete lines from byte offset on. */
  List<Step> stepsFrom(long offset) throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    byte[] all = Files.readAllBytes(file);
    String text = new String(Arrays.copyOfRange(all, (int) Math.min(offset, all.length), all.length),
        StandardCharsets.ISO_8859_1);
    List<Step> steps = new ArrayList<>();
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      return steps;
    }
    for (String line : text.substring(0, end).split("\n")) {
      String[] f = line.split(" ");
      if (f.length != 3 || !f[0].equals("PROGRESS")) {
        throw new IllegalStateException(file + ": unreadable line: " + line);
      }
      steps.add(new Step(Long.parseLong(f[1]), f[2]));
    }
    return steps;
  }

  long last() throws IOException {
    List<Step> s = stepsFrom(0);
    return s.isEmpty() ? -1 : s.get(s.size() - 1).n();
  }

  /**
   * Null if the steps from offset on go on from a checkpoint taken between low and high, count
   * up by one and all ran on host; else what is wrong.
   */
  String checkContinuesOn(long offset, long low, long high, String host) throws IOException {
    List<Step> steps = stepsFrom(offset);
    if (steps.isEmpty()) {
      return file + ": no progress after the restart";
    }
    long first = steps.get(0).n();
    if (first < low || first > high + 1) {
      return file + ": after the restart it counted from " + first + ", but the checkpoint was taken between "
          + low + " and " + high;
    }
    for (int i = 0; i < steps.size(); i++) {
      Step s = steps.get(i);
      if (!s.host().equals(host)) {
        return file + ": step " + s.n() + " ran on " + s.host() + ", not on " + host;
      }
      if (i > 0 && s.n() != steps.get(i - 1).n() + 1) {
        return file + ": it jumped from " + steps.get(i - 1).n() + " to " + s.n();
      }
    }
    return null;
  }
}
