package org.dmtcpng.coordinator.barrier;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.dmtcpng.coordinator.protocol.Frame;
import org.dmtcpng.coordinator.protocol.MessageType;

/**
 * The barrier protocol of docs/protocol.md (sections 3.4 and 3.5) as a plain state machine, the
 * same one spec-tla/Barrier.tla models. It is not thread-safe by design: the server calls it from
 * its single event-loop thread only. Every decision is made here; sending and writing files are
 * left to {@link Effects}.
 */
public final class Computation {
  public static final List<String> CHECKPOINT_STATES = List.of(
      "SUSPENDED", "FD_LEADER_ELECTION", "DRAINED", "CHECKPOINTED", "REFILLED", "RUNNING");
  public static final List<String> RESTART_STATES = List.of(
      "NS_PUBLISHED", "NS_RESOLVED", "REFILLED", "RUNNING");

  private enum Phase { IDLE, CHECKPOINT, ABORTING, RESTART_GATHER, RESTART }

  private final Effects fx;
  private final Supplier<String> newCompId;
  private final Map<Long, Member> members = new LinkedHashMap<>();
  private final Map<String, String> names = new HashMap<>();
  private final AwaitedChildren awaited = new AwaitedChildren();
  private String compId = "";
  private long generation;
  private long lastCommitted;
  private int interval;

  private Phase phase = Phase.IDLE;
  private List<String> sequence = List.of();
  private int step;
  private final Set<Long> participants = new HashSet<>();
  private final Set<Long> reached = new HashSet<>();
  private final Map<Long, CommittedGeneration.Image> images = new LinkedHashMap<>();
  private boolean committed;
  private boolean killAfter;
  private final List<Consumer<Outcome>> onEnd = new ArrayList<>();
  private long restartGeneration;
  private int restartExpected;

  public Computation(Effects fx, Supplier<String> newCompId, int interval) {
    this.fx = fx;
    this.newCompId = newCompId;
    this.interval = interval;
  }

  // ---- joining and leaving ------------------------------------------------------------------

  /**
   * A HELLO on connection id. Sends the WELCOME or REFUSED itself (before any ADVANCE the join
   * may trigger) and returns whether the process was accepted.
   */
  public boolean hello(long id, Frame hello) {
    Frame reply = answerHello(id, hello);
    fx.send(id, reply);
    if (reply.type() == MessageType.WELCOME && pendingRestartStart) {
      pendingRestartStart = false;
      startBarrier(Phase.RESTART, RESTART_STATES, restartGeneration);
    }
    if (reply.type() == MessageType.WELCOME && pendingAdmission == id) {
      pendingAdmission = -1;
      fx.send(id, Frame.of(MessageType.ADVANCE).with("state", sequence.get(step))
          .with("generation", currentGeneration()));
    }
    return reply.type() == MessageType.WELCOME;
  }

  private boolean pendingRestartStart;
  private long pendingAdmission = -1;

  private Frame answerHello(long id, Frame hello) {
    String upid = hello.require("upid");
    boolean restart = "1".equals(hello.get("restart"));
    for (Member m : members.values()) {
      if (m.upid.equals(upid)) {
        return refused("process " + upid + " is already connected");
      }
    }
    Member m = new Member(id, upid, hello.get("host", "?"), hello.get("program", "?"),
        hello.getLong("vpid", 0), hello.getLong("real_pid", 0), restart);
    long requestedInterval = hello.getLong("interval", -1);
    return restart ? helloRestart(m, hello) : helloLaunch(m, hello, requestedInterval);
  }

  private Frame helloLaunch(Member m, Frame hello, long requestedInterval) {
    String comp = hello.get("comp_id", "");
    if (!comp.isEmpty() && !compId.isEmpty() && !comp.equals(compId) && !members.isEmpty()) {
      return refused("computation " + comp + " is not the one this coordinator serves (" + compId + ")");
    }
    if (compId.isEmpty()) {
      compId = comp.isEmpty() ? newCompId.get() : comp;
    }
    if (requestedInterval >= 0) {
      interval = (int) requestedInterval;
    }
    members.put(m.id, m);
    // A process that joins while a checkpoint is still stopping its members is taken into the
    // generation: it is usually the child of a member, which waits for it before reporting
    // SUSPENDED, so that no image names a child the generation lacks. Later joiners wait.
    boolean admit = phase == Phase.CHECKPOINT && step == 0;
    boolean wait = phase != Phase.IDLE && !admit;
    m.waiting = wait;
    if (admit) {
      participants.add(m.id);
      pendingAdmission = m.id;
    }
    fx.log("process " + m.upid + " (" + m.program + ", pid " + m.realPid + " on " + m.host
        + ") joined" + (wait ? " during a barrier: it waits"
            : admit ? " while generation " + generation + " is stopping its members: it is one of them" : ""));
    if (!wait && !admit) {
      fx.idle();
    }
    return welcome(wait ? "WAIT" : "RUNNING");
  }

  private Frame helloRestart(Member m, Frame hello) {
    String comp = hello.require("comp_id");
    long gen = hello.getLong("generation", -1);
    long expected = hello.getLong("num_members", -1);
    if (gen < 1 || expected < 1) {
      return refused("a restart HELLO needs generation and num_members");
    }
    if (phase == Phase.RESTART_GATHER) {
      if (!comp.equals(compId) || gen != restartGeneration || expected != restartExpected) {
        return refused("restart of " + comp + " generation " + gen + " with " + expected
            + " members does not match the restart in progress (" + compId + " generation "
            + restartGeneration + ", " + restartExpected + " members)");
      }
    } else if (phase == Phase.IDLE && members.isEmpty()) {
      phase = Phase.RESTART_GATHER;
      compId = comp;
      restartGeneration = gen;
      restartExpected = (int) expected;
      names.clear();
      fx.log("restart of " + comp + " generation " + gen + ": waiting for " + expected + " processes");
    } else {
      return refused("computation " + compId + " is " + (phase == Phase.IDLE ? "running" : "busy")
          + "; restart into a coordinator of its own");
    }
    members.put(m.id, m);
    m.waiting = true;
    generation = Math.max(generation, gen);
    Frame welcome = welcome("WAIT");
    if (members.size() == restartExpected) {
      for (Member each : members.values()) {
        each.waiting = false;
      }
      pendingRestartStart = true;
    }
    return welcome;
  }

  /**
   * The coordinator's f: a restart still waiting for processes runs its barrier with those that
   * have joined, as if the image's generation had had only them; the missing ones are left out (a
   * late one is refused: the computation is busy, then running). Returns how many were missing,
   * or -1 when no restart is waiting.
   */
  public int forceRestart() {
    if (phase != Phase.RESTART_GATHER) {
      return -1;
    }
    int missing = restartExpected - members.size();
    fx.log("restart of generation " + restartGeneration + " forced with " + members.size() + " of "
        + restartExpected + " processes (" + missing + " missing, left out)");
    restartExpected = members.size();
    for (Member m : members.values()) {
      m.waiting = false;
    }
    startBarrier(Phase.RESTART, RESTART_STATES, restartGeneration);
    return missing;
  }

  public void disconnected(long id) {
    Member gone = members.remove(id);
    if (gone == null) {
      return;
    }
    boolean wasSuspended = reached.remove(id) || step > 0;
    awaited.parentLeft(gone.upid);
    fx.log("process " + gone.upid + " (" + gone.program + ") left");
    switch (phase) {
      case CHECKPOINT -> {
        if (participants.remove(id)) {
          if (!committed && !wasSuspended && !participants.isEmpty()) {
            // It ended before the checkpoint stopped it (a short-lived child exiting, say): the
            // generation goes on without it, as if it had ended just before the request.
            fx.log("process " + gone.upid + " ended before it was suspended; generation "
                + currentGeneration() + " goes on without it");
            maybeStepComplete();
          } else if (!committed) {
            abort("process " + gone.upid + " left during the checkpoint");
          } else {
            images.remove(id);
            maybeStepComplete();
          }
        }
      }
      case ABORTING -> {
        participants.remove(id);
        maybeAbortDone();
      }
      case RESTART_GATHER, RESTART -> {
        if (restartReleased()) {
          // ADVANCE RUNNING went out: the computation runs, and a process that exits at once is an
          // ordinary departure (spec-tla: Notice, ReleasedNeverKilled). The others go on.
          participants.remove(id);
          fx.log("process " + gone.upid + " ended after the restart of generation " + restartGeneration
              + " released it; the others go on");
          if (participants.isEmpty()) {
            finish(true);
          } else {
            maybeStepComplete();
          }
          break;
        }
        fx.log("restart of generation " + restartGeneration + " failed: process " + gone.upid
            + " is missing; the others are killed");
        for (Member m : members.values()) {
          fx.send(m.id, Frame.of(MessageType.KILL));
        }
        participants.clear();
        phase = Phase.IDLE;
      }
      case IDLE -> { }
    }
    maybeEmpty();
  }

  /** No member left and none on its way: the computation is over (--exit-on-last). */
  private void maybeEmpty() {
    if (members.isEmpty() && awaited.awaited() == 0) {
      names.clear();
      compId = "";
      fx.empty();
    }
  }

  // ---- forked children on their way (docs/protocol.md 3.9) -----------------------------------

  /** EXPECT from member id: a child it is forking will say HELLO (or end) on its own connection. */
  public void expect(long id, String token) {
    if (members.containsKey(id)) {
      awaited.expect(token);
    }
  }

  /**
   * The connection ATTACHed with token said HELLO (after {@link #hello}) or ended without one: the
   * child is no longer on its way. A checkpoint waiting at SUSPENDED for it may go on.
   */
  public void settle(String token) {
    awaited.settle(token);
    if (phase == Phase.CHECKPOINT) {
      maybeStepComplete();
    }
    maybeEmpty();
  }

  /** Children announced by a fork that have not joined yet. */
  public int awaitedChildren() {
    return awaited.awaited();
  }

  // ---- the barrier --------------------------------------------------------------------------

  /** dmtcp_command -c/-bc/-kc, the interval timer and CKPT_REQUEST all come here. */
  public Outcome requestCheckpoint(boolean killAfterwards, Consumer<Outcome> whenDone) {
    if (phase != Phase.IDLE) {
      return Outcome.BUSY;
    }
    if (members.isEmpty()) {
      return Outcome.NO_PEERS;
    }
    killAfter = killAfterwards;
    if (whenDone != null) {
      onEnd.add(whenDone);
    }
    startBarrier(Phase.CHECKPOINT, CHECKPOINT_STATES, ++generation);
    return null;
  }

  private void startBarrier(Phase kind, List<String> states, long gen) {
    phase = kind;
    sequence = states;
    step = 0;
    committed = false;
    images.clear();
    participants.clear();
    for (Member m : members.values()) {
      if (!m.waiting) {
        participants.add(m.id);
      }
    }
    if (kind == Phase.CHECKPOINT) {
      fx.log("checkpoint generation " + gen + " of " + participants.size() + " processes");
    }
    advance();
  }

  /** The restart barrier has sent ADVANCE RUNNING: its members run the program again. */
  private boolean restartReleased() {
    return phase == Phase.RESTART && sequence.get(step).equals("RUNNING");
  }

  private long currentGeneration() {
    return phase == Phase.RESTART ? restartGeneration : generation;
  }

  private void advance() {
    reached.clear();
    String state = sequence.get(step);
    for (long id : participants) {
      Member m = members.get(id);
      Frame f = Frame.of(MessageType.ADVANCE).with("state", state)
          .with("generation", currentGeneration());
      if (state.equals("CHECKPOINTED")) {
        f.with("num_members", participants.size());
      }
      fx.send(id, f);
      if (m != null) {
        m.state = "->" + state;
      }
    }
  }

  public void reached(long id, Frame f) {
    Member m = members.get(id);
    if (m == null) {
      return;
    }
    String state = f.get("state", "");
    long gen = f.getLong("generation", -1);
    if (phase == Phase.ABORTING) {
      if (state.equals("RUNNING") && participants.contains(id)) {
        m.state = "RUNNING";
        reached.add(id);
        maybeAbortDone();
      }
      return;
    }
    if ((phase != Phase.CHECKPOINT && phase != Phase.RESTART) || !participants.contains(id)
        || !state.equals(sequence.get(step)) || gen != currentGeneration()) {
      fx.log("ignored REACHED " + state + " generation " + gen + " from " + m.upid);
      return;
    }
    m.state = state;
    if (state.equals("CHECKPOINTED") && phase == Phase.CHECKPOINT) {
      String error = f.get("error");
      if (error != null) {
        abort("process " + m.upid + " could not write its image: " + error);
        return;
      }
      images.put(id, new CommittedGeneration.Image(m.upid, f.get("host", m.host), m.program,
          f.get("image", "")));
    }
    reached.add(id);
    maybeStepComplete();
  }

  private boolean everyParticipantReached() {
    return reached.size() >= participants.size(); // reached is a subset of participants: O(1)
  }

  private void maybeStepComplete() {
    if (!everyParticipantReached()) {
      return;
    }
    if (phase == Phase.CHECKPOINT && step == 0 && awaited.awaited() > 0 && !participants.isEmpty()) {
      // A member forked a child before it was stopped: the child joins this generation (it is
      // admitted at SUSPENDED) before the generation may go on without it.
      return;
    }
    if (participants.isEmpty()) {
      finish(committed); // everyone left: a committed generation stays committed
      return;
    }
    String done = sequence.get(step);
    if (phase == Phase.CHECKPOINT && done.equals("CHECKPOINTED")) {
      committed = true;
      lastCommitted = generation;
      fx.committed(new CommittedGeneration(compId, generation, List.copyOf(images.values())));
      fx.log("generation " + generation + " committed: " + images.size() + " images");
    }
    if (phase == Phase.CHECKPOINT && done.equals("REFILLED") && killAfter) {
      // -kc: every image has its final name. Kill before ADVANCE RUNNING, so that no member runs
      // again: a parent that saw its child die first would act on it (gcc's driver deletes the
      // temporary files the restarted child needs).
      fx.log("generation " + generation + " in place: every process is killed before it resumes");
      killAll(); // the waiting ones too, before finish releases them
      killAfter = false;
      finish(true);
      return;
    }
    step++;
    if (step == sequence.size()) {
      finish(true);
    } else {
      advance();
    }
  }

  private void abort(String reason) {
    fx.log("checkpoint generation " + generation + " aborted: " + reason);
    phase = Phase.ABORTING;
    reached.clear();
    for (long id : participants) {
      fx.send(id, Frame.of(MessageType.ABORT).with("generation", generation).with("reason", reason));
    }
    maybeAbortDone();
  }

  private void maybeAbortDone() {
    if (everyParticipantReached()) {
      finish(false);
    }
  }

  private void finish(boolean success) {
    boolean wasRestart = phase == Phase.RESTART;
    phase = Phase.IDLE;
    participants.clear();
    for (Member m : members.values()) {
      m.state = "RUNNING";
      if (m.waiting) {
        m.waiting = false;
        fx.send(m.id, Frame.of(MessageType.ADVANCE).with("state", "RUNNING")
            .with("generation", generation));
      }
    }
    if (wasRestart) {
      lastCommitted = Math.max(lastCommitted, restartGeneration);
      fx.log("restart of generation " + restartGeneration + " complete: " + members.size()
          + " processes running");
    }
    List<Consumer<Outcome>> callbacks = new ArrayList<>(onEnd);
    onEnd.clear();
    Outcome outcome = success ? Outcome.COMMITTED : Outcome.ABORTED;
    boolean kill = killAfter && success && !wasRestart;
    killAfter = false;
    for (Consumer<Outcome> c : callbacks) {
      c.accept(outcome);
    }
    if (kill) {
      killAll();
    }
    fx.idle();
  }

  public void killAll() {
    for (Member m : members.values()) {
      fx.send(m.id, Frame.of(MessageType.KILL));
    }
  }

  // ---- name service and updates ---------------------------------------------------------------

  public Frame publish(String key, String value) {
    names.put(key, value);
    return Frame.of(MessageType.NS_ANSWER).with("key", key).with("status", "OK");
  }

  public Frame query(String key) {
    String value = names.get(key);
    Frame f = Frame.of(MessageType.NS_ANSWER).with("key", key);
    return value == null ? f.with("status", "NOT_FOUND") : f.with("status", "OK").with("value", value);
  }

  /** Every entry whose key starts with prefix, as repeated key and value fields (in key order). */
  public Frame list(String prefix) {
    Frame f = Frame.of(MessageType.NS_ANSWER).with("prefix", prefix).with("status", "OK");
    names.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).sorted(Map.Entry.comparingByKey())
        .forEach(e -> f.with("key", e.getKey()).with("value", e.getValue()));
    return f;
  }

  public void update(long id, Frame f) {
    Member m = members.get(id);
    if (m != null) {
      m.program = f.get("program", m.program);
      m.realPid = f.getLong("real_pid", m.realPid);
    }
  }

  // ---- what dmtcp_command sees ----------------------------------------------------------------

  public int numPeers() {
    return members.size();
  }

  public boolean running() {
    return phase == Phase.IDLE && !members.isEmpty();
  }

  public boolean idle() {
    return phase == Phase.IDLE;
  }

  public int interval() {
    return interval;
  }

  public void setInterval(int seconds) {
    interval = seconds;
  }

  public String compId() {
    return compId;
  }

  public long generation() {
    return generation;
  }

  public long lastCommitted() {
    return lastCommitted;
  }

  public Collection<Member> members() {
    return List.copyOf(members.values());
  }

  private Frame welcome(String state) {
    return Frame.of(MessageType.WELCOME).with("comp_id", compId)
        .with("coord_pid", ProcessHandle.current().pid()).with("interval", interval)
        .with("generation", generation).with("state", state);
  }

  private static Frame refused(String reason) {
    return Frame.of(MessageType.REFUSED).with("reason", reason);
  }
}
