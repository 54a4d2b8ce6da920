package org.dmtcpng.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-checks src/tla/Barrier.tla with TLC, one test per model in
 * src/tla/models: the real protocol models must pass every invariant and
 * temporal property, and every deliberately broken variant must be caught
 * (proof that a violation fails this build).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TlcModelCheckTest {
    private static final long MIN_TOTAL_DISTINCT_STATES = 10_000;

    private static final Path TLA_DIR = Path.of(System.getProperty("tla.dir", "src/tla"));
    private static final Path WORK_DIR = Path.of(System.getProperty("tlc.work.dir", "target/tlc"));
    /** Per test JVM, so that builds running at the same time do not share TLC's files. */
    private static final Path RUN_DIR = WORK_DIR.resolve("run-" + ProcessHandle.current().pid());
    private static final Map<String, TlcResult> RESULTS = new ConcurrentHashMap<>();

    static Stream<Path> models() throws IOException {
        try (Stream<Path> files = Files.list(TLA_DIR.resolve("models"))) {
            List<Path> cfgs = files.filter(p -> p.toString().endsWith(".cfg")).sorted().toList();
            assertFalse(cfgs.isEmpty(), "no models in " + TLA_DIR.resolve("models"));
            return cfgs.stream();
        }
    }

    private static TlcResult run(Path config) throws IOException, InterruptedException {
        String key = config.getFileName().toString();
        TlcResult cached = RESULTS.get(key);
        if (cached != null) {
            return cached;
        }
        Files.createDirectories(RUN_DIR);
        TlcResult result = new TlcRunner(TLA_DIR.resolve("Barrier.tla"), RUN_DIR).check(config);
        RESULTS.put(key, result);
        return result;
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void tlcGivesTheExpectedVerdict(Path config) throws Exception {
        ModelExpectation expect = ModelExpectation.of(config);
        TlcResult r = run(config);
        switch (expect.kind()) {
            case PASS -> {
                assertEquals(TlcResult.EXIT_OK, r.exitCode(), r.describe());
                assertTrue(r.completedWithoutError(), "TLC did not report success: " + r.describe());
                assertTrue(r.errorLines().isEmpty(), r.describe());
                assertTrue(r.distinctStates() > 0, "no state count in TLC's output: " + r.describe());
            }
            case INVARIANT -> {
                assertEquals(TlcResult.EXIT_VIOLATION_SAFETY, r.exitCode(),
                        "broken variant not caught as a safety violation: " + r.describe());
                assertEquals(List.of(expect.invariant()), r.violatedInvariants(), r.describe());
            }
            case LIVENESS -> {
                assertEquals(TlcResult.EXIT_VIOLATION_LIVENESS, r.exitCode(),
                        "broken variant not caught as a liveness violation: " + r.describe());
                assertTrue(r.temporalViolated(), r.describe());
            }
        }
    }

    @Order(2)
    @Test
    void passingModelsTogetherExploreAtLeastTenThousandStates() throws Exception {
        long total = 0;
        for (Path config : models().toList()) {
            if (ModelExpectation.of(config).kind() == ModelExpectation.Kind.PASS) {
                TlcResult r = run(config);
                assertEquals(TlcResult.EXIT_OK, r.exitCode(), r.describe());
                total += r.distinctStates();
            }
        }
        assertTrue(total >= MIN_TOTAL_DISTINCT_STATES,
                "the passing models explore only " + total + " distinct states");
    }

    /** Records the state counts in target/tlc/state-counts.md (and in the run's directory) and prints them. */
    @AfterAll
    static void recordStateCounts() throws IOException {
        StringBuilder md = new StringBuilder("| model | TLC exit | distinct states | states generated | violated |\n"
                + "|---|---|---|---|---|\n");
        long total = 0;
        for (TlcResult r : RESULTS.values().stream().sorted((a, b) -> a.model().compareTo(b.model())).toList()) {
            String violated = r.temporalViolated() ? "temporal property"
                    : r.violatedInvariants().isEmpty() ? "-" : String.join(", ", r.violatedInvariants());
            md.append("| ").append(r.model()).append(" | ").append(r.exitCode()).append(" | ")
              .append(r.distinctStates()).append(" | ").append(r.statesGenerated()).append(" | ")
              .append(violated).append(" |\n");
            if (r.exitCode() == TlcResult.EXIT_OK) {
                total += r.distinctStates();
            }
        }
        md.append("\nDistinct states of the passing models together: ").append(total).append('\n');
        Files.createDirectories(WORK_DIR);
        Files.writeString(RUN_DIR.resolve("state-counts.md"), md);
        Files.writeString(WORK_DIR.resolve("state-counts.md"), md);
        System.out.print(md);
    }
}
