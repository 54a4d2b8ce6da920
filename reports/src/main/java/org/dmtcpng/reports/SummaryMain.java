package org.dmtcpng.reports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.dmtcpng.reports.summary.MarkdownSummary;
import org.dmtcpng.reports.summary.SummaryReader;

/**
 * {@code SummaryMain <autotest-summary.json> <summary.md>}: writes the
 * one-page Markdown summary. Exit 0 on success, 2 on a usage error, 99
 * (DMTCP_FAIL_RC) when the input cannot be read or the output written.
 */
public final class SummaryMain {
    static final int USAGE = 2;
    static final int FAIL_RC = 99;

    private SummaryMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: SummaryMain <autotest-summary.json> <summary.md>");
            return USAGE;
        }
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        try {
            String md = MarkdownSummary.render(SummaryReader.read(in), in.toString());
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(out, md);
        } catch (SummaryReader.BadSummaryException e) {
            System.err.println("summary: " + e.getMessage());
            return FAIL_RC;
        } catch (IOException e) {
            System.err.println("summary: " + out + ": cannot write: " + e.getMessage());
            return FAIL_RC;
        }
        System.out.println("summary: wrote " + out);
        return 0;
    }
}
