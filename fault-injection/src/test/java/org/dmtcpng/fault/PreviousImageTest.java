package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where an image's generations live on disk: the previous one stays as .old and the next
 * checkpoint is written over it in place (DMTCP_CKPT_KEEP_PREVIOUS, the default), and by default
 * the new image is fsync'd once the program runs again, after its rename (DMTCP_CKPT_FSYNC).
 */
class PreviousImageTest {
  private static Path old(Path image) {
    return image.resolveSibling(image.getFileName() + ".old");
  }

  private static Object inode(Path p) throws Exception {
    return Files.getAttribute(p, "unix:ino");
  }

  private static void checkpoint(Computation c) throws Exception {
    Bin.Result r = c.command("--bcheckpoint");
    assertEquals(0, r.exitCode(), "checkpoint: " + r.stdout() + r.stderr());
  }

  @Test
  void thePreviousGenerationIsKeptWrittenOverInPlaceAndRestartable() throws Exception {
    try (Computation c = Computation.start("previous")) {
      c.launch("a", Bin.corpus("counter").toString());
      c.awaitRunning(1, Duration.ofSeconds(60));
      checkpoint(c);
      Path image = c.imagesOfRestartScript().get(0);
      assertFalse(Files.exists(old(image)), "no previous generation after the first checkpoint");
      checkpoint(c);
      assertEquals(2, Images.generation(image));
      assertEquals(1, Images.generation(old(image)));
      Object spare = inode(old(image));
      long atGeneration2 = c.lastProgress("a");
      Computation.awaitTrue(Duration.ofSeconds(30), "the counter to go on",
          () -> c.lastProgress("a") >= atGeneration2 + 5);
      checkpoint(c);
      assertEquals(3, Images.generation(image));
      assertEquals(2, Images.generation(old(image)));
      assertEquals(spare, inode(image), "generation 3 was written over generation 1's file");
      assertEquals(0, Images.verify(old(image)).exitCode());

      c.command("--kill");
      Computation.awaitTrue(Duration.ofSeconds(30), "the computation to be gone",
          () -> c.status().contains("NUM_PEERS=0"));
      c.restart("restarted", List.of(old(image)));
      c.awaitRunning(1, Duration.ofSeconds(60));
      Computation.awaitTrue(Duration.ofSeconds(30), "the restarted counter to count",
          () -> c.output("restarted").contains("PROGRESS"));
      long first = Long.parseLong(c.output("restarted").lines().filter(l -> l.startsWith("PROGRESS"))
          .findFirst().orElseThrow().split("\\s+")[1]);
      assertTrue(first <= atGeneration2 + 1, "generation 2 goes on from where it was: it counted "
          + first + ", and had counted " + atGeneration2 + " at its checkpoint");
    }
  }

  @Test
  void oneImageWhenThePreviousIsNotKept() throws Exception {
    try (Computation c = Computation.start("onlyone")) {
      c.launchWith(Map.of("DMTCP_CKPT_KEEP_PREVIOUS", "0"), "a", Bin.corpus("counter").toString());
      c.awaitRunning(1, Duration.ofSeconds(60));
      checkpoint(c);
      checkpoint(c);
      Path image = c.imagesOfRestartScript().get(0);
      assertEquals(2, Images.generation(image));
      Computation.awaitTrue(Duration.ofSeconds(30), "the previous image to be deleted once the new one is on disk",
          () -> !Files.exists(old(image)));
    }
  }

  @Test
  void byDefaultTheImageIsSyncedAfterItsRename() throws Exception {
    List<String> calls = syscallsOfASecondCheckpoint(Map.of());
    int rename = indexOf(calls, "renameat2("), sync = indexOf(calls, "fsync(");
    assertTrue(rename >= 0 && sync > rename, "rename, then fsync: " + calls);
  }

  @Test
  void withFsyncBeforeTheImageIsSyncedBeforeItsRename() throws Exception {
    List<String> calls = syscallsOfASecondCheckpoint(Map.of("DMTCP_CKPT_FSYNC", "1"));
    int rename = indexOf(calls, "renameat2("), sync = indexOf(calls, "fsync(");
    assertTrue(sync >= 0 && rename > sync, "fsync, then rename: " + calls);
  }

  /** Whether every thread of the process has a tracer (TracerPid in its status). */
  private static boolean tracedThreads(long pid) {
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.map(t -> Computation.readQuietly(t.resolve("status")))
          .allMatch(st -> st.lines().anyMatch(l -> l.startsWith("TracerPid:") && !l.endsWith("\t0")));
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static int indexOf(List<String> calls, String call) {
    for (int i = 0; i < calls.size(); i++) {
      if (calls.get(i).contains(call)) {
        return i;
      }
    }
    return -1;
  }

  /** The fsync and renameat2 calls of the process during its second checkpoint, by strace. */
  private static List<String> syscallsOfASecondCheckpoint(Map<String, String> env) throws Exception {
    assumeTrue(java.util.stream.Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, "strace"))),
        "needs strace (scripts/install-deps.sh installs it)");
    try (Computation c = Computation.start("syncorder")) {
      Process launched = c.launchWith(env, "a", Bin.corpus("counter").toString());
      c.awaitRunning(1, Duration.ofSeconds(60));
      checkpoint(c);
      Path trace = c.dir.resolve("strace.txt");
      // dmtcp_launch execs the program: its pid is the program's
      Process strace = new ProcessBuilder("strace", "-f", "-qq", "-e", "trace=fsync,renameat2",
          "-o", trace.toString(), "-p", Long.toString(launched.pid()))
          .redirectErrorStream(true).redirectOutput(c.dir.resolve("strace.out").toFile()).start();
      try {
        Computation.awaitTrue(Duration.ofSeconds(10), "strace to attach to every thread",
            () -> tracedThreads(launched.pid()));
        checkpoint(c);
        Computation.awaitTrue(Duration.ofSeconds(30), "the image's fsync",
            () -> Computation.readQuietly(trace).contains("fsync("));
      } finally {
        strace.destroy();
        strace.waitFor();
      }
      return Computation.readQuietly(trace).lines().toList();
    }
  }
}
