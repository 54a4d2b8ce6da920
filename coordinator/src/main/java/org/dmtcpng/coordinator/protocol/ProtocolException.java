package org.dmtcpng.coordinator.protocol;

/** A peer broke the protocol; the message says how, in one line. */
public final class ProtocolException extends RuntimeException {
  public ProtocolException(String message) {
    super(message);
  }
}
