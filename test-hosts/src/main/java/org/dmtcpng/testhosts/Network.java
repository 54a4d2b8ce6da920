package org.dmtcpng.testhosts;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The private network of one fixture, made with iproute2: a bridge in the root namespace with
 * the address 10.77.N.1/24, and per host a network namespace joined to it by a veth pair, with
 * the address 10.77.N.(11+i) and a default route through the bridge. Every name starts with
 * "dmh&lt;fixture id&gt;", so what a killed JVM left behind can be found and removed.
 */
final class Network {
  static final String PREFIX = "dmh";
  private static final Pattern SUBNET = Pattern.compile("\\b10\\.77\\.(\\d+)\\.");

  private final String id;
  private final int subnet;
  private final List<String> namespaces = new ArrayList<>();

  private Network(String id, int subnet) {
    this.id = id;
    this.subnet = subnet;
  }

  /** Chooses a 10.77.N.0/24 that no interface or route of this machine uses. */
  static Network choose(String id) throws IOException {
    List<Integer> used = new ArrayList<>();
    Matcher m = SUBNET.matcher(Shell.run("ip", "-4", "-o", "addr", "show") + Shell.run("ip", "-4", "route", "show"));
    while (m.find()) {
      used.add(Integer.parseInt(m.group(1)));
    }
    int n = 1;
    while (used.contains(n)) {
      n++;
    }
    if (n > 254) {
      throw new IOException("no free subnet 10.77.N.0/24 left for test hosts");
    }
    return new Network(id, n);
  }

  /** The bridge, with the root namespace's address on it. */
  void createBridge() throws IOException {
    Shell.run("ip", "link", "add", bridge(), "type", "bridge");
    Shell.run("ip", "addr", "add", rootAddress() + "/24", "dev", bridge());
    Shell.run("ip", "link", "set", bridge(), "up");
  }

  String bridge() {
    return PREFIX + id + "br";
  }

  String rootAddress() {
    return "10.77." + subnet + ".1";
  }

  String address(int index) {
    return "10.77." + subnet + "." + (11 + index);
  }

  /** Adds host number index: its namespace, veth pair and address. Returns the namespace name. */
  String addHost(int index) throws IOException {
    String ns = PREFIX + id + "-" + index;
    String outside = PREFIX + id + "v" + index;
    String inside = PREFIX + id + "p" + index;
    Shell.run("ip", "netns", "add", ns);
    namespaces.add(ns);
    Shell.run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
    Shell.run("ip", "link", "set", inside, "netns", ns);
    Shell.run("ip", "link", "set", outside, "master", bridge(), "up");
    Shell.run("ip", "-n", ns, "addr", "add", address(index) + "/24", "dev", inside);
    Shell.run("ip", "-n", ns, "link", "set", inside, "up");
    Shell.run("ip", "-n", ns, "link", "set", "lo", "up");
    Shell.run("ip", "-n", ns, "route", "add", "default", "via", rootAddress());
    return ns;
  }

  /** Kills every process in the namespaces, then removes them (their veths go with them) and the bridge. */
  void destroy() {
    for (String ns : namespaces) {
      killAllIn(ns);
      Shell.quietly("ip", "netns", "del", ns);
    }
    namespaces.clear();
    Shell.quietly("ip", "link", "del", bridge());
  }

  /**
   * SIGKILL to every process whose network namespace is ns, until there is none, then until they
   * are reaped too (their new parent may take its time); at most 10 s each.
   */
  static void killAllIn(String ns) {
    List<ProcessHandle> killed = new ArrayList<>();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      String pids = Shell.quietly("ip", "netns", "pids", ns).strip();
      if (pids.isEmpty()) {
        break;
      }
      for (String pid : pids.split("\\s+")) {
        ProcessHandle.of(Long.parseLong(pid)).ifPresent(p -> {
          p.destroyForcibly();
          killed.add(p);
        });
      }
      pause();
    }
    deadline = System.nanoTime() + 10_000_000_000L;
    while (killed.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Removes the namespaces, veths and bridge of a fixture whose JVM is gone. */
  static void destroyLeftovers(String id) {
    for (String line : Shell.quietly("ip", "netns", "list").split("\n")) {
      String ns = line.split("\\s+")[0];
      if (ns.startsWith(PREFIX + id + "-")) {
        killAllIn(ns);
        Shell.quietly("ip", "netns", "del", ns);
      }
    }
    for (String line : Shell.quietly("ip", "-o", "link", "show").split("\n")) {
      String[] f = line.split(":\\s+");
      if (f.length > 1 && f[1].startsWith(PREFIX + id)) {
        Shell.quietly("ip", "link", "del", f[1].replaceAll("@.*", ""));
      }
    }
  }
}
