package org.dmtcpng.testhosts;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The test hosts' names in /etc/hosts, so that they resolve the same way in the root namespace
 * and in every host (which share the file), for ssh and for any program: lines marked
 * "# dmtcp-test-hosts &lt;fixture id&gt; pid &lt;jvm pid&gt;", added and removed in place under a
 * lock (the file may be a bind mount, which a rename would not replace).
 */
final class HostsFile {
  static final String MARK = "# dmtcp-test-hosts ";
  private final Path file;

  HostsFile(Path file) {
    this.file = file;
  }

  static String mark(String fixtureId) {
    return MARK + fixtureId + " pid " + ProcessHandle.current().pid();
  }

  void add(List<String> lines) throws IOException {
    edit(current -> {
      List<String> out = new ArrayList<>(current);
      out.addAll(lines);
      return out;
    });
  }

  /** Removes the lines of a fixture. */
  void remove(String fixtureId) throws IOException {
    removeIf(line -> line.contains(MARK + fixtureId + " "));
  }

  void removeIf(Predicate<String> doomed) throws IOException {
    edit(current -> current.stream().filter(doomed.negate()).toList());
  }

  List<String> lines() throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      byte[] b = new byte[(int) raf.length()];
      raf.readFully(b);
      return List.of(new String(b, StandardCharsets.UTF_8).split("\n"));
    }
  }

  private interface Edit {
    List<String> apply(List<String> lines);
  }

  private void edit(Edit edit) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
         FileChannel ch = raf.getChannel();
         FileLock lock = ch.lock()) {
      byte[] b = new byte[(int) raf.length()];
      raf.readFully(b);
      String text = new String(b, StandardCharsets.UTF_8);
      List<String> before = text.isEmpty() ? List.of() : List.of(text.split("\n"));
      List<String> after = edit.apply(before);
      if (after.equals(before)) {
        return;
      }
      byte[] out = (String.join("\n", after) + "\n").getBytes(StandardCharsets.UTF_8);
      raf.seek(0);
      raf.write(out);
      raf.setLength(out.length);
    }
  }
}
