package org.dmtcpng.testhosts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * What the fixture needs from the machine: root (namespaces, veths, /etc/hosts) and the tools
 * of iproute2, util-linux and OpenSSH (scripts/install-deps.sh installs them). Where one is
 * missing, the test is skipped with a one-line reason instead of failing.
 */
final class Requirements {
  private static final List<String> DIRS = List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin");
  private static final Map<String, String> TOOLS = Map.of(
      "ip", "iproute2", "sshd", "openssh-server", "ssh", "openssh-client", "ssh-keygen", "openssh-client",
      "unshare", "util-linux", "nsenter", "util-linux");

  private Requirements() {}

  static void assume() {
    Assumptions.assumeTrue(isRoot(), "test hosts need root (network namespaces, veth pairs, /etc/hosts)");
    TOOLS.forEach((tool, pkg) -> Assumptions.assumeTrue(find(tool) != null,
        "test hosts need " + tool + " (Debian package " + pkg + ")"));
  }

  /** The absolute path of a system tool, or null. */
  static String find(String tool) {
    for (String d : DIRS) {
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  private static boolean isRoot() {
    try {
      return Shell.run("id", "-u").strip().equals("0");
    } catch (IOException e) {
      return false;
    }
  }
}
