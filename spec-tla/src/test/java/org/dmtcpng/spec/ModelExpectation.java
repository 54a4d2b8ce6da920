package org.dmtcpng.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a model must give, from its {@code \* EXPECT:} line:
 * {@code pass}, {@code invariant <Name>} (a broken variant whose named
 * invariant TLC must find violated) or {@code liveness} (a broken variant
 * whose temporal property TLC must find violated).
 */
record ModelExpectation(Kind kind, String invariant) {
    enum Kind { PASS, INVARIANT, LIVENESS }

    static ModelExpectation of(Path config) throws IOException {
        for (String line : Files.readAllLines(config)) {
            String l = line.strip();
            if (!l.startsWith("\\* EXPECT:")) {
                continue;
            }
            String[] words = l.substring("\\* EXPECT:".length()).strip().split("\\s+");
            switch (words[0]) {
                case "pass": return new ModelExpectation(Kind.PASS, null);
                case "liveness": return new ModelExpectation(Kind.LIVENESS, null);
                case "invariant":
                    if (words.length == 2) {
                        return new ModelExpectation(Kind.INVARIANT, words[1]);
                    }
                    break;
                default:
                    break;
            }
            throw new IllegalArgumentException(config + ": bad EXPECT line: " + l);
        }
        throw new IllegalArgumentException(config + ": no \\* EXPECT: line");
    }
}
