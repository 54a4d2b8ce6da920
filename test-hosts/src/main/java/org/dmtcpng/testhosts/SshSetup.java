package org.dmtcpng.testhosts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Keys and configuration of the test hosts' sshds and of their clients, all in the fixture's
 * directory: a host key per host, one client key authorized for every user (root, and the
 * unprivileged test user), a known_hosts naming every host, and per client user an ssh_config
 * and a directory holding an "ssh" that uses it, to put first on PATH: BatchMode, no prompts,
 * nothing read from ~/.ssh or /etc/ssh.
 */
final class SshSetup {
  private final Path dir;
  private final String ssh = Requirements.find("ssh");
  private final String keygen = Requirements.find("ssh-keygen");

  SshSetup(Path dir) throws IOException {
    this.dir = dir;
    generate(dir.resolve("client_key"));
    Files.copy(dir.resolve("client_key.pub"), dir.resolve("authorized_keys"));
    // sshd reads authorized_keys as the user who logs in
    readableByAll(dir.resolve("authorized_keys"));
  }

  /** Writes host index's key and sshd_config; returns the config's path. */
  Path configureHost(int index, String address) throws IOException {
    Path key = dir.resolve("host_key_" + index);
    generate(key);
    Path config = dir.resolve("sshd_config_" + index);
    Files.writeString(config, String.join("\n",
        "ListenAddress " + address + ":22",
        "HostKey " + key,
        "PidFile " + pidFile(index),
        "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        // the keys live under /tmp, which is world-writable: StrictModes would refuse them
        "StrictModes no",
        // PAM: without it sshd refuses accounts whose password is locked ("!"), as test users' are
        "UsePAM yes",
        "UseDNS no",
        "PrintMotd no",
        "X11Forwarding no",
        // bash sources ~/.bashrc for a command from sshd only as a top-level shell (SHLVL < 2):
        // the test hosts' sessions must not depend on (or be slowed down by) the machine's dotfiles
        "SetEnv SHLVL=1",
        "MaxStartups 64:30:128",
        "MaxSessions 64",
        "LogLevel INFO",
        ""));
    return config;
  }

  Path pidFile(int index) {
    return dir.resolve("sshd_" + index + ".pid");
  }

  Path log(int index) {
    return dir.resolve("sshd_" + index + ".log");
  }

  /** known_hosts for the hosts, each by name and address. */
  void writeKnownHosts(List<Host> hosts) throws IOException {
    List<String> lines = new ArrayList<>();
    for (Host h : hosts) {
      String pub = Files.readString(dir.resolve("host_key_" + h.index() + ".pub")).strip();
      String[] f = pub.split("\\s+");
      lines.add(h.name() + "," + h.address() + " " + f[0] + " " + f[1]);
    }
    Files.write(dir.resolve("known_hosts"), lines);
    readableByAll(dir.resolve("known_hosts"));
  }

  /** The directory with the "ssh" of user (created on first use); user's key copy is theirs, 0600. */
  Path clientDirectory(String user) throws IOException {
    Path client = dir.resolve("ssh-" + user);
    Path wrapper = client.resolve("ssh");
    if (Files.exists(wrapper)) {
      return client;
    }
    Files.createDirectories(client);
    Files.setPosixFilePermissions(client, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path key = client.resolve("id_ed25519");
    Files.copy(dir.resolve("client_key"), key);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    if (!user.equals("root")) {
      Shell.run("chown", user, key.toString());
    }
    Path config = client.resolve("ssh_config");
    Files.writeString(config, String.join("\n",
        "Host *",
        "  User " + user,
        "  IdentityFile " + key,
        "  IdentitiesOnly yes",
        "  UserKnownHostsFile " + dir.resolve("known_hosts"),
        "  GlobalKnownHostsFile /dev/null",
        "  StrictHostKeyChecking yes",
        "  BatchMode yes",
        "  ConnectTimeout 30",
        "  ControlMaster no",
        "  LogLevel ERROR",
        ""));
    readableByAll(config);
    // a script named ssh: from inside a computation, the runtime rewrites its command line
    Files.writeString(wrapper, "#!/bin/sh\nexec " + ssh + " -F '" + config + "' \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
    return client;
  }

  private void generate(Path key) throws IOException {
    Shell.run(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "dmtcp-test-hosts", "-f", key.toString());
  }

  private static void readableByAll(Path p) throws IOException {
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
  }
}
