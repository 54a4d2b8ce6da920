package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.dmtcpng.autotest.LiveProcesses.peers;
import static org.dmtcpng.autotest.LiveProcesses.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.dmtcpng.coordinator.protocol.Frame;
import org.junit.jupiter.api.Test;

/**
 * Issue 22: the ids of a restarted tree. While dmtcp_restart recreates the processes and threads
 * of the images in its pid namespace, the namespace also numbers tasks on its own (the restart's
 * staging threads, a fallback; here, tasks the test starts inside the namespace while the restart
 * is paused before any thread is recreated): none may take an id a thread of the images still
 * needs, the checkpoint threads' included. A tid that is truly taken (the test holds it) gives its
 * thread a new one, said in one line with the reason, and the computation keeps that one through
 * later checkpoints and restarts. The program is family: a parent and two children that signal
 * each other by pid and check their ids every tick. After every restart each process must have
 * exactly the thread ids it had at the checkpoint, which its image names, and go on intact.
 */
class ThreadIdsAtRestartTest {
  private static final int PROCESSES = 3;
  private static final String PAUSED = "paused before replacing its memory";
  private static final Pattern TIDS = Pattern.compile("(?m)^  pid: (\\d+) .*\\n(?:.*\\n)*?  tids:(.*)$");

  /** Namespace pid of a process of the program to the namespace ids of its threads. */
  private record Ids(Map<Long, TreeSet<Long>> byPid) {
    long highest() {
      return byPid.values().stream().flatMap(TreeSet::stream).mapToLong(Long::longValue).max().orElse(1);
    }
  }

  /** What a checkpoint saw: the program's ids, and its progress before and after the request. */
  private record Checkpoint(Ids ids, long low, long high) {}

  /** The computation as it runs: its output so far, the process that started it, its port. */
  private static final class Run {
    final LiveProcesses live;
    final String port;
    String name;
    Process process;

    Run(LiveProcesses live, String port) {
      this.live = live;
      this.port = port;
    }

    String output() {
      return CaseRun.read(live.out(name));
    }
  }

  @Test
  void tasksTheNamespaceNumbersDuringTheRestartTakeNoIdOfTheImages() throws Exception {
    try (LiveProcesses live = new LiveProcesses("tids-helpers")) {
      Run run = launch(live);
      Checkpoint first = checkpointAndKill(run);
      Ids before = first.ids();
      restartPaused(run, "run1");
      // As many tasks as it takes for the namespace to hand out an id above every one the
      // images need: each is numbered by the namespace, as the restart's own helpers are.
      long highest = before.highest();
      Process helpers = inNamespace(run, "helpers", "n=0; while [ $n -lt 500 ]; do sleep 600 & echo \"held $!\";"
          + " [ $! -gt " + highest + " ] && break; n=$((n+1)); done; echo started; wait");
      await(() -> CaseRun.read(live.out("helpers")).contains("started") || !helpers.isAlive());
      resume(run);
      Ids after = awaitRunning(run, first);
      stop(helpers); // (a task of the namespace that is no member would keep it from ending)
      assertEquals(before.byPid(), after.byPid(), "the ids of the program's threads after the restart (before it: "
          + before.byPid() + "; the namespace gave the test's tasks: " + held(live.out("helpers")) + ")\n"
          + run.output());
      assertFalse(run.output().contains("cannot give"), run.output());
      laterCycles(run, after);
    }
  }

  @Test
  void aThreadWhoseTidIsTakenKeepsItsNewOneThroughLaterRestarts() throws Exception {
    // choosing the id of a task in the namespace takes CAP_CHECKPOINT_RESTORE there
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root to hold a chosen id in the namespace");
    try (LiveProcesses live = new LiveProcesses("tids-taken")) {
      Run run = launch(live);
      Checkpoint first = checkpointAndKill(run);
      Ids before = first.ids();
      // the checkpoint thread of the last child: its one thread besides the main one
      long child = before.byPid().keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
      long taken = before.byPid().get(child).stream().filter(tid -> tid != child).findFirst().orElseThrow();
      restartPaused(run, "run1");
      // hold exactly that id, then put the namespace's counter back where dmtcp_restart left it
      // (cat: a sysctl file read a byte at a time, as dash's read does, gives its first digit only)
      String knob = "/proc/sys/kernel/ns_last_pid";
      Process holder = inNamespace(run, "holder", "last=$(cat " + knob + "); echo " + (taken - 1) + " > " + knob
          + "; sleep 600 & echo \"held $!\"; echo $last > " + knob + "; echo started; wait");
      await(() -> CaseRun.read(live.out("holder")).contains("started") || !holder.isAlive());
      assertEquals(List.of(taken), held(live.out("holder")), CaseRun.read(live.out("holder")));
      resume(run);
      Ids after = awaitRunning(run, first);
      stop(holder);
      Matcher said = Pattern.compile("\\[dmtcp\\] restart: cannot give the checkpoint thread its tid " + taken
          + " back \\(another task of the namespace has it\\); it is now (\\d+)\\n").matcher(run.output());
      assertTrue(said.find(), "the restart says which tid its checkpoint thread lost, and why:\n" + run.output());
      long now = Long.parseLong(said.group(1));
      Map<Long, TreeSet<Long>> expected = new TreeMap<>(before.byPid());
      TreeSet<Long> childIds = new TreeSet<>(expected.get(child));
      childIds.remove(taken);
      childIds.add(now);
      expected.put(child, childIds);
      assertEquals(expected, after.byPid(), "only the checkpoint thread whose tid was held has another\n"
          + run.output());
      laterCycles(run, after);
    }
  }

  // ---- the cycles ------------------------------------------------------------------------------

  private static Run launch(LiveProcesses live) throws Exception {
    Run run = new Run(live, live.startCoordinator());
    run.name = "run0";
    run.process = live.start("run0", bin("dmtcp_launch"), "-j", "-p", run.port, "--ckptdir", live.work.toString(),
        corpus("family"));
    await(() -> running(run.port) && ProgressLog.read(live.out("run0")).progress().size() >= 3);
    return run;
  }

  /** Three more checkpoint, kill and restart cycles: every thread gets its id back each time. */
  private static void laterCycles(Run run, Ids ids) throws Exception {
    for (int cycle = 2; cycle <= 4; cycle++) {
      Checkpoint c = checkpointAndKill(run);
      Ids before = c.ids();
      assertEquals(ids.byPid(), before.byPid(), "the ids before checkpoint " + cycle);
      run.name = "run" + cycle;
      List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", run.port));
      cmd.addAll(run.live.images());
      run.process = run.live.start(run.name, cmd.toArray(String[]::new));
      Ids after = awaitRunning(run, c);
      assertEquals(before.byPid(), after.byPid(), "the ids of the program's threads after restart " + cycle + "\n"
          + run.output());
      assertFalse(run.output().contains("cannot give"), "restart " + cycle + ":\n" + run.output());
    }
    assertEquals(0, run.live.command(run.port, "--kill"));
    assertTrue(run.process.waitFor(30, TimeUnit.SECONDS), "the last restart did not end on --kill");
  }

  /**
   * The ids of the running program, checked against what its images name after a checkpoint;
   * then the kill. The output printed before the kill must be intact (members die one by one and
   * may rightly complain then).
   */
  private static Checkpoint checkpointAndKill(Run run) throws Exception {
    Ids live = ids(run.process);
    assertEquals(PROCESSES, live.byPid().size(), "the program's processes: " + live.byPid());
    long low = ProgressLog.read(run.live.out(run.name)).last();
    assertEquals(0, run.live.command(run.port, "--bcheckpoint"));
    long high = ProgressLog.read(run.live.out(run.name)).last();
    assertEquals(live.byPid(), imageIds(run.live.images()).byPid(),
        "the images name every thread's tid, the checkpoint thread's included");
    long printed = Files.size(run.live.out(run.name));
    assertEquals(0, run.live.command(run.port, "--kill"));
    assertTrue(run.process.waitFor(30, TimeUnit.SECONDS), "the program did not end on --kill");
    await(() -> peers(run.port) == 0);
    ProgressLog log = ProgressLog.readPrefix(run.live.out(run.name), printed);
    assertTrue(log.errors().isEmpty(), "before the kill: " + log.errors());
    assertNull(log.checkConsecutive(), "before the kill");
    return new Checkpoint(live, low, high);
  }

  /** dmtcp_restart of the images, stopped in every process before it replaces its memory. */
  private static void restartPaused(Run run, String name) throws Exception {
    run.name = name;
    List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", run.port));
    cmd.addAll(run.live.images());
    run.process = run.live.start(name, Map.of("DMTCP_RESTART_PAUSE", "1"), cmd.toArray(String[]::new));
    await(() -> run.output().split(PAUSED, -1).length - 1 == PROCESSES || !run.process.isAlive());
    assertTrue(run.process.isAlive(), run.output());
  }

  /** SIGCONT to every process of the restart (the paused ones; the others ignore it). */
  private static void resume(Run run) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("kill", "-CONT"));
    run.process.descendants().forEach(h -> cmd.add(Long.toString(h.pid())));
    assertEquals(0, new ProcessBuilder(cmd).inheritIO().start().waitFor());
  }

  /** Waits until the restarted program runs and prints on; its ids then. */
  private static Ids awaitRunning(Run run, Checkpoint c) throws Exception {
    await(() -> (running(run.port) && ProgressLog.read(run.live.out(run.name)).progress().size() >= 3)
        || !ProgressLog.read(run.live.out(run.name)).errors().isEmpty() || !run.process.isAlive());
    assertNull(ProgressLog.read(run.live.out(run.name)).checkContinues(c.low(), c.high()), run.output());
    assertTrue(running(run.port), "not all of the restarted processes run:\n" + run.output());
    return ids(run.process);
  }

  /** sh -c script run inside the restart's pid namespace (and its user namespace, if any). */
  private static Process inNamespace(Run run, String name, String script) throws IOException {
    ProcessHandle init = run.process.children().findFirst().orElseThrow();
    List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(init.pid()), "-p"));
    if (!Files.readSymbolicLink(Path.of("/proc/self/ns/user"))
        .equals(Files.readSymbolicLink(Path.of("/proc/" + init.pid() + "/ns/user")))) {
      cmd.addAll(List.of("-U", "--preserve-credentials"));
    }
    cmd.addAll(List.of("--", "sh", "-c", script));
    return run.live.start(name, cmd.toArray(String[]::new));
  }

  /**
   * Ends a script started by inNamespace: its sleeps are killed, so that the shell ends and
   * nsenter reaps it (a task of the namespace nobody reaps would keep the namespace from ending).
   */
  private static void stop(Process p) throws InterruptedException {
    p.descendants().filter(h -> h.parent().map(q -> q.pid() != p.pid()).orElse(true))
        .forEach(ProcessHandle::destroyForcibly);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the script in the namespace did not end");
  }

  private static List<Long> held(Path out) {
    List<Long> ids = new ArrayList<>();
    Matcher m = Pattern.compile("held (\\d+)").matcher(CaseRun.read(out));
    while (m.find()) {
      ids.add(Long.parseLong(m.group(1)));
    }
    return ids;
  }

  // ---- ids -------------------------------------------------------------------------------------

  /** The ids, as the program sees them (the last NSpid), of p and its descendants running family. */
  private static Ids ids(Process p) throws IOException {
    Map<Long, TreeSet<Long>> byPid = new TreeMap<>();
    List<ProcessHandle> all = new ArrayList<>(List.of(p.toHandle()));
    all.addAll(p.descendants().toList());
    for (ProcessHandle h : all) {
      Path proc = Path.of("/proc/" + h.pid());
      try {
        if (!Files.readString(proc.resolve("comm")).strip().equals("family")) {
          continue;
        }
        TreeSet<Long> tids = new TreeSet<>();
        try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
          for (Path task : tasks.toList()) {
            tids.add(nsId(task.resolve("status")));
          }
        }
        byPid.put(nsId(proc.resolve("status")), tids);
      } catch (IOException gone) {
        // not a process of the program any more
      }
    }
    return new Ids(byPid);
  }

  private static long nsId(Path status) throws IOException {
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("NSpid:")) {
        String[] f = line.substring(6).strip().split("\\s+");
        return Long.parseLong(f[f.length - 1]);
      }
    }
    throw new IOException("no NSpid in " + status);
  }

  /** The pid and tids each image names (readdmtcp). */
  private static Ids imageIds(List<String> images) throws Exception {
    Map<Long, TreeSet<Long>> byPid = new TreeMap<>();
    for (String image : images) {
      Process p = new ProcessBuilder(bin("readdmtcp"), image).redirectErrorStream(true).start();
      String text = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, text);
      Matcher m = TIDS.matcher(text);
      assertTrue(m.find(), "readdmtcp names no pid and tids:\n" + text);
      TreeSet<Long> tids = new TreeSet<>();
      for (String word : m.group(2).replaceAll("\\([^)]*\\)", "").strip().split("\\s+")) {
        tids.add(Long.parseLong(word));
      }
      byPid.put(Long.parseLong(m.group(1)), tids);
    }
    return new Ids(byPid);
  }

  private static boolean running(String port) {
    Frame s = status(port);
    return s != null && "yes".equals(s.get("running")) && Integer.parseInt(s.get("num_peers", "-1")) == PROCESSES;
  }
}
