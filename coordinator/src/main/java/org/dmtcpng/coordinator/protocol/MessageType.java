package org.dmtcpng.coordinator.protocol;

/** Message types of docs/protocol.md, section 3. */
public final class MessageType {
  public static final int HELLO = 1;
  public static final int WELCOME = 2;
  public static final int REFUSED = 3;
  public static final int ADVANCE = 10;
  public static final int REACHED = 11;
  public static final int ABORT = 12;
  public static final int KILL = 13;
  public static final int BYE = 14;
  public static final int UPDATE = 15;
  public static final int ATTACH = 16;
  public static final int EXPECT = 17;
  public static final int NS_PUBLISH = 20;
  public static final int NS_QUERY = 21;
  public static final int NS_ANSWER = 22;
  public static final int NS_LIST = 23;
  public static final int COMMAND = 30;
  public static final int COMMAND_RESULT = 31;
  public static final int CKPT_REQUEST = 32;

  private MessageType() {}

  public static boolean isKnown(int type) {
    return switch (type) {
      case HELLO, WELCOME, REFUSED, ADVANCE, REACHED, ABORT, KILL, BYE, UPDATE, ATTACH, EXPECT, NS_PUBLISH,
          NS_QUERY, NS_ANSWER, NS_LIST, COMMAND, COMMAND_RESULT, CKPT_REQUEST -> true;
      default -> false;
    };
  }
}
