package org.dmtcpng.fault;

import java.util.Random;

/** How big a campaign is: a short one in every CI run, a long one on request. */
final class Campaign {
  private Campaign() {}

  static boolean isLong() {
    return "long".equals(System.getProperty("fault.campaign", "short"));
  }

  static int rounds(int shortRounds, int longRounds) {
    return isLong() ? longRounds : shortRounds;
  }

  /** A seeded random source; the seed is printed so a failing round can be replayed. */
  static Random random(String campaign) {
    long seed = Long.getLong("fault.seed", System.nanoTime());
    System.out.println(campaign + ": seed " + seed + " (replay with -Dfault.seed=" + seed + ")");
    return new Random(seed);
  }
}
