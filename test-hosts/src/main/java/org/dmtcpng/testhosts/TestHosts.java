package org.dmtcpng.testhosts;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * N separate "hosts" on this machine for a test: each a network namespace on a private bridge
 * (10.77.N.0/24; the root namespace, where the coordinator runs, is 10.77.N.1 on it), a UTS
 * namespace with its own host name, and its own sshd. Host names resolve everywhere through
 * marked lines in /etc/hosts; ssh needs no prompt through the "ssh" in {@link #sshDirectory()},
 * to be put first on PATH. The hosts share this machine's filesystem, so /work/... paths are
 * valid on every host.
 *
 * <pre>
 * try (TestHosts hosts = TestHosts.start(2)) {       // skipped (assumption) where it cannot run
 *   Host a = hosts.host(0);                           // a.name() is e.g. "hostA-3f9c"
 *   ProcessBuilder pb = new ProcessBuilder("bash", "-c", "ssh " + a.name() + " hostname");
 *   hosts.putPath(pb.environment());
 * }                                                   // everything is gone again
 * </pre>
 *
 * close() kills every process on the hosts (sshd, whatever ran through ssh, restarted
 * processes), removes namespaces, veths, bridge, /etc/hosts lines and the directory; a JVM
 * shutdown hook does it for fixtures left open, and start() removes what a killed JVM left.
 */
public final class TestHosts implements AutoCloseable {
  private static final Pattern LEFTOVER = Pattern.compile(Pattern.quote(HostsFile.MARK) + "(\\w+) pid (\\d+)");
  private static final Set<TestHosts> OPEN = new LinkedHashSet<>();
  private static final Object SETUP = new Object();
  private static boolean hookInstalled;

  private final String id;
  private final Path dir;
  private final HostsFile hostsFile = new HostsFile(Path.of("/etc/hosts"));
  private final List<Host> hosts = new ArrayList<>();
  private final List<Process> sshds = new ArrayList<>();
  private Network network;
  private SshSetup ssh;
  private boolean closed;

  private TestHosts(String id, Path dir) {
    this.id = id;
    this.dir = dir;
  }

  /** Creates count hosts (at most 26: hostA..hostZ, each with the fixture's id as suffix). */
  public static TestHosts start(int count) throws IOException {
    Requirements.assume();
    if (count < 1 || count > 26) {
      throw new IllegalArgumentException("1 to 26 hosts, not " + count);
    }
    synchronized (SETUP) {
      try (RandomAccessFile f = new RandomAccessFile(lockFile(), "rw");
           FileChannel ch = f.getChannel();
           FileLock lock = ch.lock()) {
        removeLeftovers();
        String id = freshId();
        Path dir = Files.createTempDirectory("dmtcp-test-hosts-" + id + "-");
        TestHosts t = new TestHosts(id, dir);
        register(t);
        try {
          t.build(count);
        } catch (IOException | RuntimeException e) {
          t.close();
          throw e;
        }
        return t;
      }
    }
  }

  private void build(int count) throws IOException {
    // unprivileged users read the keys' directory too (their sshd session, their ssh)
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    network = Network.choose(id);
    // the marked lines first: a JVM killed from here on leaves something start() can find
    List<String> lines = new ArrayList<>();
    lines.add(network.rootAddress() + " " + rootName() + " " + HostsFile.mark(id));
    for (int i = 0; i < count; i++) {
      lines.add(network.address(i) + " " + hostName(i) + " " + HostsFile.mark(id));
    }
    hostsFile.add(lines);
    network.createBridge();
    ssh = new SshSetup(dir);
    for (int i = 0; i < count; i++) {
      hosts.add(new Host(i, hostName(i), network.address(i), network.addHost(i)));
    }
    List<Path> configs = new ArrayList<>();
    for (Host h : hosts) {
      configs.add(ssh.configureHost(h.index(), h.address()));
    }
    ssh.writeKnownHosts(hosts);
    for (Host h : hosts) {
      startSshd(h, configs.get(h.index()));
    }
    for (Host h : hosts) {
      awaitSshd(h);
    }
  }

  private String hostName(int index) {
    return "host" + (char) ('A' + index) + "-" + id;
  }

  /** Serializes set-up between JVMs (the choice of subnet, the edits of /etc/hosts). */
  private static String lockFile() {
    return Files.isDirectory(Path.of("/run/lock")) ? "/run/lock/dmtcp-test-hosts.lock" : "/tmp/dmtcp-test-hosts.lock";
  }

  private void startSshd(Host h, Path config) throws IOException {
    // its own UTS namespace and host name, then sshd in the foreground: every session inherits both
    Process p = new ProcessBuilder(Requirements.find("ip"), "netns", "exec", h.namespace(),
        Requirements.find("unshare"), "--uts", "/bin/sh", "-c", "hostname \"$1\" && exec \"$2\" -D -e -f \"$3\"",
        "sh", h.name(), Requirements.find("sshd"), config.toString())
        .redirectErrorStream(true).redirectOutput(ssh.log(h.index()).toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    sshds.add(p);
    Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory
  }

  private void awaitSshd(Host h) throws IOException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    Path pidFile = ssh.pidFile(h.index());
    while (true) {
      if (Files.exists(pidFile) && Files.readString(pidFile).strip().matches("\\d+") && listens(h.address())) {
        h.sshdPid(Long.parseLong(Files.readString(pidFile).strip()));
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("sshd of " + h + " did not come up: " + Files.readString(ssh.log(h.index())).strip());
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for sshd");
      }
    }
  }

  private static boolean listens(String address) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, 22), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public List<Host> hosts() {
    return List.copyOf(hosts);
  }

  public Host host(int index) {
    return hosts.get(index);
  }

  /** The root namespace's address on the hosts' network: where a coordinator here is reached from them. */
  public String rootAddress() {
    return network.rootAddress();
  }

  /** A name for rootAddress() that resolves everywhere. */
  public String rootName() {
    return "roothost-" + id;
  }

  /** The directory holding the "ssh" of root for these hosts: put it first on PATH. */
  public Path sshDirectory() throws IOException {
    return sshDirectory("root");
  }

  /** The same for another user (e.g. the unprivileged dmtcptest): its own copy of the key. */
  public Path sshDirectory(String user) throws IOException {
    return ssh.clientDirectory(user);
  }

  /** Puts sshDirectory() first on the PATH of env (a ProcessBuilder's environment). */
  public Map<String, String> putPath(Map<String, String> env) throws IOException {
    String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    env.put("PATH", sshDirectory() + ":" + path);
    return env;
  }

  /** The environment of this JVM with putPath applied. */
  public Map<String, String> environment() throws IOException {
    return putPath(new HashMap<>(System.getenv()));
  }

  /** The command line of `ssh host remote...` with this fixture's ssh. */
  public List<String> ssh(Host host, String... remote) throws IOException {
    List<String> argv = new ArrayList<>(List.of(sshDirectory().resolve("ssh").toString(), host.name()));
    argv.addAll(List.of(remote));
    return argv;
  }

  /** The fixture's directory (keys, sshd configs and logs). */
  public Path directory() {
    return dir;
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (network != null) {
      network.destroy(); // kills the sshds with everything else on the hosts
    }
    for (Process p : sshds) {
      p.destroyForcibly();
      try {
        p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS); // reaped, not a zombie
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    hostsFile.remove(id);
    deleteTree(dir);
    synchronized (OPEN) {
      OPEN.remove(this);
    }
    String left = Shell.quietly("ip", "netns", "list") + Shell.quietly("ip", "-o", "link", "show");
    if (left.contains(Network.PREFIX + id)) {
      throw new IOException("test hosts " + id + ": not everything could be removed:\n" + left);
    }
  }

  private static void register(TestHosts t) {
    synchronized (OPEN) {
      OPEN.add(t);
      if (!hookInstalled) {
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(TestHosts::closeAll, "test-hosts-cleanup"));
      }
    }
  }

  private static void closeAll() {
    List<TestHosts> open;
    synchronized (OPEN) {
      open = new ArrayList<>(OPEN);
    }
    for (TestHosts t : open) {
      try {
        t.close();
      } catch (IOException | RuntimeException e) {
        System.err.println("test hosts: " + e.getMessage());
      }
    }
  }

  /** What fixtures of JVMs that are gone (killed, crashed) left behind. */
  private static void removeLeftovers() throws IOException {
    HostsFile file = new HostsFile(Path.of("/etc/hosts"));
    Set<String> dead = new LinkedHashSet<>();
    for (String line : file.lines()) {
      Matcher m = LEFTOVER.matcher(line);
      if (m.find() && !ProcessHandle.of(Long.parseLong(m.group(2))).map(ProcessHandle::isAlive).orElse(false)) {
        dead.add(m.group(1));
      }
    }
    for (String id : dead) {
      Network.destroyLeftovers(id);
      file.remove(id);
      try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
        s.filter(p -> p.getFileName().toString().startsWith("dmtcp-test-hosts-" + id + "-"))
            .forEach(TestHosts::deleteTree);
      }
    }
  }

  private static String freshId() {
    SecureRandom r = new SecureRandom();
    String used = Shell.quietly("ip", "netns", "list") + Shell.quietly("ip", "-o", "link", "show");
    while (true) {
      String id = String.format("%04x", r.nextInt(0x10000));
      if (!used.contains(Network.PREFIX + id)) {
        return id;
      }
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // gone already
    }
  }
}
