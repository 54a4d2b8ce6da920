package org.dmtcpng.coordinator.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.coordinator.barrier.CommittedGeneration;
import org.dmtcpng.coordinator.barrier.Computation;
import org.dmtcpng.coordinator.barrier.Effects;
import org.dmtcpng.coordinator.barrier.Outcome;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.MessageType;
import org.dmtcpng.coordinator.protocol.ProtocolException;
import org.dmtcpng.coordinator.script.RestartScript;

/**
 * The coordinator's network side: one Netty event-loop thread owns every connection and the
 * {@link Computation}, so the state machine needs no locks. Process connections feed it events;
 * command connections (dmtcp_command) query and drive it.
 */
public final class CoordinatorServer implements Effects, AutoCloseable {
  /** How the coordinator was started. */
  public record Config(String bindHost, int port, Path ckptDir, int interval, boolean exitOnLast,
      boolean exitAfterCkpt, String restartBinary) {}

  private final Config config;
  private final Log log;
  private final Runnable exit;
  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private final Map<Long, Channel> channels = new HashMap<>();
  private final Computation computation;
  private Channel listener;
  private int port;
  private long nextId = 1;
  private ScheduledFuture<?> intervalTimer;
  private Path restartScript;
  private boolean everJoined;
  private int handshaking; // connections that have not said HELLO or COMMAND yet
  private boolean exitCheckPending;
  private boolean committedOnce;

  public CoordinatorServer(Config config, Log log, Runnable exit) {
    this.config = config;
    this.log = log;
    this.exit = exit;
    String hostId = Long.toHexString(RestartScript.localHostName().hashCode() & 0xffffffffL);
    this.computation = new Computation(this,
        () -> String.format("%8s-%d-%x", hostId, ProcessHandle.current().pid(),
            System.currentTimeMillis()).replace(' ', '0'),
        config.interval());
  }

  /** Binds the port; returns the port actually bound. Throws if it is taken. */
  public int start() throws InterruptedException {
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 16384)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new FrameDecoder(), new FrameEncoder(), new Connection());
          }
        });
    InetSocketAddress addr = config.bindHost() == null ? new InetSocketAddress(config.port())
        : new InetSocketAddress(config.bindHost(), config.port());
    listener = b.bind(addr).sync().channel();
    port = ((InetSocketAddress) listener.localAddress()).getPort();
    return port;
  }

  public int port() {
    return port;
  }

  /** Runs task on the coordinator's thread (for the interactive commands). */
  public void execute(Runnable task) {
    group.execute(task);
  }

  public Computation computation() {
    return computation;
  }

  public Path restartScript() {
    return restartScript;
  }

  @Override
  public void close() {
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  // ---- Effects ---------------------------------------------------------------------------------

  @Override
  public void send(long member, Frame frame) {
    Channel ch = channels.get(member);
    if (ch != null) {
      ch.writeAndFlush(frame, ch.voidPromise());
    }
  }

  @Override
  public void committed(CommittedGeneration generation) {
    committedOnce = true;
    try {
      RestartScript writer = new RestartScript(config.ckptDir(), config.restartBinary(),
          RestartScript.localHostName(), port);
      restartScript = writer.write(generation);
    } catch (IOException e) {
      log.warn("cannot write the restart script in " + config.ckptDir() + ": " + e.getMessage());
    }
  }

  @Override
  public void idle() {
    rescheduleInterval();
  }

  @Override
  public void empty() {
    maybeExitOnLast();
  }

  /**
   * --exit-on-last: exit once no member is left, no forked child is on its way and no connection
   * has yet to say what it is (a program started by posix_spawn joins on its own), and still so a
   * moment later. Called whenever one of the three changes.
   */
  private void maybeExitOnLast() {
    if (!config.exitOnLast() || !everJoined || exitCheckPending || !nobodyLeft()) {
      return;
    }
    exitCheckPending = true;
    group.schedule(() -> {
      exitCheckPending = false;
      if (nobodyLeft()) {
        log.note("last process left; exiting (--exit-on-last)");
        exit.run();
      }
    }, 50, TimeUnit.MILLISECONDS);
  }

  private boolean nobodyLeft() {
    return computation.numPeers() == 0 && computation.awaitedChildren() == 0 && handshaking == 0;
  }

  @Override
  public void log(String line) {
    log.note(line);
  }

  // ---- checkpoints --------------------------------------------------------------------------------

  /** Starts a checkpoint; whenDone (may be null) hears how it ended. */
  public Outcome checkpoint(boolean killAfter, java.util.function.Consumer<Outcome> whenDone) {
    boolean kill = killAfter || (config.exitAfterCkpt() && !committedOnce);
    return computation.requestCheckpoint(kill, whenDone);
  }

  public void setInterval(int seconds) {
    computation.setInterval(seconds);
    rescheduleInterval();
  }

  private void rescheduleInterval() {
    if (intervalTimer != null) {
      intervalTimer.cancel(false);
      intervalTimer = null;
    }
    int seconds = computation.interval();
    if (seconds > 0 && computation.numPeers() > 0) {
      intervalTimer = group.schedule(() -> {
        intervalTimer = null;
        if (checkpoint(false, null) == Outcome.BUSY) {
          rescheduleInterval();
        }
      }, seconds, TimeUnit.SECONDS);
    }
  }

  /** Answers a COMMAND frame; reply is called once, on this thread. */
  void command(Frame request, java.util.function.Consumer<Frame> reply) {
    String command = request.get("command", "");
    switch (command) {
      case "status", "list" -> reply.accept(result("DMT_COORD_SUCCESS", command.equals("list")));
      case "checkpoint" -> {
        Outcome o = checkpoint(false, null);
        reply.accept(result(o == null ? "DMT_COORD_SUCCESS" : "DMT_COORD_NOT_RUNNING", false));
      }
      case "bcheckpoint", "kcheckpoint" -> {
        Outcome o = checkpoint(command.equals("kcheckpoint"), done -> reply.accept(
            result(done == Outcome.COMMITTED ? "DMT_COORD_SUCCESS" : "DMT_COORD_CKPT_FAILED", false)));
        if (o != null) {
          reply.accept(result("DMT_COORD_NOT_RUNNING", false));
        }
      }
      case "interval" -> {
        long seconds = request.getLong("interval", -1);
        if (seconds < 0 || seconds > Integer.MAX_VALUE) {
          reply.accept(result("DMT_COORD_ERROR", false).with("message", "interval needs a number of seconds"));
        } else {
          setInterval((int) seconds);
          reply.accept(result("DMT_COORD_SUCCESS", false));
        }
      }
      case "kill" -> {
        computation.killAll();
        reply.accept(result("DMT_COORD_SUCCESS", false));
      }
      case "quit" -> {
        computation.killAll();
        // Stop listening before answering: once `dmtcp_command -q` returns, the port is free and
        // no one can reach this coordinator any more (job scripts start a new one right after).
        // (On the event loop, as here, the close happens at once.)
        if (listener != null) {
          listener.close();
        }
        reply.accept(result("DMT_COORD_SUCCESS", false));
        log.note("quit requested; exiting");
        group.schedule(exit, 100, TimeUnit.MILLISECONDS);
      }
      default -> reply.accept(result("DMT_COORD_ERROR", false).with("message", "unknown command " + command));
    }
  }

  public Frame result(String status, boolean withPeers) {
    Frame f = Frame.of(MessageType.COMMAND_RESULT)
        .with("command_status", status)
        .with("num_peers", computation.numPeers())
        .with("running", computation.running() ? "yes" : "no")
        .with("checkpoint_interval", computation.interval())
        .with("comp_id", computation.compId())
        .with("generation", computation.generation())
        .with("last_ckpt_generation", computation.lastCommitted())
        .with("restart_script", restartScript == null ? "" : restartScript.toString())
        .with("ckpt_dir", config.ckptDir().toString());
    if (withPeers) {
      for (var m : computation.members()) {
        f.with("peer", m.vpid() + "\t" + m.upid() + "\t" + m.host() + "\t" + m.program() + "\t"
            + m.state() + "\t" + m.realPid());
      }
    }
    return f;
  }

  // ---- one connection -----------------------------------------------------------------------------

  private final class Connection extends SimpleChannelInboundHandler<Frame> {
    private long memberId;
    private boolean commandConnection;
    private String attachToken; // ATTACH: a forked child's connection, until its HELLO settles it
    private boolean greeting;   // counted in handshaking: no HELLO or COMMAND yet

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      greeting = true;
      handshaking++;
    }

    private void greeted() {
      if (greeting) {
        greeting = false;
        handshaking--;
        maybeExitOnLast();
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
      if (memberId == 0 && !commandConnection) {
        if (f.type() == MessageType.ATTACH && attachToken == null) {
          attachToken = f.require("token");
          return;
        }
        if (f.type() == MessageType.HELLO) {
          join(ctx, f);
          return;
        }
        if (f.type() == MessageType.COMMAND && attachToken == null) {
          commandConnection = true;
          greeted();
        } else {
          throw new ProtocolException("first message must be HELLO or COMMAND, not type " + f.type());
        }
      }
      if (commandConnection) {
        if (f.type() != MessageType.COMMAND) {
          throw new ProtocolException("message type " + f.type() + " on a command connection");
        }
        command(f, reply -> {
          if (ctx.channel().isActive()) {
            ctx.writeAndFlush(reply);
          }
        });
        return;
      }
      switch (f.type()) {
        case MessageType.REACHED -> computation.reached(memberId, f);
        case MessageType.BYE -> ctx.close();
        case MessageType.UPDATE -> computation.update(memberId, f);
        case MessageType.EXPECT -> computation.expect(memberId, f.require("token"));
        case MessageType.NS_PUBLISH -> ctx.writeAndFlush(computation.publish(f.require("key"), f.get("value", "")));
        case MessageType.NS_QUERY -> ctx.writeAndFlush(computation.query(f.require("key")));
        case MessageType.NS_LIST -> ctx.writeAndFlush(computation.list(f.get("prefix", "")));
        case MessageType.CKPT_REQUEST -> checkpoint(false, null);
        default -> throw new ProtocolException("message type " + f.type() + " is not valid here");
      }
    }

    private void join(ChannelHandlerContext ctx, Frame hello) {
      greeted();
      memberId = nextId++;
      channels.put(memberId, ctx.channel());
      everJoined = true;
      if (!computation.hello(memberId, hello)) {
        channels.remove(memberId);
        memberId = 0;
        ctx.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      settleAttachment();
    }

    private void settleAttachment() {
      if (attachToken != null) {
        String token = attachToken;
        attachToken = null;
        computation.settle(token);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (memberId != 0) {
        channels.remove(memberId);
        long id = memberId;
        memberId = 0;
        computation.disconnected(id);
      } else if (greeting) {
        greeted();
        settleAttachment(); // a forked child that ended before its HELLO, or a fork that failed
      }
    }

    private boolean failed;

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (failed) {
        return; // one line per connection: later errors are echoes of the first
      }
      failed = true;
      Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
      String reason = root instanceof ProtocolException ? root.getMessage()
          : root instanceof IOException ? "connection error: " + root.getMessage()
          : root.toString();
      log.warn("closing connection from " + ctx.channel().remoteAddress() + ": " + reason);
      ctx.close();
    }
  }
}
