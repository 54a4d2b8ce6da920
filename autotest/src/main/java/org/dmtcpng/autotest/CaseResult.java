package org.dmtcpng.autotest;

import java.util.List;

/** How a case ended: passed, failed or skipped, why, and its phases. */
public record CaseResult(String name, String status, String reason, List<CaseRun.Phase> phases,
    long startMillis, long stopMillis, String keptIn) {}
