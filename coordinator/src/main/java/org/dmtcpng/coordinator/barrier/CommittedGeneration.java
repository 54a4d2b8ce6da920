package org.dmtcpng.coordinator.barrier;

import java.util.List;

/** A generation whose every member wrote its image: what the restart script needs. */
public record CommittedGeneration(String compId, long generation, List<Image> images) {
  /** One member's image. */
  public record Image(String upid, String host, String program, String path) {}
}
