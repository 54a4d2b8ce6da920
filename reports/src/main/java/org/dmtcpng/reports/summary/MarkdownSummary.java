package org.dmtcpng.reports.summary;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders the autotest results as one Markdown page: the counts, one row per
 * case (status and reason), and the time of every phase (ckpt/rstr per cycle).
 */
public final class MarkdownSummary {
    private MarkdownSummary() {
    }

    public static String render(List<CaseResult> cases, String source) {
        StringBuilder md = new StringBuilder();
        long passed = count(cases, "passed");
        long failed = count(cases, "failed");
        long skipped = count(cases, "skipped");
        md.append("# Autotest summary\n\n");
        md.append("Source: `").append(source).append("`\n\n");
        md.append("**").append(cases.size()).append(" cases: ").append(passed).append(" passed, ")
          .append(failed).append(" failed, ").append(skipped).append(" skipped.**\n\n");

        md.append("## Cases\n\n| case | status | reason | total time |\n|---|---|---|---:|\n");
        for (CaseResult c : cases) {
            long total = c.phases().stream().mapToLong(Phase::millis).sum();
            md.append("| ").append(cell(c.name())).append(" | ").append(statusCell(c.status())).append(" | ")
              .append(cell(c.reason() == null ? "" : c.reason())).append(" | ")
              .append(c.phases().isEmpty() ? "" : millis(total)).append(" |\n");
        }

        List<String> columns = phaseColumns(cases);
        md.append("\n## Phase times\n\n");
        if (columns.isEmpty()) {
            md.append("No phase was timed.\n");
            return md.toString();
        }
        md.append("Milliseconds per phase and cycle; a failed phase is marked FAILED.\n\n| case |");
        columns.forEach(col -> md.append(' ').append(cell(col)).append(" |"));
        md.append("\n|---|");
        columns.forEach(col -> md.append("---:|"));
        md.append('\n');
        for (CaseResult c : cases) {
            Map<String, Phase> byColumn = new LinkedHashMap<>();
            c.phases().forEach(p -> byColumn.put(column(p), p));
            md.append("| ").append(cell(c.name())).append(" |");
            for (String col : columns) {
                Phase p = byColumn.get(col);
                md.append(' ');
                if (p != null) {
                    md.append(millis(p.millis()));
                    if ("failed".equals(p.status())) {
                        md.append(" FAILED");
                    }
                }
                md.append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    /** Every (phase, cycle) seen, by cycle, then in the order phase names first appear. */
    static List<String> phaseColumns(List<CaseResult> cases) {
        List<String> nameOrder = new ArrayList<>();
        Set<Phase> kinds = new LinkedHashSet<>();
        for (CaseResult c : cases) {
            for (Phase p : c.phases()) {
                if (!nameOrder.contains(p.name())) {
                    nameOrder.add(p.name());
                }
                kinds.add(new Phase(p.name(), p.cycle(), null, 0));
            }
        }
        return kinds.stream()
                .sorted(Comparator.comparingInt(Phase::cycle).thenComparingInt(p -> nameOrder.indexOf(p.name())))
                .map(MarkdownSummary::column)
                .toList();
    }

    private static String column(Phase p) {
        return column(p.name(), p.cycle());
    }

    private static String column(String name, int cycle) {
        return name + " " + cycle;
    }

    private static long count(List<CaseResult> cases, String status) {
        return cases.stream().filter(c -> status.equals(c.status())).count();
    }

    private static String statusCell(String status) {
        return "failed".equals(status) ? "**FAILED**" : status;
    }

    private static String millis(long ms) {
        return String.format(java.util.Locale.ROOT, "%,d", ms);
    }

    /** One table cell: no line breaks, pipes escaped. */
    static String cell(String text) {
        return text.replace("\\", "\\\\").replace("|", "\\|").replaceAll("[\\r\\n]+", " ").strip();
    }
}
