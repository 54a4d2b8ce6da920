package org.dmtcpng.coordinator.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.FrameCodec;

/** Frames to bytes. */
@Sharable
final class FrameEncoder extends MessageToByteEncoder<Frame> {
  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
    out.writeBytes(FrameCodec.encode(frame));
  }
}
