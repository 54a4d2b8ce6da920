package org.dmtcpng.coordinator.script;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dmtcpng.coordinator.barrier.CommittedGeneration;

/**
 * Writes dmtcp_restart_script_&lt;comp&gt;.sh for a committed generation and points the symlink
 * dmtcp_restart_script.sh at it, atomically (docs/protocol.md, section 5). The script restarts
 * the processes of each host with one dmtcp_restart: the coordinator's own host locally and in
 * the foreground, the others through ssh, and waits for all. Editing a host name moves its
 * processes. Java writes the data (hosts, images, paths); restart-body.sh is the logic.
 */
public final class RestartScript {
  /** The part of every script that does the work (src/main/resources). */
  private static final String BODY = body();

  private final Path ckptDir;
  private final String dmtcpRestart;
  private final String localHost;
  private final int coordPort;

  public RestartScript(Path ckptDir, String dmtcpRestart, String localHost, int coordPort) {
    this.ckptDir = ckptDir;
    this.dmtcpRestart = dmtcpRestart;
    this.localHost = localHost;
    this.coordPort = coordPort;
  }

  /** Returns the path of the symlink. */
  public Path write(CommittedGeneration g) throws IOException {
    Files.createDirectories(ckptDir);
    Path script = ckptDir.resolve("dmtcp_restart_script_" + g.compId() + ".sh");
    Path tmp = ckptDir.resolve("." + script.getFileName() + ".tmp");
    Files.writeString(tmp, text(g), StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.move(tmp, script, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Path link = ckptDir.resolve("dmtcp_restart_script.sh");
    Path tmpLink = ckptDir.resolve(".dmtcp_restart_script.sh.tmp");
    Files.deleteIfExists(tmpLink);
    Files.createSymbolicLink(tmpLink, script.getFileName());
    Files.move(tmpLink, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return link;
  }

  String text(CommittedGeneration g) {
    Map<String, List<String>> byHost = new LinkedHashMap<>();
    for (CommittedGeneration.Image image : g.images()) {
      byHost.computeIfAbsent(image.host(), h -> new ArrayList<>()).add(image.path());
    }
    StringBuilder s = new StringBuilder();
    s.append("#!/bin/bash\n")
        .append("# Restarts computation ").append(g.compId()).append(" from generation ")
        .append(g.generation()).append(" (").append(g.images().size())
        .append(" processes), written by dmtcp_coordinator at ").append(Instant.now()).append(".\n")
        .append("# Usage: ./dmtcp_restart_script.sh [-h|--coord-host HOST] [-p|--coord-port PORT]\n")
        .append("# Each host's images are restarted by one dmtcp_restart on that host: this one's in\n")
        .append("# the foreground, the others through ssh, each told the coordinator's address as\n")
        .append("# that host reaches it. The script waits for them all; one that fails stops the\n")
        .append("# rest. To move processes to another host, edit the host name of their line in\n")
        .append("# worker_ckpts below.\n")
        .append("set -u\n")
        .append("coord_host=${DMTCP_COORD_HOST:-localhost}\n")
        .append("coord_port=${DMTCP_COORD_PORT:-").append(coordPort).append("}\n")
        .append("while [ $# -gt 0 ]; do\n")
        .append("  case $1 in\n")
        .append("    -h|--coord-host) coord_host=$2; shift 2;;\n")
        .append("    -p|--coord-port) coord_port=$2; shift 2;;\n")
        .append("    --help) sed -n '2,8p' \"$0\"; exit 0;;\n")
        .append("    *) echo \"$0: unknown option $1\" >&2; exit 99;;\n")
        .append("  esac\n")
        .append("done\n")
        .append("dmtcp_restart=").append(quote(dmtcpRestart)).append("\n")
        .append("dmtcp_command=").append(quote(sibling("dmtcp_command"))).append("\n")
        .append("dmtcp_coordinator=").append(quote(sibling("dmtcp_coordinator"))).append("\n")
        .append("ckpt_dir=").append(quote(ckptDir.toAbsolutePath().toString())).append("\n")
        .append("local_host=").append(quote(localHost)).append("\n\n")
        .append("# host:image [image...]\n")
        .append("worker_ckpts=(\n");
    for (Map.Entry<String, List<String>> e : byHost.entrySet()) {
      s.append("  ").append(quote(e.getKey() + ":" + String.join(" ", e.getValue()))).append("\n");
    }
    s.append(")\n").append(BODY);
    return s.toString();
  }

  /** Another command of the directory dmtcp_restart is in (or found on PATH like it). */
  private String sibling(String command) {
    int slash = dmtcpRestart.lastIndexOf('/');
    return slash < 0 ? command : dmtcpRestart.substring(0, slash + 1) + command;
  }

  private static String body() {
    try (InputStream in = RestartScript.class.getResourceAsStream("restart-body.sh")) {
      if (in == null) {
        throw new IllegalStateException("restart-body.sh is missing from the coordinator's jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kernel's host name, as the C runtime's gethostname() reports it. */
  public static String localHostName() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException e) {
      return "localhost";
    }
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
