package org.dmtcpng.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Corrupts a real image in many ways and checks that dmtcp_restart refuses each corrupted
 * copy with one line naming the file, exit code 99, before anything runs: no process of the
 * image ever joins the coordinator. The untouched image still restarts (the control case).
 */
class ImageCorruptionTest {
  private static Computation computation;
  private static byte[] pristine;
  private static Path original;

  @BeforeAll
  static void checkpointACounter() throws Exception {
    computation = Computation.start("corrupt");
    computation.launch("counter", Bin.corpus("counter").toString());
    computation.awaitRunning(1, Duration.ofSeconds(60));
    Bin.Result ckpt = computation.command("--bcheckpoint");
    assertEquals(0, ckpt.exitCode(), "blocking checkpoint failed: " + ckpt);
    computation.command("--kill");
    computation.killAll();
    List<Path> images = computation.images();
    assertEquals(1, images.size(), "images: " + images);
    original = images.get(0);
    pristine = Files.readAllBytes(original);
  }

  @AfterAll
  static void stop() throws Exception {
    if (computation != null) {
      computation.close();
    }
  }

  @Test
  void theUntouchedImageRestarts() throws Exception {
    Path copy = computation.dir.resolve("control.dmtcp");
    Files.write(copy, pristine);
    computation.restart("control", List.of(copy));
    computation.awaitRunning(1, Duration.ofSeconds(60));
    computation.command("--kill");
    computation.killAll();
    Computation.awaitTrue(Duration.ofSeconds(30), "the control process to leave",
        () -> computation.status().contains("NUM_PEERS=0"));
  }

  @Test
  void everyCorruptionIsRefusedBeforeAnythingIsMapped() throws Exception {
    Random random = Campaign.random("image-corruption");
    int rounds = Campaign.rounds(24, 400);
    for (int round = 0; round < rounds; round++) {
      Mutant mutant = corrupt(pristine, random, round);
      if (Arrays.equals(mutant.bytes(), pristine)) {
        continue; // overwriting a block with the bytes it already held changes nothing
      }
      Path file = computation.dir.resolve("mutant-" + round + ".dmtcp");
      Files.write(file, mutant.bytes());
      Bin.Result r = Bin.run(60, computation.dir, Bin.path("dmtcp_restart"), "-j", "-p",
          Integer.toString(computation.port), file.toString());
      String context = "round " + round + " (" + mutant.what() + "): " + r;
      assertEquals(99, r.exitCode(), context);
      assertEquals(1, r.stderrLines().size(), "one line expected, " + context);
      assertTrue(r.stderrLines().get(0).contains(file.getFileName().toString()),
          "the line must name the file, " + context);
      assertFalse(computation.status().contains("NUM_PEERS=1"), "a corrupt image joined, " + context);
      Files.delete(file);
    }
  }

  @Test
  void aRefusedRestartDoesNotLeaveTheCoordinatorItStarted() throws Exception {
    byte[] m = pristine.clone();
    m[m.length / 2] ^= 0x5a; // in a region's data: found while staging, after the coordinator started
    Path file = computation.dir.resolve("refused.dmtcp");
    Files.write(file, m);
    Path portFile = computation.dir.resolve("refused.port");
    Bin.Result r = Bin.run(60, computation.dir, Bin.path("dmtcp_restart"), "--new-coordinator", "-p", "0",
        "--port-file", portFile.toString(), file.toString());
    assertEquals(99, r.exitCode(), r.toString());
    int port = Integer.parseInt(Files.readString(portFile).strip());
    Computation.awaitTrue(Duration.ofSeconds(30), "the coordinator on port " + port + " to quit", () -> {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return false;
      } catch (java.io.IOException e) {
        return true;
      }
    });
  }

  /** A corrupted copy of the image and what was done to it. */
  private record Mutant(byte[] bytes, String what) {}

  /** Applies one corruption chosen by the round and the random source. */
  private static Mutant corrupt(byte[] image, Random random, int round) {
    int headerSize = 4096;
    byte[] m = image.clone();
    switch (round % 6) {
      case 0 -> {
        int at = random.nextInt(headerSize);
        m[at] ^= (byte) (1 << random.nextInt(8));
        return new Mutant(m, "bit flip in header at " + at);
      }
      case 1 -> {
        int at = headerSize + random.nextInt(Math.min(8192, m.length - headerSize));
        m[at] ^= (byte) (1 + random.nextInt(255));
        return new Mutant(m, "byte flip in tables at " + at);
      }
      case 2 -> {
        int at = m.length / 2 + random.nextInt(m.length / 2);
        m[at] ^= (byte) (1 + random.nextInt(255));
        return new Mutant(m, "byte flip in data at " + at);
      }
      case 3 -> {
        int len = random.nextInt(m.length - 1);
        return new Mutant(Arrays.copyOf(m, len), "truncated to " + len);
      }
      case 4 -> {
        int block = random.nextInt(m.length / 4096);
        Arrays.fill(m, block * 4096, block * 4096 + 4096, (byte) 0x5a);
        return new Mutant(m, "4 KiB block " + block + " overwritten");
      }
      default -> {
        m[0] = 'X';
        return new Mutant(m, "wrong magic");
      }
    }
  }
}
