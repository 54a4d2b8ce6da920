package org.dmtcpng.coordinator.barrier;

/** How a requested checkpoint ended. */
public enum Outcome {
  /** Every member wrote its image and runs again. */
  COMMITTED,
  /** A member died or failed before the commit; the others resumed. */
  ABORTED,
  /** Not started: a checkpoint or restart was already in progress. */
  BUSY,
  /** Not started: no process is connected. */
  NO_PEERS
}
