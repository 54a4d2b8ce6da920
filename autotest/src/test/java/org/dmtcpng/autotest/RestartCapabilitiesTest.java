package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A restart by an unprivileged user runs the program in a user namespace of dmtcp_restart's,
 * where it would hold every capability: after the restart every thread of the program (the
 * runtime's checkpoint thread included) has none, as before the checkpoint. Run as root, the
 * test runs the computation as the user dmtcptest (created if missing, as --as-user does).
 */
class RestartCapabilitiesTest {
  private static final String USER = "dmtcptest";
  private static final String NONE = "0000000000000000";
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

  private static String[] asUser(String... cmd) {
    if (!ROOT) {
      return cmd;
    }
    List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", USER, "--"));
    wrapped.addAll(List.of(cmd));
    return wrapped.toArray(String[]::new);
  }

  @Test
  void aNonRootRestartLeavesTheProgramNoCapabilities() throws Exception {
    if (ROOT) {
      String problem = UnprivilegedUser.prepare(USER, LiveProcesses.ROOT);
      assumeTrue(problem == null, problem);
    }
    try (LiveProcesses live = new LiveProcesses("restart-caps")) {
      if (ROOT) {
        Files.setPosixFilePermissions(live.work, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(0, new ProcessBuilder("chown", USER, live.work.toString()).start().waitFor());
      }
      String port = live.startCoordinator();
      Process launched = live.start("run1", asUser(bin("dmtcp_launch"), "-j", "-p", port, corpus("tids")));
      await(() -> ProgressLog.read(live.out("run1")).progress().size() >= 3);
      Map<String, String> before = capabilities(launched, "tids");
      // main, 4 workers and the checkpoint thread (and a short-lived seventh now and then)
      assertTrue(before.size() >= 6, "the program's threads before the checkpoint: " + before);
      before.values().forEach(caps -> assertEquals(NONE.repeat(4), caps, "before the checkpoint: " + before));
      assertEquals(0, live.command(port, "-bc"));
      assertEquals(0, live.command(port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS));

      List<String> restart = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
      restart.addAll(live.images());
      Process again = live.start("run2", asUser(restart.toArray(String[]::new)));
      long seen = ProgressLog.read(live.out("run1")).last();
      await(() -> ProgressLog.read(live.out("run2")).last() >= seen + 3);
      Map<String, String> after = capabilities(again, "tids");
      String out = CaseRun.read(live.out("run2"));
      assertTrue(after.size() >= 6, "the restarted program's threads: " + after + "\n" + out);
      String pid = after.keySet().iterator().next().split("/")[0];
      assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")),
          Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")),
          "the restarted program runs in a user namespace of its own");
      after.forEach((task, caps) -> assertEquals(NONE.repeat(4), caps,
          "task " + task + " (CapInh CapPrm CapEff CapAmb) after the restart\n" + out));
      assertTrue(ProgressLog.read(live.out("run2")).errors().isEmpty(), out);
      assertEquals(0, live.command(port, "-k"));
      assertTrue(again.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, live.command(port, "-q"));
    }
  }

  /**
   * For every thread of the descendants of p named comm: "pid/tid" to its CapInh, CapPrm, CapEff
   * and CapAmb from /proc/pid/task/tid/status, concatenated.
   */
  private static Map<String, String> capabilities(Process p, String comm) throws IOException {
    Map<String, String> caps = new TreeMap<>();
    for (ProcessHandle h : p.descendants().toList()) {
      Path proc = Path.of("/proc/" + h.pid());
      String name;
      try {
        name = Files.readString(proc.resolve("comm")).strip();
      } catch (IOException gone) {
        continue;
      }
      if (!name.equals(comm)) {
        continue;
      }
      try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
        for (Path task : tasks.toList()) {
          StringBuilder sets = new StringBuilder();
          for (String line : Files.readAllLines(task.resolve("status"))) {
            for (String field : List.of("CapInh:", "CapPrm:", "CapEff:", "CapAmb:")) {
              if (line.startsWith(field)) {
                sets.append(line.substring(field.length()).strip());
              }
            }
          }
          caps.put(h.pid() + "/" + task.getFileName(), sets.toString());
        }
      }
    }
    return caps;
  }
}
