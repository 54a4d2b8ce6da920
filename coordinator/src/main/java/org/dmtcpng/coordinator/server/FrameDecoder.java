package org.dmtcpng.coordinator.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.dmtcpng.coordinator.protocol.FrameCodec;

/** Cuts the byte stream into frames; a bad header raises ProtocolException at once. */
final class FrameDecoder extends ByteToMessageDecoder {
  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= FrameCodec.HEADER_BYTES) {
      int at = in.readerIndex();
      int len;
      try {
        len = FrameCodec.payloadLength(in.getInt(at), in.getUnsignedShort(at + 4),
            in.getUnsignedShort(at + 6), in.getUnsignedInt(at + 8));
      } catch (RuntimeException e) {
        in.skipBytes(in.readableBytes()); // nothing after a bad header can be trusted
        throw e;
      }
      if (in.readableBytes() < FrameCodec.HEADER_BYTES + len) {
        return;
      }
      int type = in.getUnsignedShort(at + 6);
      in.skipBytes(FrameCodec.HEADER_BYTES);
      byte[] payload = new byte[len];
      in.readBytes(payload);
      out.add(FrameCodec.decodePayload(type, payload));
    }
  }
}
