package org.dmtcpng.reports.allure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Generates a real HTML report with the Allure command line that the build
 * unpacked (no network), from a tiny results directory written here in
 * Allure's result format, and reads the report back.
 */
class AllureReportRendersTest {
    private static final Path ALLURE_HOME = Path.of(System.getProperty("allure.home", "target/allure-commandline/allure-2.32.0"));
    private static final Path WORK = Path.of(System.getProperty("reports.work.dir", "target/test-work"));

    @Test
    void singleFileReportShowsEveryResult() throws Exception {
        Path results = WORK.resolve("allure-results");
        Path report = WORK.resolve("allure-report");
        Files.createDirectories(results);
        writeResult(results, "0b0b0b0b-0000-4000-8000-000000000001", "hello-loop survives 2 cycles", "passed");
        writeResult(results, "0b0b0b0b-0000-4000-8000-000000000002", "pipe-chain restart", "failed");

        Path allure = ALLURE_HOME.resolve("bin/allure");
        assertTrue(Files.isExecutable(allure), "the build did not unpack " + allure);
        Process p = new ProcessBuilder(allure.toString(), "generate", "--clean", "--single-file",
                results.toString(), "-o", report.toString())
                .redirectErrorStream(true)
                .redirectOutput(WORK.resolve("allure-generate.out").toFile())
                .start();
        try {
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "allure generate did not finish");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), Files.readString(WORK.resolve("allure-generate.out")));

        Path index = report.resolve("index.html");
        assertTrue(Files.size(index) > 0);
        assertTrue(Files.readString(index).contains("<title>Allure Report</title>"));
        assertEquals(List.of("hello-loop survives 2 cycles: passed", "pipe-chain restart: failed"),
                SingleFileReport.testCases(index).stream().sorted().toList());
    }

    private static void writeResult(Path dir, String uuid, String name, String status) throws Exception {
        String json = """
                {"uuid":"%s","historyId":"%s","fullName":"autotest.%s","name":"%s","status":"%s",
                 "stage":"finished","start":1700000000000,"stop":1700000001500,
                 "labels":[{"name":"suite","value":"autotest"}],"steps":[]}
                """.formatted(uuid, uuid, name.replace(' ', '_'), name, status);
        Files.writeString(dir.resolve(uuid + "-result.json"), json);
    }
}
