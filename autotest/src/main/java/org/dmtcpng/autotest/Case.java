package org.dmtcpng.autotest;

import java.util.List;
import java.util.Map;

/**
 * One row of the table: what to run, how many processes it must have, how many
 * checkpoint/restart cycles, and what it needs.
 *
 * @param name           what autotest calls it
 * @param argv           the program and its arguments ({corpus} is app-corpus/build)
 * @param processes      how many processes the computation must have
 * @param cycles         checkpoint, kill, restart cycles
 * @param env            extra environment for dmtcp_launch
 * @param launchOptions  extra options for dmtcp_launch
 * @param restartOptions extra options for dmtcp_restart (on the cycles that use it)
 * @param slow           only with --slow
 * @param core           also run as an unprivileged user in CI
 * @param requiredTool   a command that must be on PATH, or null
 * @param maxImageBytes  the images of a checkpoint together must not be larger (0: no limit)
 * @param ownCoordinator dmtcp_launch --new-coordinator (which exits with the computation) instead of
 *                       joining the harness's coordinator; dmtcp_restart starts one of its own too
 */
public record Case(String name, List<String> argv, int processes, int cycles,
    Map<String, String> env, List<String> launchOptions, List<String> restartOptions, boolean slow,
    boolean core, String requiredTool, long maxImageBytes, boolean ownCoordinator) {

  static Case of(String name, String... argv) {
    return new Case(name, List.of(argv), 1, 3, Map.of(), List.of(), List.of(), false, false, null, 0, false);
  }

  Case withOwnCoordinator() {
    return new Case(name, argv, processes, cycles, env, launchOptions, restartOptions, slow, core, requiredTool, maxImageBytes, true);
  }

  Case asCore() {
    return new Case(name, argv, processes, cycles, env, launchOptions, restartOptions, slow, true, requiredTool, maxImageBytes, ownCoordinator);
  }

  Case asSlow() {
    return new Case(name, argv, processes, cycles, env, launchOptions, restartOptions, true, core, requiredTool, maxImageBytes, ownCoordinator);
  }

  Case needs(String tool) {
    return new Case(name, argv, processes, cycles, env, launchOptions, restartOptions, slow, core, tool, maxImageBytes, ownCoordinator);
  }

  Case launchOptions(String... options) {
    return new Case(name, argv, processes, cycles, env, List.of(options), restartOptions, slow, core, requiredTool, maxImageBytes, ownCoordinator);
  }

  Case processes(int n) {
    return new Case(name, argv, n, cycles, env, launchOptions, restartOptions, slow, core, requiredTool, maxImageBytes, ownCoordinator);
  }

  Case env(String... keyValues) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return new Case(name, argv, processes, cycles, Map.copyOf(m), launchOptions, restartOptions, slow, core, requiredTool, maxImageBytes, ownCoordinator);
  }

  Case maxImageBytes(long bytes) {
    return new Case(name, argv, processes, cycles, env, launchOptions, restartOptions, slow, core, requiredTool, bytes, ownCoordinator);
  }

  Case restartOptions(String... options) {
    return new Case(name, argv, processes, cycles, env, launchOptions, List.of(options), slow, core, requiredTool, maxImageBytes, ownCoordinator);
  }
}
