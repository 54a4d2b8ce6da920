package org.dmtcpng.coordinator.barrier;

import org.dmtcpng.coordinator.protocol.Frame;

/** What the barrier state machine asks the world to do; the server carries it out. */
public interface Effects {
  void send(long member, Frame frame);

  /** Called at the commit point, before any member is told to rename its image. */
  void committed(CommittedGeneration generation);

  /** The computation became idle (a generation ended, or a member joined an idle computation). */
  void idle();

  /** The last member left. */
  void empty();

  void log(String line);
}
