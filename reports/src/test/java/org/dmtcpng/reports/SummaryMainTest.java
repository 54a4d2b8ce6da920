package org.dmtcpng.reports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SummaryMainTest {
    @TempDir
    Path dir;

    private Path sample() throws Exception {
        Path in = dir.resolve("autotest-summary.json");
        try (var s = getClass().getResourceAsStream("/sample-autotest-summary.json")) {
            Files.copy(s, in);
        }
        return in;
    }

    @Test
    void writesCountsStatusesReasonsAndPhaseTimes() throws Exception {
        Path out = dir.resolve("out/summary.md");
        assertEquals(0, SummaryMain.run(new String[] {sample().toString(), out.toString()}));
        String md = Files.readString(out);
        List<String> lines = md.lines().toList();

        assertTrue(md.contains("**3 cases: 1 passed, 1 failed, 1 skipped.**"), md);
        assertTrue(lines.contains("| hello-loop | passed |  | 2,004 |"), md);
        // pipe escaped, reason on one line, failure stands out
        assertTrue(lines.contains("| pipe\\|chain | **FAILED** | restart: peer p2 never reconnected (timeout 30 s) | 30,150 |"), md);
        assertTrue(lines.contains("| mpi-ring | skipped | mpirun not installed |  |"), md);
        // phase columns by cycle, ckpt before rstr; failed phase marked
        assertTrue(lines.contains("| case | ckpt 1 | rstr 1 | ckpt 2 | rstr 2 |"), md);
        assertTrue(lines.contains("| hello-loop | 120 | 340 | 1,234 | 310 |"), md);
        assertTrue(lines.contains("| pipe\\|chain | 150 | 30,000 FAILED |  |  |"), md);
        assertTrue(lines.contains("| mpi-ring |  |  |  |  |"), md);
    }

    @Test
    void missingInputIsOneLineErrorWithFailRc() {
        String err = stderrOf(() -> assertEquals(SummaryMain.FAIL_RC,
                SummaryMain.run(new String[] {dir.resolve("nope.json").toString(), dir.resolve("s.md").toString()})));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains("nope.json: no such file"), err);
        assertFalse(Files.exists(dir.resolve("s.md")));
    }

    @Test
    void malformedInputNamesTheFileAndTheReason() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "[{\"case\":\"x\",\"status\":\"green\"}]");
        String err = stderrOf(() -> assertEquals(SummaryMain.FAIL_RC,
                SummaryMain.run(new String[] {bad.toString(), dir.resolve("s.md").toString()})));
        assertTrue(err.contains("bad.json: case x has status \"green\""), err);

        Files.writeString(bad, "{not json");
        err = stderrOf(() -> assertEquals(SummaryMain.FAIL_RC,
                SummaryMain.run(new String[] {bad.toString(), dir.resolve("s.md").toString()})));
        assertTrue(err.startsWith("summary: " + bad + ": not an array of autotest cases"), err);
        assertEquals(1, err.lines().count(), err);
    }

    @Test
    void wrongArgumentCountIsAUsageError() {
        String err = stderrOf(() -> assertEquals(SummaryMain.USAGE, SummaryMain.run(new String[] {"one"})));
        assertTrue(err.startsWith("usage:"), err);
    }

    private static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
