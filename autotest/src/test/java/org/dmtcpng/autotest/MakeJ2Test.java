package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.peers;
import static org.dmtcpng.autotest.LiveProcesses.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmtcpng.coordinator.protocol.Frame;
import org.junit.jupiter.api.Test;

/**
 * A build with make -j2 checkpointed while it compiles, killed and restarted three times, must
 * finish and build the right program. It needs what make, gcc, cc1 and as do to each other:
 * children that had ended and were not yet reaped at the checkpoint (a gcc whose cc1 exited while
 * it was being stopped), the jobserver pipe, the compiler's temporary files, processes that end
 * right after the restart, and children that join while the checkpoint stops their parent.
 */
class MakeJ2Test {
  private static final int UNITS = 30;
  private static final int FUNCTIONS = 100;

  @Test
  void makeJ2FinishesItsBuildThroughCheckpointKillRestartCycles() throws Exception {
    assumeTrue(onPath("make") && onPath("gcc"), "needs make and gcc");
    try (LiveProcesses live = new LiveProcesses("make-j2")) {
      Path project = live.work.resolve("proj");
      long expected = writeProject(project);
      String port = live.startCoordinator();
      Process run = live.start("run0", bin("dmtcp_launch"), "-j", "-p", port, "env",
          "DMTCP_CHECKPOINT_DIR=" + live.work, "make", "-C", project.toString(), "-j2");
      Random random = new Random();
      for (int cycle = 1; cycle <= 3; cycle++) {
        await(() -> running(port));
        Thread.sleep(400 + random.nextInt(600));
        assertFalse(Files.exists(project.resolve("prog")), "the build ended before checkpoint " + cycle);
        // -kc: no member runs again after the checkpoint (docs/protocol.md 3.4)
        assertEquals(0, live.command(port, "-kc"), "checkpoint " + cycle + ": "
            + CaseRun.read(live.work.resolve("coordinator.out")));
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the processes did not die after checkpoint " + cycle);
        await(() -> peers(port) == 0);
        run = live.start("run" + cycle, restartCommand(live, port, cycle));
      }
      assertTrue(run.waitFor(300, TimeUnit.SECONDS), "the restarted build did not finish");
      assertEquals(0, run.exitValue(), "make failed after the last restart: " + CaseRun.read(live.out("run3")));
      Process prog = new ProcessBuilder(project.resolve("prog").toString()).redirectErrorStream(true).start();
      assertTrue(prog.waitFor(30, TimeUnit.SECONDS));
      assertEquals("sum " + expected, new String(prog.getInputStream().readAllBytes()).strip());
      assertEquals(0, live.command(port, "-q"));
    }
  }

  /** dmtcp_restart with the images the restart script names, or the script itself. */
  private static String[] restartCommand(LiveProcesses live, String port, int cycle) throws IOException {
    Path script = live.work.resolve("dmtcp_restart_script.sh");
    if (cycle % 2 == 0) {
      return new String[] {script.toString()};
    }
    List<String> cmd = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
    Matcher m = Pattern.compile("/\\S+\\.dmtcp").matcher(CaseRun.read(script));
    while (m.find()) {
      cmd.add(m.group());
    }
    return cmd.toArray(String[]::new);
  }

  /**
   * UNITS files of FUNCTIONS small functions each (about a fifth of a second of cc1 apiece) and a
   * main that prints the sum of what they return; returns that sum.
   */
  private static long writeProject(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("src"));
    long total = 0;
    StringBuilder main = new StringBuilder("#include <stdio.h>\n");
    for (int i = 1; i <= UNITS; i++) {
      StringBuilder unit = new StringBuilder();
      long sum = 0;
      for (int k = 1; k <= FUNCTIONS; k++) {
        unit.append("static long g").append(k).append("(long x) { long s = 0; for (long j = 0; j < x; j++) s += (j * ")
            .append(k).append(") ^ (x >> (").append(k).append(" % 7)); return s + ").append(i).append("; }\n");
        long s = 0;
        for (long j = 0; j < k; j++) {
          s += (j * k) ^ ((long) k >> (k % 7));
        }
        sum += s + i;
      }
      unit.append("long unit").append(i).append("(void) { long s = 0;\n");
      for (int k = 1; k <= FUNCTIONS; k++) {
        unit.append("  s += g").append(k).append("(").append(k).append(");\n");
      }
      unit.append("  return s; }\n");
      Files.writeString(dir.resolve("src/u" + i + ".c"), unit);
      main.append("long unit").append(i).append("(void);\n");
      total += sum;
    }
    main.append("int main(void) { long s = 0;\n");
    for (int i = 1; i <= UNITS; i++) {
      main.append("  s += unit").append(i).append("();\n");
    }
    main.append("  printf(\"sum %ld\\n\", s); return 0; }\n");
    Files.writeString(dir.resolve("src/main.c"), main);
    Files.writeString(dir.resolve("Makefile"), """
        SRCS = $(wildcard src/*.c)
        OBJS = $(SRCS:src/%.c=obj/%.o)
        prog: $(OBJS)
        \tgcc -o $@ $(OBJS)
        obj/%.o: src/%.c | obj
        \tgcc -O2 -Wall -c -o $@ $<
        obj:
        \tmkdir -p obj
        """);
    return total;
  }

  private static boolean running(String port) {
    Frame s = status(port);
    return s != null && "yes".equals(s.get("running"));
  }


  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
