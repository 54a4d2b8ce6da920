package org.dmtcpng.coordinator.cli;

import org.dmtcpng.coordinator.protocol.Frame;

/** The text DMTCP users know from `dmtcp_command -s` and `-l`. */
final class StatusText {
  private StatusText() {}

  static String format(Frame r, boolean list, String host, int port) {
    StringBuilder s = new StringBuilder();
    s.append("Coordinator:\n")
        .append("  Host: ").append(host).append('\n')
        .append("  Port: ").append(port).append('\n')
        .append("Status...\n")
        .append("  NUM_PEERS=").append(r.get("num_peers", "0")).append('\n')
        .append("  RUNNING=").append(r.get("running", "no")).append('\n')
        .append("  CKPT_INTERVAL=").append(r.get("checkpoint_interval", "0")).append('\n');
    String comp = r.get("comp_id", "");
    if (!comp.isEmpty()) {
      s.append("  COMPUTATION_ID=").append(comp).append('\n');
    }
    s.append("  LAST_CKPT_GENERATION=").append(r.get("last_ckpt_generation", "0")).append('\n');
    if (list) {
      s.append("Client List:\n#, PROG[virtPID:realPID]@HOST, DMTCP-UNIQUEPID, STATE\n");
      int n = 1;
      for (String peer : r.getAll("peer")) {
        String[] p = peer.split("\t", -1);
        if (p.length >= 6) {
          s.append(n++).append(", ").append(p[3]).append('[').append(p[0]).append(':').append(p[5])
              .append("]@").append(p[2]).append(", ").append(p[1]).append(", ").append(p[4]).append('\n');
        }
      }
    }
    return s.toString();
  }
}
