package org.dmtcpng.reports.summary;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One entry of autotest-summary.json. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CaseResult(@JsonProperty("case") String name, String status, String reason, List<Phase> phases) {
    public CaseResult {
        phases = phases == null ? List.of() : List.copyOf(phases);
    }
}
