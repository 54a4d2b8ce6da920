package org.dmtcpng.coordinator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.dmtcpng.coordinator.client.CommandClient;
import org.dmtcpng.coordinator.protocol.Frame;

/**
 * dmtcp_command [OPTIONS] COMMAND...: sends commands to the coordinator. Exit 0 on success, 2 when
 * no coordinator answers or it refuses (a failed blocking checkpoint included). Hand-parsed, and
 * free of Netty, so that the JVM starts fast.
 */
public final class CommandMain {
  private static final String USAGE = """
      Usage:  dmtcp_command [OPTIONS] COMMAND [COMMAND...]
      Send a command to the dmtcp_coordinator remotely.

      Options:

        -h, --coord-host HOSTNAME (environment variable DMTCP_COORD_HOST)
                    Hostname where dmtcp_coordinator is run (default: localhost)
        -p, --coord-port PORT_NUM (environment variable DMTCP_COORD_PORT)
                    Port where dmtcp_coordinator is run (default: 7779)
        --json      Print the result as one JSON object
        h, --help
                    Print this message and exit.
        --version
                    Print version information and exit.

      Commands for Coordinator:
          -s, --status:          Print status message
          -l, --list:            List connected clients
          -c, --checkpoint:      Checkpoint all nodes
          -bc, --bcheckpoint:    Checkpoint all nodes, blocking until done
          -kc, --kcheckpoint:    Checkpoint all nodes, then kill them
          -i, --interval <val>   Update ckpt interval to <val> seconds (0=never)
          -k, --kill             Kill all nodes
          -q, --quit             Kill all nodes and quit
      """;

  /** One command to send: the protocol name, the DMT_ name and the interval if any. */
  record Request(String command, String dmtName, Long interval) {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    String host = firstEnv("DMTCP_COORD_HOST", "DMTCP_HOST");
    String portText = firstEnv("DMTCP_COORD_PORT", "DMTCP_PORT");
    boolean json = false;
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String bare = a.startsWith("--") ? a.substring(2) : a.startsWith("-") ? a.substring(1) : a;
      switch (a) {
        case "-h", "--coord-host", "--host" -> {
          if (++i >= args.length) {
            return usageError(err, a + " needs a host name");
          }
          host = args[i];
          continue;
        }
        case "-p", "--coord-port", "--port" -> {
          if (++i >= args.length) {
            return usageError(err, a + " needs a port number");
          }
          portText = args[i];
          continue;
        }
        case "--json" -> {
          json = true;
          continue;
        }
        case "--help" -> {
          out.print(USAGE);
          return 0;
        }
        case "--version" -> {
          out.println("dmtcp_command (dmtcp) 0.1.0");
          return 0;
        }
        default -> { }
      }
      switch (bare) {
        case "h", "help", "?" -> {
          out.print(USAGE);
          return 0;
        }
        case "s", "status" -> requests.add(new Request("status", "DMT_STATUS", null));
        case "l", "list" -> requests.add(new Request("list", "DMT_LIST", null));
        case "c", "checkpoint" -> requests.add(new Request("checkpoint", "DMT_CHECKPOINT", null));
        case "bc", "bcheckpoint" -> requests.add(new Request("bcheckpoint", "DMT_BLOCKING_CKPT", null));
        case "kc", "kcheckpoint" -> requests.add(new Request("kcheckpoint", "DMT_KILL_AFTER_CKPT", null));
        case "k", "kill" -> requests.add(new Request("kill", "DMT_KILL", null));
        case "q", "quit" -> requests.add(new Request("quit", "DMT_QUIT", null));
        case "i", "interval" -> {
          if (++i >= args.length || !args[i].matches("\\d+")) {
            return usageError(err, a + " needs a number of seconds");
          }
          requests.add(new Request("interval", "DMT_UPDATE_CKPT_INTERVAL", Long.parseLong(args[i])));
        }
        default -> {
          return usageError(err, "unknown option or command: " + a);
        }
      }
    }
    if (requests.isEmpty()) {
      return usageError(err, "no command given");
    }
    if (host == null) {
      host = "localhost";
    }
    int port;
    try {
      port = portText == null ? 7779 : Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      return usageError(err, "not a port number: " + portText);
    }
    for (Request r : requests) {
      int rc = send(r, host, port, json, out, err);
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  private static int send(Request r, String host, int port, boolean json, PrintStream out,
      PrintStream err) {
    Frame result;
    try (CommandClient c = new CommandClient(host, port, 3000)) {
      result = c.command(r.command(), r.interval());
    } catch (IOException | RuntimeException e) {
      if (json) {
        out.println(json(r, host, port, null, "DMT_COORD_NOT_FOUND"));
      } else {
        err.println("dmtcp_command: no coordinator answers at " + host + ":" + port
            + " (" + e.getMessage() + ")");
      }
      return 2;
    }
    String status = result.get("command_status", "DMT_COORD_ERROR");
    if (json) {
      out.println(json(r, host, port, result, status));
    } else if (r.command().equals("status") || r.command().equals("list")) {
      out.print(StatusText.format(result, r.command().equals("list"), host, port));
    } else if (!status.equals("DMT_COORD_SUCCESS")) {
      err.println("dmtcp_command: " + r.command() + " failed: " + status
          + (result.get("message") != null ? " (" + result.get("message") + ")" : ""));
    }
    return status.equals("DMT_COORD_SUCCESS") ? 0 : 2;
  }

  static String json(Request r, String host, int port, Frame result, String status) {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode o = mapper.createObjectNode();
    o.put("schema_version", 1);
    o.put("command", r.dmtName());
    o.put("command_status", status);
    o.put("coordinator_host", host);
    o.put("coordinator_port", port);
    if (result != null) {
      o.put("num_peers", Integer.parseInt(result.get("num_peers", "0")));
      o.put("running", "yes".equals(result.get("running")));
      o.put("checkpoint_interval", Integer.parseInt(result.get("checkpoint_interval", "0")));
      o.put("computation_id", result.get("comp_id", ""));
      o.put("last_ckpt_generation", Long.parseLong(result.get("last_ckpt_generation", "0")));
      if (r.command().equals("list")) {
        ArrayNode peers = o.putArray("peers");
        for (String peer : result.getAll("peer")) {
          String[] p = peer.split("\t", -1);
          if (p.length >= 6) {
            ObjectNode n = peers.addObject();
            n.put("virtual_pid", Long.parseLong(p[0]));
            n.put("unique_pid", p[1]);
            n.put("host", p[2]);
            n.put("program", p[3]);
            n.put("state", p[4]);
            n.put("real_pid", Long.parseLong(p[5]));
          }
        }
      }
    }
    try {
      return mapper.writeValueAsString(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int usageError(PrintStream err, String why) {
    err.println("dmtcp_command: " + why);
    err.print(USAGE);
    return 2;
  }

  private static String firstEnv(String... names) {
    for (String n : names) {
      String v = System.getenv(n);
      if (v != null && !v.isBlank()) {
        return v.strip();
      }
    }
    return null;
  }
}
