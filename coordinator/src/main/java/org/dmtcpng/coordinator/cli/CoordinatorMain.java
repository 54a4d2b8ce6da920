package org.dmtcpng.coordinator.cli;

import io.netty.channel.unix.Errors;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.dmtcpng.coordinator.server.CoordinatorServer;
import org.dmtcpng.coordinator.server.Log;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** dmtcp_coordinator [OPTIONS] [port]: the options, variables and stdin commands of DMTCP's. */
@Command(name = "dmtcp_coordinator", sortOptions = false, usageHelpAutoWidth = true,
    header = "Coordinates checkpoints between multiple processes.",
    footer = {"", "COMMANDS:", "      type '?<return>' at runtime for list"})
public final class CoordinatorMain implements Callable<Integer> {
  static final String VERSION = "dmtcp_coordinator (dmtcp) 0.1.0";

  @Option(names = {"-p", "--coord-port", "--port"}, paramLabel = "PORT_NUM",
      description = "Port to listen on (default: 7779; 0 = any free port)"
          + " (environment variable DMTCP_COORD_PORT)")
  Integer port;

  @Parameters(arity = "0..1", paramLabel = "port", description = "Port to listen on")
  Integer positionalPort;

  @Option(names = "--port-file", paramLabel = "filename",
      description = "File to write listener port number (useful with '--port 0')")
  Path portFile;

  @Option(names = "--ckptdir", paramLabel = "PATH",
      description = "Directory to store dmtcp_restart_script.sh (default: ./)"
          + " (environment variable DMTCP_CHECKPOINT_DIR)")
  Path ckptDir;

  @Option(names = "--tmpdir", paramLabel = "PATH",
      description = "Directory to store temporary files (default: $TMPDIR or /tmp)"
          + " (environment variable DMTCP_TMPDIR)")
  Path tmpDir;

  @Option(names = "--exit-on-last", description = "Exit automatically when last client disconnects")
  boolean exitOnLast;

  @Option(names = "--exit-after-ckpt",
      description = "Kill peer processes of computation after first checkpoint is created")
  boolean exitAfterCkpt;

  @Option(names = "--daemon", description = "Run silently in the background after detaching from the parent process.")
  boolean daemon;

  @Option(names = {"-i", "--interval"}, paramLabel = "SECONDS",
      description = "Time in seconds between automatic checkpoints (default: 0, disabled)"
          + " (environment variable DMTCP_CHECKPOINT_INTERVAL)")
  Integer interval;

  @Option(names = "--coord-logfile", paramLabel = "PATH",
      description = "Coordinator will dump its logs to the given file"
          + " (environment variable DMTCP_COORD_LOG_FILENAME)")
  String logFile;

  @Option(names = {"-q", "--quiet"},
      description = "Skip startup msg; Skip NOTE msgs; if given twice, also skip WARNINGs")
  boolean[] quiet = new boolean[0];

  @Option(names = "--ready-file", hidden = true,
      description = "Written once the port listens (used by the launcher for --daemon)")
  Path readyFile;

  @Option(names = "--help", usageHelp = true, description = "Print this message and exit.")
  boolean help;

  @Option(names = "--version", versionHelp = true, description = "Print version information and exit.")
  boolean version;

  private final CountDownLatch done = new CountDownLatch(1);

  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new CoordinatorMain());
    cl.getCommandSpec().version(VERSION);
    cl.setParameterExceptionHandler((ex, argv) -> {
      System.err.println("dmtcp_coordinator: " + ex.getMessage());
      ex.getCommandLine().usage(System.err);
      return 2;
    });
    // Whatever still goes wrong is one line, not a stack trace.
    cl.setExecutionExceptionHandler((ex, c, parsed) -> {
      System.err.println("dmtcp_coordinator: " + (ex instanceof IOException io ? why(io) : ex.toString()));
      return failRc();
    });
    System.exit(cl.execute(args));
  }

  /** The reason of a failed file operation, in the words strerror would use. */
  static String why(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "No such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "Permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return String.valueOf(e.getMessage());
  }

  /** --tmpdir or DMTCP_TMPDIR, when given, must be a writable directory; false after saying why not. */
  private boolean tmpdirUsable() {
    String envTmp = env("DMTCP_TMPDIR");
    Path dir = tmpDir != null ? tmpDir : envTmp != null ? Path.of(envTmp) : null;
    String problem = dir == null ? null : !Files.exists(dir) ? "No such file or directory"
        : !Files.isDirectory(dir) ? "not a directory" : !Files.isWritable(dir) ? "Permission denied" : null;
    if (problem != null) {
      System.err.println("dmtcp_coordinator: temporary directory " + dir + ": " + problem);
    }
    return problem == null;
  }

  /** The log (to file, or standard error when file is null), or null after saying why not. */
  private static Log openLog(String file, int quiet) {
    try {
      return new Log(file, quiet);
    } catch (IOException e) {
      System.err.println("dmtcp_coordinator: log file " + file + ": " + why(e));
      return null;
    }
  }

  /** Writes the bound port to file (what is null: nothing to write); false after saying why not. */
  private static boolean writePort(Path file, String what, int bound) {
    if (file == null) {
      return true;
    }
    try {
      Files.writeString(file, bound + "\n");
      return true;
    } catch (IOException e) {
      System.err.println("dmtcp_coordinator: cannot write " + what + " " + file + ": " + why(e));
      return false;
    }
  }

  static int failRc() {
    String v = System.getenv("DMTCP_FAIL_RC");
    try {
      return v == null || v.isBlank() ? 99 : Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      return 99;
    }
  }

  private static String env(String... names) {
    for (String n : names) {
      String v = System.getenv(n);
      if (v != null && !v.isBlank()) {
        return v.strip();
      }
    }
    return null;
  }

  @Override
  public Integer call() throws Exception {
    int listenPort;
    int seconds;
    try {
      String envPort = env("DMTCP_COORD_PORT", "DMTCP_PORT");
      listenPort = port != null ? port : positionalPort != null ? positionalPort
          : envPort != null ? Integer.parseInt(envPort) : 7779;
      String envInterval = env("DMTCP_CHECKPOINT_INTERVAL");
      seconds = interval != null ? interval : envInterval != null ? Integer.parseInt(envInterval) : 0;
    } catch (NumberFormatException e) {
      System.err.println("dmtcp_coordinator: not a number: " + e.getMessage());
      return failRc();
    }
    if (listenPort < 0 || listenPort > 65535 || seconds < 0) {
      System.err.println("dmtcp_coordinator: port must be 0-65535 and interval >= 0");
      return failRc();
    }
    if (!tmpdirUsable()) {
      return failRc();
    }
    String envDir = env("DMTCP_CHECKPOINT_DIR");
    Path dir = (ckptDir != null ? ckptDir : envDir != null ? Path.of(envDir) : Path.of(""))
        .toAbsolutePath().normalize();
    String log = logFile != null ? logFile : env("DMTCP_COORD_LOG_FILENAME");
    int q = quiet.length;
    if (daemon && log == null) {
      q = 2;
    }
    String bindir = System.getProperty("dmtcp.bindir", "");
    String restartBinary = bindir.isEmpty() ? "dmtcp_restart" : bindir + "/dmtcp_restart";
    Log logger = openLog(log, q);
    if (logger == null) {
      return failRc();
    }
    CoordinatorServer server = new CoordinatorServer(
        new CoordinatorServer.Config(null, listenPort, dir, seconds, exitOnLast, exitAfterCkpt, restartBinary),
        logger, done::countDown);
    int bound;
    try {
      bound = server.start();
    } catch (Exception e) {
      if (e instanceof BindException || e instanceof Errors.NativeIoException
          || String.valueOf(e.getMessage()).contains("in use")) {
        System.err.println("dmtcp_coordinator: port " + listenPort + " is already in use");
      } else {
        System.err.println("dmtcp_coordinator: cannot listen on port " + listenPort + ": " + e.getMessage());
      }
      server.close();
      return failRc();
    }
    if (!writePort(portFile, "port file", bound)) {
      server.close();
      return failRc();
    }
    if (q == 0 && !daemon) {
      System.out.println("dmtcp_coordinator starting...");
      System.out.println("    Host: " + org.dmtcpng.coordinator.script.RestartScript.localHostName());
      System.out.println("    Port: " + bound);
      System.out.println("    Checkpoint Interval: " + intervalText(seconds));
      System.out.println("    Exit on last client: " + (exitOnLast ? 1 : 0));
      System.out.println("Type '?' for help.");
      System.out.flush();
    } else if (listenPort == 0 && q < 2 && !daemon) {
      System.out.println(bound);
    }
    if (!writePort(readyFile, "ready file", bound)) {
      server.close();
      return failRc();
    }
    if (!daemon) {
      Thread stdin = new Thread(() -> readCommands(server), "stdin-commands");
      stdin.setDaemon(true);
      stdin.start();
    }
    done.await();
    server.close();
    return 0;
  }

  private static String intervalText(int seconds) {
    return seconds == 0 ? "disabled (checkpoint manually instead)" : Integer.toString(seconds);
  }

  /** The interactive commands: l s c f i k q ? (EOF on stdin leaves the coordinator running). */
  private void readCommands(CoordinatorServer server) {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      String line;
      while ((line = in.readLine()) != null) {
        String cmd = line.strip();
        if (cmd.isEmpty()) {
          continue;
        }
        switch (cmd.charAt(0)) {
          case 's', 'l' -> server.execute(() -> System.out.print(StatusText.format(
              server.result("DMT_COORD_SUCCESS", true), cmd.charAt(0) == 'l', "localhost", server.port())));
          case 'c' -> server.execute(() -> {
            var o = server.checkpoint(false, null);
            System.out.println(o == null ? "checkpointing..." : "cannot checkpoint now: " + o);
          });
          case 'f' -> server.execute(() -> System.out.println(forced(server.computation().forceRestart())));
          case 'i' -> server.execute(() -> System.out.println(
              "Checkpoint Interval: " + intervalText(server.computation().interval())));
          case 'k' -> server.execute(() -> server.computation().killAll());
          case 'q' -> {
            server.execute(() -> {
              server.computation().killAll();
              done.countDown();
            });
            return;
          }
          case '?', 'h' -> System.out.print(HELP);
          default -> System.out.println("unknown command '" + cmd + "'; type '?' for help");
        }
        System.out.flush();
      }
    } catch (IOException e) {
      // stdin closed: keep coordinating
    }
  }

  /** The answer to f, given how many processes the forced restart goes on without (-1: none waits). */
  static String forced(int missing) {
    if (missing < 0) {
      return "no restart is waiting for missing processes: nothing to force";
    }
    return "restart forced without its " + missing + " missing process" + (missing == 1 ? "" : "es")
        + " (refused if they come later)";
  }

  static final String HELP = """
      COMMANDS:
        l : List connected nodes
        s : Print status message
        c : Checkpoint all nodes
        f : Force a restart even if there are missing nodes (debugging)
        i : Print current checkpoint interval
            (To change checkpoint interval, use dmtcp_command)
        k : Kill all nodes
        q : Kill all nodes and quit
        ? : Show this message
      """;
}
