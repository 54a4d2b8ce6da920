package org.dmtcpng.spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What one TLC run said: exit code, state counts, and what was violated. */
record TlcResult(String model, int exitCode, long distinctStates, long statesGenerated,
                 boolean completedWithoutError, List<String> violatedInvariants,
                 boolean temporalViolated, List<String> errorLines, Path log) {

    /** TLC's exit codes (tlc2.output.EC.ExitStatus). */
    static final int EXIT_OK = 0;
    static final int EXIT_VIOLATION_SAFETY = 12;
    static final int EXIT_VIOLATION_LIVENESS = 13;

    private static final Pattern FINAL_COUNTS = Pattern.compile(
            "^([\\d,]+) states generated, ([\\d,]+) distinct states found, ([\\d,]+) states left on queue\\.",
            Pattern.MULTILINE);
    private static final Pattern INVARIANT = Pattern.compile("^Error: Invariant (\\w+) is violated", Pattern.MULTILINE);

    static TlcResult parse(String model, int exitCode, String output, Path log) {
        long distinct = -1;
        long generated = -1;
        Matcher counts = FINAL_COUNTS.matcher(output);
        while (counts.find()) {          // the last such line is the final one
            generated = number(counts.group(1));
            distinct = number(counts.group(2));
        }
        List<String> invariants = new ArrayList<>();
        Matcher inv = INVARIANT.matcher(output);
        while (inv.find()) {
            invariants.add(inv.group(1));
        }
        List<String> errors = output.lines().filter(l -> l.startsWith("Error:")).toList();
        return new TlcResult(model, exitCode, distinct, generated,
                output.contains("Model checking completed. No error has been found."),
                List.copyOf(invariants),
                output.contains("Error: Temporal properties were violated."),
                errors, log);
    }

    private static long number(String digits) {
        return Long.parseLong(digits.replace(",", ""));
    }

    String describe() {
        return model + ": exit " + exitCode + ", " + distinctStates + " distinct states, errors " + errorLines
                + " (output in " + log + ")";
    }
}
