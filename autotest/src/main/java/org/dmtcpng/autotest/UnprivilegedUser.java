package org.dmtcpng.autotest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** --as-user NAME: creates the user if missing (as root) and checks it can reach the build. */
final class UnprivilegedUser {
  private UnprivilegedUser() {}

  /** Null when the user can run the cases; otherwise why every case is skipped. */
  static String prepare(String name, Path root) throws IOException, InterruptedException {
    if (run("id", "-u", name) != 0) {
      if (!"root".equals(System.getProperty("user.name"))) {
        return "user " + name + " does not exist and only root can create it";
      }
      if (run("useradd", "--create-home", "--shell", "/bin/bash", name) != 0) {
        return "cannot create user " + name;
      }
    }
    if (run("runuser", "-u", name, "--", "test", "-x", root.resolve("bin/dmtcp_launch").toString()) != 0
        || run("runuser", "-u", name, "--", "test", "-r", root.resolve("lib/dmtcp/libdmtcp.so").toString()) != 0) {
      return "user " + name + " cannot reach " + root + " (a parent folder is not readable to others)";
    }
    return null;
  }

  private static int run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }
}
