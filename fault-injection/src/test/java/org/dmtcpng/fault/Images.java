package org.dmtcpng.fault;

import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What readdmtcp says of an image. */
final class Images {
  private static final Pattern GENERATION = Pattern.compile("(?im)^\\s*generation\\s*[:=]\\s*(\\d+)");

  private Images() {}

  /** readdmtcp --verify: exit 0 and every checksum right. */
  static Bin.Result verify(Path image) throws IOException, InterruptedException {
    return Bin.run(120, image.getParent(), Bin.path("readdmtcp"), "--verify", image.toString());
  }

  /** The generation recorded in the image's header. */
  static long generation(Path image) throws IOException, InterruptedException {
    Bin.Result r = Bin.run(60, image.getParent(), Bin.path("readdmtcp"), image.toString());
    Matcher m = GENERATION.matcher(r.stdout());
    if (r.exitCode() != 0 || !m.find()) {
      throw new AssertionError("readdmtcp gave no generation for " + image + ": " + r);
    }
    return Long.parseLong(m.group(1));
  }
}
