package org.dmtcpng.coordinator.barrier;

/** A process connected to the coordinator, as its HELLO described it. */
public final class Member {
  final long id;
  final String upid;
  final String host;
  final boolean restarted;
  String program;
  long vpid;
  long realPid;
  String state;
  boolean waiting;

  Member(long id, String upid, String host, String program, long vpid, long realPid,
      boolean restarted) {
    this.id = id;
    this.upid = upid;
    this.host = host;
    this.program = program;
    this.vpid = vpid;
    this.realPid = realPid;
    this.restarted = restarted;
    this.state = restarted ? "RESTARTING" : "RUNNING";
  }

  public long id() {
    return id;
  }

  public String upid() {
    return upid;
  }

  public String host() {
    return host;
  }

  public String program() {
    return program;
  }

  public long vpid() {
    return vpid;
  }

  public long realPid() {
    return realPid;
  }

  public String state() {
    return waiting ? "WAITING" : state;
  }
}
