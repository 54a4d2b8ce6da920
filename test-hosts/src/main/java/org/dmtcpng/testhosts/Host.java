package org.dmtcpng.testhosts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One test host: a network namespace with its own address, a UTS namespace with its own host
 * name, and an sshd listening on port 22 of that address. The namespaces are those of its sshd,
 * so everything started through ssh runs "on" the host.
 */
public final class Host {
  private final int index;
  private final String name;
  private final String address;
  private final String namespace;
  private volatile long sshdPid = -1;

  Host(int index, String name, String address, String namespace) {
    this.index = index;
    this.name = name;
    this.address = address;
    this.namespace = namespace;
  }

  int index() {
    return index;
  }

  /** The host name: what gethostname() says there, and a name that resolves everywhere. */
  public String name() {
    return name;
  }

  /** Its IPv4 address on the fixture's network. */
  public String address() {
    return address;
  }

  /** The network namespace (ip netns) of the host. */
  public String namespace() {
    return namespace;
  }

  public long sshdPid() {
    return sshdPid;
  }

  void sshdPid(long pid) {
    sshdPid = pid;
  }

  /**
   * The command line that runs cmd directly on this host (its network and UTS namespaces), as
   * the caller's user, without ssh: for ProcessBuilder.
   */
  public List<String> command(String... cmd) {
    List<String> argv = new ArrayList<>(List.of(Requirements.find("nsenter"),
        "--net=/run/netns/" + namespace, "--uts=/proc/" + sshdPid + "/ns/uts", "--"));
    argv.addAll(List.of(cmd));
    return argv;
  }

  /** Whether process pid runs on this host: it has the host's network and UTS namespaces. */
  public boolean runs(long pid) {
    try {
      return sameNamespace(pid, "net") && sameNamespace(pid, "uts");
    } catch (IOException e) {
      return false; // the process is gone
    }
  }

  private boolean sameNamespace(long pid, String kind) throws IOException {
    return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", kind))
        .equals(Files.readSymbolicLink(Path.of("/proc", Long.toString(sshdPid), "ns", kind)));
  }

  /** Every process running on this host now (pids as this machine's root namespace sees them). */
  public List<Long> processes() {
    List<Long> pids = new ArrayList<>();
    for (String p : Shell.quietly("ip", "netns", "pids", namespace).strip().split("\\s+")) {
      if (!p.isEmpty()) {
        pids.add(Long.parseLong(p));
      }
    }
    return pids;
  }

  @Override
  public String toString() {
    return name + " (" + address + ")";
  }
}
