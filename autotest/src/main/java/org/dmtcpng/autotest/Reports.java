package org.dmtcpng.autotest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Writes what happened in the two forms reports/ reads: Allure result files (one per case, its
 * phases as steps) and target/autotest-summary.json.
 */
public final class Reports {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Reports() {}

  public static void write(Path root, List<CaseResult> results) throws IOException {
    Path allure = root.resolve("target/allure-results");
    Files.createDirectories(allure);
    ArrayNode summary = JSON.createArrayNode();
    for (CaseResult r : results) {
      ObjectNode s = summary.addObject();
      s.put("case", r.name());
      s.put("status", r.status());
      s.put("reason", r.reason() == null ? "" : r.reason());
      ArrayNode phases = s.putArray("phases");
      for (CaseRun.Phase p : r.phases()) {
        ObjectNode ph = phases.addObject();
        ph.put("name", p.name());
        ph.put("cycle", p.cycle());
        ph.put("status", p.passed() ? "passed" : "failed");
        ph.put("millis", p.millis());
      }
      writeAllure(allure, r);
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(root.resolve("target/autotest-summary.json").toFile(), summary);
  }

  private static void writeAllure(Path dir, CaseResult r) throws IOException {
    String uuid = UUID.randomUUID().toString();
    ObjectNode o = JSON.createObjectNode();
    o.put("uuid", uuid);
    o.put("historyId", "autotest." + r.name());
    o.put("name", r.name());
    o.put("fullName", "autotest." + r.name());
    o.put("status", r.status().equals("passed") ? "passed" : r.status().equals("skipped") ? "skipped" : "failed");
    o.put("stage", "finished");
    o.put("start", r.startMillis());
    o.put("stop", r.stopMillis());
    if (r.reason() != null && !r.reason().isEmpty()) {
      o.putObject("statusDetails").put("message", r.reason());
    }
    ArrayNode labels = o.putArray("labels");
    labels.addObject().put("name", "suite").put("value", "autotest");
    labels.addObject().put("name", "framework").put("value", "dmtcp-autotest");
    ArrayNode steps = o.putArray("steps");
    long t = r.startMillis();
    for (CaseRun.Phase p : r.phases()) {
      ObjectNode st = steps.addObject();
      st.put("name", p.name() + (p.cycle() > 0 ? " (cycle " + p.cycle() + ")" : ""));
      st.put("status", p.passed() ? "passed" : "failed");
      st.put("stage", "finished");
      st.put("start", t);
      t += p.millis();
      st.put("stop", t);
    }
    JSON.writeValue(dir.resolve(uuid + "-result.json").toFile(), o);
  }
}
