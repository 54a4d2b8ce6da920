package org.dmtcpng.coordinator.barrier;

import java.util.HashMap;
import java.util.Map;

/**
 * Forked children the coordinator knows are on their way (docs/protocol.md 3.9). Before a fork
 * the parent connects for its child and sends ATTACH on that connection and EXPECT on its own,
 * both naming one token. The EXPECT counts the child in; the child's HELLO, or the end of its
 * connection without one, counts it out. The two arrive on different connections in either
 * order, so each token keeps a balance: positive while the child is awaited, negative when it
 * was settled before its EXPECT was read (the EXPECT is certain to come: the parent sent it
 * before anything else it will send).
 */
final class AwaitedChildren {
  private final Map<String, Integer> balance = new HashMap<>();
  private int awaited;

  void expect(String token) {
    add(token, 1);
  }

  void settle(String token) {
    add(token, -1);
  }

  /** How many announced children have not said HELLO (nor gone) yet. */
  int awaited() {
    return awaited;
  }

  /**
   * The parent is gone: every EXPECT it sent has been read, so a token of its still negative will
   * never be balanced.
   */
  void parentLeft(String parentUpid) {
    String prefix = parentUpid + "#";
    balance.entrySet().removeIf(e -> e.getValue() < 0 && e.getKey().startsWith(prefix));
  }

  private void add(String token, int delta) {
    int before = balance.getOrDefault(token, 0);
    int after = before + delta;
    if (after == 0) {
      balance.remove(token);
    } else {
      balance.put(token, after);
    }
    awaited += (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
  }
}
