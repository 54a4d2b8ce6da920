package org.dmtcpng.coordinator.script;

import java.io.IOException;
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
 * the foreground, the others through ssh. Editing a host name moves its processes.
 */
public final class RestartScript {
  private final Path ckptDir;
  private final String dmtcpRestart;
  private final String coordHost;
  private final int coordPort;

  public RestartScript(Path ckptDir, String dmtcpRestart, String coordHost, int coordPort) {
    this.ckptDir = ckptDir;
    this.dmtcpRestart = dmtcpRestart;
    this.coordHost = coordHost;
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
    String localName = localHostName();
    boolean allLocal = byHost.keySet().stream().allMatch(h -> isLocal(h, localName));
    StringBuilder s = new StringBuilder();
    s.append("#!/bin/bash\n")
        .append("# Restarts computation ").append(g.compId()).append(" from generation ")
        .append(g.generation()).append(" (").append(g.images().size())
        .append(" processes), written by dmtcp_coordinator at ").append(Instant.now()).append(".\n")
        .append("# Usage: ./dmtcp_restart_script.sh [-h|--coord-host HOST] [-p|--coord-port PORT]\n")
        .append("# Each host's images are restarted by one dmtcp_restart; the coordinator's host\n")
        .append("# runs in the foreground, the others through ssh. To move processes to another\n")
        .append("# host, edit the host name of their line in worker_ckpts below.\n")
        .append("set -u\n")
        .append("coord_host=${DMTCP_COORD_HOST:-").append(quote(allLocal ? "localhost" : coordHost)).append("}\n")
        .append("coord_port=${DMTCP_COORD_PORT:-").append(coordPort).append("}\n")
        .append("while [ $# -gt 0 ]; do\n")
        .append("  case $1 in\n")
        .append("    -h|--coord-host) coord_host=$2; shift 2;;\n")
        .append("    -p|--coord-port) coord_port=$2; shift 2;;\n")
        .append("    --help) sed -n '2,5p' \"$0\"; exit 0;;\n")
        .append("    *) echo \"$0: unknown option $1\" >&2; exit 2;;\n")
        .append("  esac\n")
        .append("done\n")
        .append("dmtcp_restart=").append(quote(dmtcpRestart)).append("\n")
        .append("local_host=").append(quote(localName)).append("\n\n")
        .append("# host:image [image...]\n")
        .append("worker_ckpts=(\n");
    for (Map.Entry<String, List<String>> e : byHost.entrySet()) {
      s.append("  ").append(quote(e.getKey() + ":" + String.join(" ", e.getValue()))).append("\n");
    }
    s.append(")\n\n")
        .append("foreground=\"\"\n")
        .append("for entry in \"${worker_ckpts[@]}\"; do\n")
        .append("  host=${entry%%:*}\n")
        .append("  images=${entry#*:}\n")
        .append("  if [ \"$host\" = \"$local_host\" ] || [ \"$host\" = localhost ]; then\n")
        .append("    foreground=\"$foreground $images\"\n")
        .append("  else\n")
        .append("    ssh \"$host\" \"$dmtcp_restart\" --coord-host \"$coord_host\" --coord-port \"$coord_port\" $images &\n")
        .append("  fi\n")
        .append("done\n")
        .append("if [ -n \"$foreground\" ]; then\n")
        .append("  exec \"$dmtcp_restart\" --coord-host \"$coord_host\" --coord-port \"$coord_port\" $foreground\n")
        .append("fi\n")
        .append("wait\n");
    return s.toString();
  }

  private static boolean isLocal(String host, String localName) {
    return host.equals(localName) || host.equals("localhost") || host.startsWith("127.");
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
