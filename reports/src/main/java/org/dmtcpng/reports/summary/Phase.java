package org.dmtcpng.reports.summary;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** One timed phase of an autotest case, e.g. {@code ckpt} of cycle 2. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Phase(String name, int cycle, String status, long millis) {
}
