package org.dmtcpng.reports.summary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads and checks autotest-summary.json (written by the autotest CLI). */
public final class SummaryReader {
    private static final Set<String> STATUSES = Set.of("passed", "failed", "skipped");
    private static final ObjectMapper JSON = new ObjectMapper();

    private SummaryReader() {
    }

    /** @throws BadSummaryException with a one-line reason when the file is missing or malformed */
    public static List<CaseResult> read(Path file) {
        List<CaseResult> cases;
        try {
            cases = JSON.readValue(Files.readString(file), new TypeReference<List<CaseResult>>() { });
        } catch (NoSuchFileException e) {
            throw new BadSummaryException(file + ": no such file");
        } catch (JsonProcessingException e) {
            throw new BadSummaryException(file + ": not an array of autotest cases: "
                    + e.getOriginalMessage().lines().findFirst().orElse("malformed JSON"));
        } catch (IOException e) {
            throw new BadSummaryException(file + ": cannot read: " + e.getMessage());
        }
        if (cases == null) {
            throw new BadSummaryException(file + ": null instead of an array of autotest cases");
        }
        for (int i = 0; i < cases.size(); i++) {
            CaseResult c = cases.get(i);
            if (c == null || c.name() == null || c.name().isBlank()) {
                throw new BadSummaryException(file + ": entry " + i + " has no \"case\" name");
            }
            if (!STATUSES.contains(c.status())) {
                throw new BadSummaryException(file + ": case " + c.name() + " has status \"" + c.status()
                        + "\", expected passed, failed or skipped");
            }
            for (Phase p : c.phases()) {
                if (p == null || p.name() == null || p.name().isBlank()) {
                    throw new BadSummaryException(file + ": case " + c.name() + " has a phase without a name");
                }
            }
        }
        return cases;
    }

    /** The summary cannot be used; the message is the one line to print. */
    public static final class BadSummaryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadSummaryException(String message) {
            super(message);
        }
    }
}
