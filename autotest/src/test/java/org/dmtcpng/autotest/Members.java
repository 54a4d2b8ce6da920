package org.dmtcpng.autotest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The members of a computation as `dmtcp_command --json --list` tells them. */
final class Members {
  /** One member: its program, the host name it reported, its state. */
  record Member(String program, String host, String state) {}

  private Members() {}

  static List<Member> of(String dmtcpCommand, String port) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(dmtcpCommand, "-p", port, "--json", "--list").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      return List.of();
    }
    List<Member> members = new ArrayList<>();
    for (JsonNode n : new ObjectMapper().readTree(out).path("peers")) {
      members.add(new Member(n.path("program").asText(), n.path("host").asText(), n.path("state").asText()));
    }
    return members;
  }
}
