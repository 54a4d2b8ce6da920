package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting for computations that span test hosts: ssh is slow on a busy machine. */
final class HostWaits {
  static final long SLOW = TimeUnit.SECONDS.toNanos(90);

  private HostWaits() {}

  /** A condition whose check may throw (a host being torn down): thrown means not yet. */
  interface Check {
    boolean holds() throws Exception;
  }

  static boolean quietly(Check c) {
    try {
      return c.holds();
    } catch (Exception e) {
      return false;
    }
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + SLOW;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(200);
    }
  }

  /** The command name of process pid, or "" if it is gone. */
  static String comm(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
    } catch (IOException e) {
      return "";
    }
  }
}
