package org.dmtcpng.autotest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Checkpoints a running corpus program at random moments: a random fast program, random delays
 * before each checkpoint and a random number of cycles, each cycle a real checkpoint, kill and
 * restart checked by the program's own validator. When it fails, jqwik shrinks the schedule to
 * the smallest failing one. 4 tries by default (src/test/resources/junit-platform.properties);
 * more with -Djqwik.tries.default=N.
 */
class RandomScheduleProperties {
  static final Path ROOT = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();

  record Schedule(String program, List<Integer> delaysMillis) {}

  @Provide
  Arbitrary<Schedule> schedules() {
    List<String> fast = List.of("counter", "threads16", "fpsimd", "signals", "dlopen", "recursion");
    return Combinators.combine(Arbitraries.of(fast),
        Arbitraries.integers().between(0, 1500).list().ofMinSize(1).ofMaxSize(3))
        .as(Schedule::new);
  }

  @Property
  void aProgramCheckpointedAtRandomMomentsGoesOnWhereItWas(@ForAll("schedules") Schedule s)
      throws IOException, InterruptedException, CaseRun.Failure {
    Case base = Corpus.all().stream().filter(c -> c.name().equals(s.program())).findFirst().orElseThrow();
    Case c = new Case(base.name(), base.argv(), base.processes(), s.delaysMillis().size(), base.env(),
        base.launchOptions(), base.restartOptions(), false, false, null, base.maxImageBytes(), base.ownCoordinator());
    Path base2 = ROOT.resolve("target/autotest-work");
    Files.createDirectories(base2);
    Path work = Files.createTempDirectory(base2, "random-" + c.name() + "-");
    try (CaseRun run = new CaseRun(ROOT, c, work, null, x -> { }).delays(s.delaysMillis())) {
      run.run();
    }
    AutotestMain.deleteTree(work);
  }
}
