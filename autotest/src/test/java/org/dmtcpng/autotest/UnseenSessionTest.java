package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.peers;
import static org.dmtcpng.autotest.LiveProcesses.status;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmtcpng.coordinator.protocol.Frame;
import org.junit.jupiter.api.Test;

/**
 * A computation launched where its session's leader is outside its pid namespace (a shell run as
 * a container's process, a CI runner): getsid() says 0, while its process group, made by a
 * job-control shell inside the namespace, has a visible leader that is not part of the
 * computation. The family program checks both after every restart, so the group must come back
 * with its id and the session must stay the unseen one; restarted once from outside any such
 * namespace and once from inside one.
 */
class UnseenSessionTest {
  private static final int PROCESSES = 3;

  @Test
  void familyKeepsItsGroupWhenItsSessionLeaderIsOutsideItsPidNamespace() throws Exception {
    assumeTrue(unshareWorks(), "needs unshare --pid (root or user namespaces)");
    try (LiveProcesses live = new LiveProcesses("unseen-session")) {
      String port = live.startCoordinator();
      live.start("run0", inUnseenSession(bin("dmtcp_launch"), "-j", "-p", port, "--ckptdir",
          live.work.toString(), corpus("family")));
      String current = "run0";
      await(() -> running(port) && progressLines(live, "run0") >= 3);
      for (int cycle = 1; cycle <= 2; cycle++) {
        long low = ProgressLog.read(live.out(current)).last();
        assertEquals(0, live.command(port, "--bcheckpoint"), "checkpoint " + cycle);
        long high = ProgressLog.read(live.out(current)).last();
        List<String> images = images(live);
        assertEquals(PROCESSES, images.size(), "images of checkpoint " + cycle);
        assertEquals(0, live.command(port, "--kill"));
        await(() -> peers(port) == 0);
        assertNull(errors(live, current), "before the kill in cycle " + cycle);
        List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
        cmd.addAll(images);
        String[] restart = cmd.toArray(String[]::new);
        current = "run" + cycle;
        live.start(current, cycle == 1 ? restart : inUnseenSession(restart));
        String name = current;
        // the program checks its group and session every tick: a few ticks, then still running
        await(() -> progressLines(live, name) >= 6 || !ProgressLog.read(live.out(name)).errors().isEmpty());
        assertTrue(running(port), "not all of the restarted processes run: " + CaseRun.read(live.out(name)));
        assertNull(errors(live, current), "after restart " + cycle);
        assertNull(ProgressLog.read(live.out(current)).checkContinues(low, high), "after restart " + cycle);
      }
      assertEquals(0, live.command(port, "--kill"));
    }
  }

  /**
   * The command run by a job-control shell that is process 1 of a new pid namespace, in a session
   * whose leader (unshare, after setsid) is outside it.
   */
  private static String[] inUnseenSession(String... cmd) {
    List<String> all = new ArrayList<>(List.of("setsid", "unshare"));
    if (!isRoot()) {
      all.addAll(List.of("--user", "--map-root-user"));
    }
    // the inner shell leads the job's group and stays outside the computation, as a harness does
    all.addAll(List.of("--pid", "--fork", "--mount-proc", "--kill-child", "bash", "-c",
        "set -m; bash -c '\"$@\"; rc=$?; exit $rc' job \"$@\"; true", "bash"));
    all.addAll(List.of(cmd));
    return all.toArray(String[]::new);
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static boolean unshareWorks() throws InterruptedException {
    try {
      Process p = new ProcessBuilder(inUnseenSession("true")).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static String errors(LiveProcesses live, String run) {
    List<String> errors = ProgressLog.read(live.out(run)).errors();
    return errors.isEmpty() ? ProgressLog.read(live.out(run)).checkConsecutive() : errors.get(0);
  }

  private static int progressLines(LiveProcesses live, String run) {
    return ProgressLog.read(live.out(run)).progress().size();
  }

  private static List<String> images(LiveProcesses live) {
    List<String> images = new ArrayList<>();
    Matcher m = Pattern.compile("/\\S+\\.dmtcp").matcher(CaseRun.read(live.work.resolve("dmtcp_restart_script.sh")));
    while (m.find()) {
      if (!images.contains(m.group())) {
        images.add(m.group());
      }
    }
    return images;
  }

  private static boolean running(String port) {
    Frame s = status(port);
    return s != null && "yes".equals(s.get("running"))
        && Integer.parseInt(s.get("num_peers", "-1")) == PROCESSES;
  }
}
