------------------------------- MODULE Barrier -------------------------------
(***************************************************************************)
(* The coordinator's checkpoint barrier and restart protocol of            *)
(* docs/protocol.md (wire protocol v1), abstracted:                         *)
(*                                                                          *)
(*  * a message ADVANCE state=S is the coordinator setting cstate to S;    *)
(*    each member then takes its own Step at its own time (interleaving    *)
(*    stands for message delay), and REACHED is that Step recording S in  *)
(*    rep[p], the coordinator's view of the member;                        *)
(*  * a crash is instantaneous, but the coordinator learns of it only      *)
(*    later (Notice = the socket closing), so it may still count a         *)
(*    REACHED the member sent before dying;                                 *)
(*  * the disk holds per process (per upid) the final image and the .part  *)
(*    file, each as the generation written into it (0 = no file), and the  *)
(*    restart script (the last committed generation and its members);     *)
(*    the disk survives crashes of processes and of the coordinator.       *)
(*                                                                          *)
(* Ghost variables (att, attMembers, written, suspendedIn, patt,           *)
(* committedAtts, abortedAtts, rjoined) exist only to state the           *)
(* invariants. Each checkpoint attempt gets its own id because a generation number can be   *)
(* reused after a restart (a restarted computation counts on from the      *)
(* generation it was restarted from, so an aborted G+1 may come again).    *)
(*                                                                          *)
(* Fork and exec (docs/protocol.md 3.9): a forked child is announced by    *)
(* its parent (EXPECT, read before anything the parent sends later) and    *)
(* joins without waiting; an exec keeps the connection and the upid, so it *)
(* is not a departure. --exit-on-last exits when no member is left and no  *)
(* announced child is on its way.                                          *)
(*                                                                          *)
(* Bug selects a deliberately broken variant, used to prove that TLC       *)
(* catches the violation ("none" is the real protocol).                    *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    Procs,            \* upids that may ever exist
    MaxAttempts,      \* bound on checkpoint generations started
    MaxCrashes,       \* bound on process crashes (a BYE counts as one)
    MaxCoordCrashes,  \* bound on coordinator crashes
    MaxRestarts,      \* bound on restarts from disk (dmtcp_restart)
    MaxWriteErrors,   \* bound on images that cannot be written (disk full, ...)
    MaxForks,         \* bound on forks
    MaxExecs,         \* bound on execs
    ExitOnLast,       \* the coordinator was started with --exit-on-last
    Bug               \* "none" or the name of a broken variant

Bugs == {"none",
         "early_commit",         \* commit when one member (not all) has its image
         "commit_without_dead",  \* a member dying before the commit does not abort
         "release_early",        \* release a restart before all N members are back
         "delete_part_on_loss",  \* drop the .part when the coordinator is lost
         "no_finish_commit",     \* reconnecting processes are not told to finish a commit
         "commit_after_abort",   \* REACHED CHECKPOINTED still counted after ABORT
         "ignore_disconnect",    \* a disconnect during the barrier goes unnoticed
         "drop_suspended",       \* a member dying after it was suspended is dropped, not aborted
         "ignore_write_error",   \* REACHED CHECKPOINTED error=... counted as success
         "kill_after_release",   \* a member leaving after the restart's release still KILLs the rest
         "exec_reconnects",      \* exec closes the connection and the new program joins afresh
         "no_expect",            \* a fork is not announced: the child is unknown until its HELLO
         "ignore_awaited"}       \* SUSPENDED completes while an announced child has not joined
ASSUME Bug \in Bugs
ASSUME MaxAttempts \in Nat /\ MaxCrashes \in Nat
ASSUME MaxCoordCrashes \in Nat /\ MaxRestarts \in Nat /\ MaxWriteErrors \in Nat
ASSUME MaxForks \in Nat /\ MaxExecs \in Nat /\ ExitOnLast \in BOOLEAN

Attempts == 1..MaxAttempts

\* States of a process (pst) and of the coordinator's view of it (rep).
CkptStates    == {"SUSPENDED", "FD_LEADER_ELECTION", "DRAINED", "CHECKPOINTED", "REFILLED"}
\* RS_REFILLED is REFILLED of the restart barrier (named apart so that a
\* process knows which barrier it is in, as the runtime does).
RestartStates == {"RESTARTING", "NS_PUBLISHED", "NS_RESOLVED", "RS_REFILLED"}
\* FORKED: a forked child running its own code, its HELLO not read yet;
\* EXEC: between exec and the new program's checkpoint thread.
ProcStates    == {"FRESH", "DEAD", "WAIT", "RUNNING", "FORKED", "EXEC"} \cup CkptStates \cup RestartStates
Phases        == {"IDLE", "CKPT", "ABORT", "RESTART", "DOWN"}

\* The barrier sequences: the state a member must be in to take the next one.
CkptPrev(s) ==
    CASE s = "SUSPENDED"          -> "RUNNING"
      [] s = "FD_LEADER_ELECTION" -> "SUSPENDED"
      [] s = "DRAINED"            -> "FD_LEADER_ELECTION"
      [] s = "CHECKPOINTED"       -> "DRAINED"
      [] s = "REFILLED"           -> "CHECKPOINTED"
      [] s = "RUNNING"            -> "REFILLED"
CkptNext(s) ==
    CASE s = "SUSPENDED"          -> "FD_LEADER_ELECTION"
      [] s = "FD_LEADER_ELECTION" -> "DRAINED"
      [] s = "DRAINED"            -> "CHECKPOINTED"
      [] s = "REFILLED"           -> "RUNNING"
RestartPrev(s) ==
    CASE s = "NS_PUBLISHED" -> "RESTARTING"
      [] s = "NS_RESOLVED"  -> "NS_PUBLISHED"
      [] s = "RS_REFILLED"  -> "NS_RESOLVED"
      [] s = "RUNNING"      -> "RS_REFILLED"
RestartNext(s) ==
    CASE s = "NS_PUBLISHED" -> "NS_RESOLVED"
      [] s = "NS_RESOLVED"  -> "RS_REFILLED"
      [] s = "RS_REFILLED"  -> "RUNNING"

VARIABLES
    \* processes
    pst,        \* pst[p]: the process's own state
    linked,     \* linked[p]: p holds an open connection to the coordinator
    \* disk (survives every crash)
    final,      \* final[p]: generation in ckpt_<prog>_<p>.dmtcp, 0 = none
    part,       \* part[p]:  generation in its .part file, 0 = none
    script,     \* restart script: [gen, members] of the last committed generation
    \* coordinator (lost when it crashes)
    cphase,     \* IDLE | CKPT | ABORT | RESTART | DOWN (crashed)
    cstate,     \* the barrier state last sent with ADVANCE
    gen,        \* last generation started
    gmembers,   \* live members of the current generation / restart
    conn,       \* processes it believes connected (members and waiters)
    waiting,    \* processes told WELCOME state=WAIT
    rep,        \* rep[p]: last state p REACHED (as the coordinator knows it)
    rnum,       \* num_members of the restart being assembled
    \* ghosts and bounds
    att,            \* checkpoint attempts started so far
    attMembers,     \* attMembers[a]: members of attempt a when it started
    written,        \* <<a, p>>: p has written (fsync'ed) its image in attempt a
    suspendedIn,    \* <<a, p>>: p reported SUSPENDED in attempt a
    patt,           \* patt[p]: attempt of the last barrier step p took
    committedAtts,  \* attempts that reached the commit point
    abortedAtts,    \* attempts that were aborted (or lost with the coordinator)
    rjoined,        \* upids that joined the restart being assembled
    released,       \* processes sent ADVANCE state=RUNNING of a restart (running the program)
    killedReleased, \* processes the coordinator sent KILL after it had released them
    crashes, ccrashes, restarts, werrors,
    \* fork, exec and --exit-on-last
    parent,         \* parent[c]: the process that forked c (ghost; c itself if none)
    expectQ,        \* expectQ[p]: EXPECTs p has sent that the coordinator has not read
    pendingHello,   \* forked children whose HELLO (or end) the coordinator has not read
    awaited,        \* coordinator: announced children not settled yet
    settledEarly,   \* coordinator: children settled before their EXPECT was read
    everJoined,     \* coordinator: a process has joined (--exit-on-last waits for one)
    inComp,         \* processes of the current coordinator's computation (ghost)
    forks, execs,
    aliveAtExit,    \* ghost: processes of the computation alive when it exited on last
    kidsAtSuspend,  \* ghost <<a, c>>: c was a live child of a member when it reported SUSPENDED in a
    deadBeforeSuspend \* ghost <<a, c>>: c ended during attempt a before it was suspended

procVars  == <<pst, linked>>
diskVars  == <<final, part, script>>
coordVars == <<cphase, cstate, gen, gmembers, conn, waiting, rep, rnum>>
ghostVars == <<att, attMembers, written, suspendedIn, patt, committedAtts, abortedAtts, rjoined,
               crashes, ccrashes, restarts, werrors, released, killedReleased>>
forkVars  == <<parent, expectQ, pendingHello, awaited, settledEarly, everJoined, inComp, forks, execs,
               aliveAtExit, kidsAtSuspend, deadBeforeSuspend>>
vars == <<procVars, diskVars, coordVars, ghostVars, forkVars>>

Alive(p)  == pst[p] \notin {"FRESH", "DEAD"}
CoordUp   == cphase # "DOWN"
Busy      == cphase \in {"CKPT", "ABORT", "RESTART"}
\* Past the commit point of the current generation.
Committed == cphase = "CKPT" /\ cstate \in {"REFILLED", "RUNNING"}
HasImage(p, g) == final[p] = g \/ part[p] = g
AllReached == \A p \in gmembers : rep[p] = cstate

TypeOK ==
    /\ pst \in [Procs -> ProcStates]
    /\ linked \in [Procs -> BOOLEAN]
    /\ final \in [Procs -> Nat] /\ part \in [Procs -> Nat]
    /\ script \in [gen : Nat, members : SUBSET Procs]
    /\ cphase \in Phases
    /\ cstate \in ProcStates \cup {"NONE"}
    /\ gen \in Nat /\ rnum \in Nat
    /\ gmembers \subseteq conn /\ waiting \subseteq conn /\ conn \subseteq Procs
    /\ gmembers \cap waiting = {}
    \* CKPT_ERROR: REACHED state=CHECKPOINTED error=... (the image could not be written)
    /\ rep \in [Procs -> ProcStates \cup {"NONE", "CKPT_ERROR"}]
    /\ att \in 0..MaxAttempts
    /\ attMembers \in [Attempts -> SUBSET Procs]
    /\ written \subseteq Attempts \X Procs
    /\ suspendedIn \subseteq Attempts \X Procs
    /\ patt \in [Procs -> 0..MaxAttempts]
    /\ committedAtts \subseteq Attempts /\ abortedAtts \subseteq Attempts
    /\ rjoined \subseteq Procs
    /\ released \subseteq Procs /\ killedReleased \subseteq Procs
    /\ crashes \in 0..MaxCrashes /\ ccrashes \in 0..MaxCoordCrashes
    /\ restarts \in 0..MaxRestarts /\ werrors \in 0..MaxWriteErrors
    /\ parent \in [Procs -> Procs]
    /\ expectQ \in [Procs -> SUBSET Procs]
    /\ pendingHello \subseteq Procs /\ pendingHello \cap conn = {}
    /\ awaited \subseteq Procs /\ settledEarly \subseteq Procs
    /\ everJoined \in BOOLEAN /\ inComp \subseteq Procs
    /\ forks \in 0..MaxForks /\ execs \in 0..MaxExecs
    /\ aliveAtExit \subseteq Procs
    /\ kidsAtSuspend \subseteq Attempts \X Procs /\ deadBeforeSuspend \subseteq Attempts \X Procs

Init ==
    /\ pst = [p \in Procs |-> "FRESH"]
    /\ linked = [p \in Procs |-> FALSE]
    /\ final = [p \in Procs |-> 0] /\ part = [p \in Procs |-> 0]
    /\ script = [gen |-> 0, members |-> {}]
    /\ cphase = "IDLE" /\ cstate = "NONE" /\ gen = 0
    /\ gmembers = {} /\ conn = {} /\ waiting = {}
    /\ rep = [p \in Procs |-> "NONE"] /\ rnum = 0
    /\ att = 0 /\ attMembers = [a \in Attempts |-> {}] /\ written = {}
    /\ suspendedIn = {}
    /\ patt = [p \in Procs |-> 0]
    /\ committedAtts = {} /\ abortedAtts = {} /\ rjoined = {}
    /\ released = {} /\ killedReleased = {}
    /\ crashes = 0 /\ ccrashes = 0 /\ restarts = 0 /\ werrors = 0
    /\ parent = [p \in Procs |-> p] /\ expectQ = [p \in Procs |-> {}]
    /\ pendingHello = {} /\ awaited = {} /\ settledEarly = {}
    /\ everJoined = FALSE /\ inComp = {} /\ forks = 0 /\ execs = 0
    /\ aliveAtExit = {} /\ kidsAtSuspend = {} /\ deadBeforeSuspend = {}

-----------------------------------------------------------------------------
(* Environment: launches, reconnections, crashes, coordinator crashes.     *)

\* A process that lost the coordinator between the commit point and
\* ADVANCE state=REFILLED still holds the committed image as its .part file.
\* The new coordinator knows the committed generation and its members from
\* disk and tells such a process, in its WELCOME, to finish the commit
\* (rename the .part) -- otherwise its next checkpoint would overwrite the
\* only copy of a committed image (TLC finds this with Bug = "no_finish_commit").
FinishCommit(p) ==
    /\ Bug # "no_finish_commit"
    /\ p \in script.members
    /\ part[p] = script.gen
    /\ script.gen > 0

\* HELLO restart=0 from a new process (dmtcp_launch, fork) or from a process
\* reconnecting after the coordinator was restarted. A new process that joins
\* while a checkpoint is still at SUSPENDED (a member's child: the member waits
\* for it before reporting SUSPENDED) is taken into the generation and then
\* steps like the others. Otherwise, during a checkpoint or a restart, it gets
\* WELCOME state=WAIT and runs no user code until released.
Admitted(p) == pst[p] = "FRESH" /\ cphase = "CKPT" /\ cstate = "SUSPENDED"
Join(p) ==
    /\ CoordUp
    /\ \/ pst[p] = "FRESH"
       \/ pst[p] \in {"RUNNING", "EXEC"} /\ ~linked[p]
    /\ linked' = [linked EXCEPT ![p] = TRUE]
    /\ conn' = conn \cup {p}
    /\ IF Busy /\ ~Admitted(p)
         THEN /\ pst' = [pst EXCEPT ![p] = "WAIT"]
              /\ rep' = [rep EXCEPT ![p] = "WAIT"]
              /\ waiting' = waiting \cup {p}
         ELSE /\ pst' = [pst EXCEPT ![p] = "RUNNING"]
              /\ rep' = [rep EXCEPT ![p] = "RUNNING"]
              /\ UNCHANGED waiting
    /\ IF Admitted(p)
         THEN /\ gmembers' = gmembers \cup {p}
              /\ attMembers' = [attMembers EXCEPT ![att] = @ \cup {p}]
         ELSE UNCHANGED <<gmembers, attMembers>>
    /\ IF FinishCommit(p)
         THEN /\ final' = [final EXCEPT ![p] = part[p]]
              /\ part' = [part EXCEPT ![p] = 0]
         ELSE UNCHANGED <<final, part>>
    /\ everJoined' = TRUE
    /\ inComp' = inComp \cup {p}
    /\ UNCHANGED <<script, cphase, cstate, gen, rnum, att, written, suspendedIn, patt,
                   committedAtts, abortedAtts, rjoined, crashes, ccrashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED <<parent, expectQ, pendingHello, awaited, settledEarly, forks, execs, aliveAtExit,
                   kidsAtSuspend, deadBeforeSuspend>>

\* A process dies in any state (kill -9, crash, or a normal exit with BYE).
\* Its files stay on disk; the coordinator learns of it later (Notice).
Crash(p) ==
    /\ Alive(p)
    /\ crashes < MaxCrashes
    /\ pst' = [pst EXCEPT ![p] = "DEAD"]
    /\ linked' = [linked EXCEPT ![p] = FALSE]
    /\ crashes' = crashes + 1
    /\ deadBeforeSuspend' = IF cphase = "CKPT" /\ att > 0 /\ <<att, p>> \notin suspendedIn
                             THEN deadBeforeSuspend \cup {<<att, p>>} ELSE deadBeforeSuspend
    /\ UNCHANGED <<diskVars, coordVars, att, attMembers, written, suspendedIn, patt,
                   committedAtts, abortedAtts, rjoined, ccrashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED <<parent, expectQ, pendingHello, awaited, settledEarly, everJoined, inComp, forks, execs,
                   aliveAtExit, kidsAtSuspend>>

\* The coordinator process dies: every connection closes and all its memory
\* is gone; the disk (images, restart script) survives. A generation in
\* progress and not committed is lost, i.e. aborted.
CoordGone ==
    /\ cphase' = "DOWN" /\ cstate' = "NONE" /\ gen' = 0
    /\ gmembers' = {} /\ conn' = {} /\ waiting' = {}
    /\ rep' = [p \in Procs |-> "NONE"] /\ rnum' = 0
    /\ linked' = [p \in Procs |-> FALSE]
    /\ abortedAtts' = IF cphase = "CKPT" /\ ~Committed
                        THEN abortedAtts \cup {att} ELSE abortedAtts
    /\ rjoined' = {}
    /\ expectQ' = [p \in Procs |-> {}] /\ pendingHello' = {}
    /\ awaited' = {} /\ settledEarly' = {} /\ everJoined' = FALSE /\ inComp' = {}
    /\ UNCHANGED <<pst, diskVars, att, attMembers, written, suspendedIn, patt, committedAtts,
                   crashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED <<parent, forks, execs, kidsAtSuspend, deadBeforeSuspend>>

CoordCrash ==
    /\ CoordUp
    /\ ccrashes < MaxCoordCrashes
    /\ CoordGone
    /\ ccrashes' = ccrashes + 1
    /\ UNCHANGED aliveAtExit

\* --exit-on-last: no member is left and no announced child is on its way
\* (after at least one process joined this coordinator). The coordinator
\* exits as if it had crashed; the ghost records who was still alive then.
ExitLast ==
    /\ ExitOnLast
    /\ CoordUp /\ everJoined
    /\ conn = {} /\ awaited = {}
    /\ CoordGone
    /\ aliveAtExit' = aliveAtExit \cup {p \in inComp : Alive(p)}
    /\ UNCHANGED ccrashes

\* A new coordinator starts; it knows only what is on disk.
CoordRestart ==
    /\ cphase = "DOWN"
    /\ cphase' = "IDLE"
    /\ gen' = script.gen
    /\ UNCHANGED <<procVars, diskVars, cstate, gmembers, conn, waiting, rep, rnum,
                   ghostVars, forkVars>>

\* A process notices that its coordinator is gone. A checkpoint it was in
\* is over for it: it resumes, keeping a .part file it wrote (it cannot know
\* whether the generation was committed; if it was, that file is the image
\* of the committed generation). A restart it was in fails: it exits, so a
\* partial computation never runs.
LoseCoord(p) ==
    /\ ~linked[p]
    /\ pst[p] \in CkptStates \cup RestartStates \cup {"WAIT", "FORKED"}
    /\ pst' = [pst EXCEPT ![p] = IF pst[p] \in RestartStates THEN "DEAD" ELSE "RUNNING"]
    /\ part' = IF Bug = "delete_part_on_loss" /\ pst[p] = "CHECKPOINTED"
                 THEN [part EXCEPT ![p] = 0] ELSE part
    /\ UNCHANGED <<linked, final, script, coordVars, ghostVars, forkVars>>

\* dmtcp_restart of one image of the last committed generation: the process
\* comes back with its upid and sends HELLO restart=1 generation=G
\* num_members=N. A coordinator without members opens a restart of G; one
\* that is assembling that restart adds it; any other refuses (no change).
RestartLaunch(p) ==
    /\ CoordUp
    /\ pst[p] = "DEAD"
    /\ p \notin conn
    /\ script.gen > 0
    /\ p \in script.members
    /\ final[p] = script.gen
    /\ \/ /\ cphase = "IDLE" /\ conn = {} /\ restarts < MaxRestarts
          /\ cphase' = "RESTART" /\ cstate' = "RESTARTING"
          /\ gmembers' = {p} /\ rjoined' = {p}
          /\ rnum' = Cardinality(script.members)
          /\ gen' = script.gen
          /\ restarts' = restarts + 1
       \/ /\ cphase = "RESTART" /\ cstate = "RESTARTING"
          /\ gmembers' = gmembers \cup {p} /\ rjoined' = rjoined \cup {p}
          /\ UNCHANGED <<cphase, cstate, rnum, gen, restarts>>
    /\ pst' = [pst EXCEPT ![p] = "RESTARTING"]
    /\ rep' = [rep EXCEPT ![p] = "RESTARTING"]
    /\ linked' = [linked EXCEPT ![p] = TRUE]
    /\ conn' = conn \cup {p}
    /\ released' = released \ {p}   \* a new incarnation, not released yet
    /\ everJoined' = TRUE
    /\ inComp' = inComp \cup {p}
    /\ UNCHANGED <<diskVars, waiting, att, attMembers, written, suspendedIn, patt,
                   committedAtts, abortedAtts, crashes, ccrashes, werrors, killedReleased>>
    /\ UNCHANGED <<parent, expectQ, pendingHello, awaited, settledEarly, forks, execs, aliveAtExit,
                   kidsAtSuspend, deadBeforeSuspend>>

-----------------------------------------------------------------------------
(* Coordinator.                                                             *)

\* Release everyone told WAIT (ADVANCE state=RUNNING) and go idle.
Finish ==
    /\ cphase' = "IDLE" /\ cstate' = "NONE" /\ gmembers' = {} /\ waiting' = {}
    /\ pst' = [q \in Procs |-> IF q \in waiting /\ linked[q] THEN "RUNNING" ELSE pst[q]]
    /\ rep' = [q \in Procs |-> IF q \in waiting THEN "RUNNING" ELSE rep[q]]

\* A checkpoint request (dmtcp_command -c, the interval timer, CKPT_REQUEST):
\* honoured only when idle, with at least one member, all RUNNING.
StartCkpt ==
    /\ cphase = "IDLE"
    /\ conn # {}
    /\ \A p \in conn : rep[p] = "RUNNING"
    /\ att < MaxAttempts
    /\ cphase' = "CKPT" /\ cstate' = "SUSPENDED"
    /\ gen' = gen + 1
    /\ gmembers' = conn
    /\ att' = att + 1
    /\ attMembers' = [attMembers EXCEPT ![att + 1] = conn]
    /\ UNCHANGED <<procVars, diskVars, conn, waiting, rep, rnum, written, suspendedIn, patt,
                   committedAtts, abortedAtts, rjoined, crashes, ccrashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED forkVars

\* Every member reached cstate: ADVANCE to the next state.
Advance ==
    /\ \/ cphase = "CKPT" /\ cstate \in {"SUSPENDED", "FD_LEADER_ELECTION", "DRAINED", "REFILLED"}
          /\ cstate' = CkptNext(cstate)
       \/ cphase = "RESTART" /\ cstate \in {"NS_PUBLISHED", "NS_RESOLVED", "RS_REFILLED"}
          /\ cstate' = RestartNext(cstate)
    /\ AllReached
    \* a child its parent announced before it reported SUSPENDED joins this generation first
    /\ (cphase = "CKPT" /\ cstate = "SUSPENDED" /\ gmembers # {} /\ Bug # "ignore_awaited") => awaited = {}
    /\ released' = IF cphase = "RESTART" /\ cstate' = "RUNNING" THEN released \cup gmembers ELSE released
    /\ UNCHANGED <<procVars, diskVars, cphase, gen, gmembers, conn, waiting, rep, rnum,
                   att, attMembers, written, suspendedIn, patt, committedAtts, abortedAtts, rjoined,
                   crashes, ccrashes, restarts, werrors, killedReleased>>
    /\ UNCHANGED forkVars

\* The commit point: every member has written its image. The restart script
\* (generation and image list) is written BEFORE ADVANCE state=REFILLED.
CommitReady ==
    IF Bug = "early_commit"
      THEN \E p \in gmembers : rep[p] = "CHECKPOINTED"
      ELSE AllReached
Commit ==
    /\ \/ cphase = "CKPT"
       \/ cphase = "ABORT" /\ Bug = "commit_after_abort"
    /\ cstate = "CHECKPOINTED"
    /\ CommitReady
    /\ script' = [gen |-> gen, members |-> gmembers]
    /\ cstate' = "REFILLED"
    /\ committedAtts' = committedAtts \cup {att}
    /\ UNCHANGED <<procVars, final, part, cphase, gen, gmembers, conn, waiting, rep, rnum,
                   att, attMembers, written, suspendedIn, patt, abortedAtts, rjoined,
                   crashes, ccrashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED forkVars

\* A member could not write its image: abort G as if it had died, but it
\* stays connected and gets the ABORT too.
AbortOnError ==
    /\ cphase = "CKPT" /\ ~Committed
    /\ \E p \in gmembers : rep[p] = "CKPT_ERROR"
    /\ cphase' = "ABORT"
    /\ abortedAtts' = abortedAtts \cup {att}
    /\ UNCHANGED <<procVars, diskVars, cstate, gen, gmembers, conn, waiting, rep, rnum,
                   att, attMembers, written, suspendedIn, patt, committedAtts, rjoined,
                   crashes, ccrashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED forkVars

\* Every member is back to RUNNING after the commit, or after an abort.
EndCkpt ==
    /\ \/ cphase = "CKPT" /\ cstate = "RUNNING" /\ AllReached
       \/ cphase = "ABORT" /\ \A p \in gmembers : rep[p] = "RUNNING"
    /\ Finish
    /\ UNCHANGED <<linked, diskVars, gen, conn, rnum, ghostVars, forkVars>>

\* The N-th member of the restart has arrived: start the restart barrier.
ReleaseReady ==
    IF Bug = "release_early" THEN gmembers # {} ELSE Cardinality(gmembers) = rnum
ReleaseRestart ==
    /\ cphase = "RESTART" /\ cstate = "RESTARTING"
    /\ ReleaseReady
    /\ cstate' = "NS_PUBLISHED"
    /\ UNCHANGED <<procVars, diskVars, cphase, gen, gmembers, conn, waiting, rep, rnum,
                   ghostVars, forkVars>>

\* The operator forces a restart that waits for missing processes (the
\* coordinator's f command): it runs with the members that are back; a missing
\* one that comes later is refused (RestartLaunch needs RESTARTING).
ForceRestart ==
    /\ cphase = "RESTART" /\ cstate = "RESTARTING"
    /\ gmembers # {} /\ Cardinality(gmembers) < rnum
    /\ rnum' = Cardinality(gmembers)
    /\ UNCHANGED <<procVars, diskVars, cphase, cstate, gen, gmembers, conn, waiting, rep,
                   ghostVars, forkVars>>

EndRestart ==
    /\ cphase = "RESTART" /\ cstate = "RUNNING" /\ AllReached
    /\ Finish
    /\ UNCHANGED <<linked, diskVars, gen, conn, rnum, ghostVars, forkVars>>

\* The coordinator sees p's connection close (crash or BYE).
\*  * member that had not reported SUSPENDED, with other members left: it
\*    ended before the checkpoint stopped it (a short-lived child exiting);
\*    the generation goes on without it, as if it had ended just before;
\*  * any other member of a generation not yet committed: ABORT it;
\*  * member after the commit point: the commit stands, go on without it;
\*  * member of a restart before its release (ADVANCE state=RUNNING): the
\*    restart fails, KILL every other process (a partial computation is
\*    never released);
\*  * member of a restart after its release: the computation is running; an
\*    ordinary departure (a process that exits at once after the restart),
\*    the others go on and the restart ends without it.
Notice(p) ==
    /\ CoordUp
    /\ p \in conn
    /\ ~linked[p]
    /\ expectQ[p] = {}   \* its EXPECTs come before the end of its connection
    /\ Bug = "ignore_disconnect" => ~(cphase = "CKPT" /\ p \in gmembers)
    /\ IF cphase = "RESTART" /\ p \in gmembers /\ (cstate # "RUNNING" \/ Bug = "kill_after_release")
         THEN \* KILL to everyone connected; the coordinator forgets them.
              /\ killedReleased' = killedReleased \cup ((conn \ {p}) \cap released)
              /\ pst' = [q \in Procs |-> IF q \in conn THEN "DEAD" ELSE pst[q]]
              /\ linked' = [q \in Procs |-> IF q \in conn THEN FALSE ELSE linked[q]]
              /\ cphase' = "IDLE" /\ cstate' = "NONE"
              /\ gmembers' = {} /\ conn' = {} /\ waiting' = {}
              /\ rjoined' = {}
              /\ UNCHANGED <<abortedAtts, attMembers>>
         ELSE /\ conn' = conn \ {p}
              /\ waiting' = waiting \ {p}
              /\ gmembers' = gmembers \ {p}
              /\ IF cphase = "CKPT" /\ ~Committed /\ p \in gmembers /\ Bug # "commit_without_dead"
                   THEN IF ((cstate = "SUSPENDED" /\ rep[p] # "SUSPENDED") \/ Bug = "drop_suspended")
                             /\ gmembers \ {p} # {}
                          THEN /\ attMembers' = [attMembers EXCEPT ![att] = @ \ {p}]
                               /\ UNCHANGED <<cphase, abortedAtts>>
                          ELSE /\ cphase' = "ABORT"   \* ABORT generation=G to the others
                               /\ abortedAtts' = abortedAtts \cup {att}
                               /\ UNCHANGED attMembers
                   ELSE UNCHANGED <<cphase, abortedAtts, attMembers>>
              /\ UNCHANGED <<procVars, cstate, rjoined, killedReleased>>
    /\ UNCHANGED <<diskVars, gen, rep, rnum, att, written, suspendedIn, patt,
                   committedAtts, crashes, ccrashes, restarts, werrors, released>>
    /\ UNCHANGED forkVars

-----------------------------------------------------------------------------
(* Members.                                                                 *)

\* A member receives ADVANCE state=cstate, does the work and sends REACHED.
\*  CHECKPOINTED: write the image to the .part file and fsync it;
\*  REFILLED:     the commit is known; rename .part over the final image.
Step(p) ==
    /\ linked[p]
    /\ p \in gmembers
    /\ expectQ[p] = {}   \* its EXPECTs come before its REACHED
    /\ \/ cphase = "CKPT" /\ cstate # "NONE" /\ pst[p] = CkptPrev(cstate)
       \/ cphase = "RESTART" /\ cstate \in {"NS_PUBLISHED", "NS_RESOLVED", "RS_REFILLED", "RUNNING"}
          /\ pst[p] = RestartPrev(cstate)
    /\ pst' = [pst EXCEPT ![p] = cstate]
    /\ rep' = [rep EXCEPT ![p] = cstate]
    /\ IF cphase = "CKPT" /\ cstate = "CHECKPOINTED"
         THEN /\ part' = [part EXCEPT ![p] = gen]
              /\ written' = written \cup {<<att, p>>}
              /\ UNCHANGED final
         ELSE IF cphase = "CKPT" /\ cstate = "REFILLED"
         THEN /\ final' = [final EXCEPT ![p] = part[p]]
              /\ part' = [part EXCEPT ![p] = 0]
              /\ UNCHANGED written
         ELSE UNCHANGED <<final, part, written>>
    /\ patt' = [patt EXCEPT ![p] = IF cphase = "CKPT" THEN att ELSE patt[p]]
    /\ suspendedIn' = IF cphase = "CKPT" /\ cstate = "SUSPENDED"
                        THEN suspendedIn \cup {<<att, p>>} ELSE suspendedIn
    /\ kidsAtSuspend' = IF cphase = "CKPT" /\ cstate = "SUSPENDED"
                          THEN kidsAtSuspend \cup {<<att, c>> : c \in {q \in inComp \ {p} : parent[q] = p /\ Alive(q)}}
                          ELSE kidsAtSuspend
    /\ UNCHANGED <<linked, script, cphase, cstate, gen, gmembers, conn, waiting, rnum,
                   att, attMembers, committedAtts, abortedAtts, rjoined,
                   crashes, ccrashes, restarts, werrors, released, killedReleased>>
    /\ UNCHANGED <<parent, expectQ, pendingHello, awaited, settledEarly, everJoined, inComp, forks, execs,
                   aliveAtExit, deadBeforeSuspend>>

\* The image cannot be written (disk full, permission, ...): the member
\* removes what it wrote and sends REACHED state=CHECKPOINTED error=...
WriteFails(p) ==
    /\ linked[p]
    /\ p \in gmembers
    /\ cphase = "CKPT" /\ cstate = "CHECKPOINTED" /\ pst[p] = "DRAINED"
    /\ werrors < MaxWriteErrors
    /\ pst' = [pst EXCEPT ![p] = "CHECKPOINTED"]
    /\ rep' = [rep EXCEPT ![p] = IF Bug = "ignore_write_error" THEN "CHECKPOINTED" ELSE "CKPT_ERROR"]
    /\ patt' = [patt EXCEPT ![p] = att]
    /\ werrors' = werrors + 1
    /\ UNCHANGED <<linked, diskVars, cphase, cstate, gen, gmembers, conn, waiting, rnum,
                   att, attMembers, written, suspendedIn, committedAtts, abortedAtts, rjoined,
                   crashes, ccrashes, restarts, released, killedReleased>>
    /\ UNCHANGED forkVars

\* A member receives ABORT generation=G: delete its .part, refill, resume,
\* REACHED state=RUNNING.
AbortLocal(p) ==
    /\ linked[p]
    /\ cphase = "ABORT"
    /\ p \in gmembers
    /\ pst[p] \in {"SUSPENDED", "FD_LEADER_ELECTION", "DRAINED", "CHECKPOINTED"}
    /\ pst' = [pst EXCEPT ![p] = "RUNNING"]
    /\ rep' = [rep EXCEPT ![p] = "RUNNING"]
    /\ part' = IF part[p] = gen THEN [part EXCEPT ![p] = 0] ELSE part
    /\ UNCHANGED <<linked, final, script, cphase, cstate, gen, gmembers, conn, waiting,
                   rnum, ghostVars, forkVars>>

-----------------------------------------------------------------------------
(* Fork and exec (docs/protocol.md 3.9).                                    *)

\* fork(): the parent runs its own code (a checkpoint has not parked it: the
\* fork guard). Before the fork it connects for the child and announces it:
\* ATTACH on the child's connection, EXPECT on its own, in flight in
\* expectQ[p] and read before anything p sends later. The child runs its own
\* code at once and sends its HELLO without waiting for the WELCOME.
Fork(p, c) ==
    /\ forks < MaxForks
    /\ pst[p] \in {"RUNNING", "FORKED"} /\ linked[p]
    /\ pst[c] = "FRESH"
    /\ pst' = [pst EXCEPT ![c] = "FORKED"]
    /\ linked' = [linked EXCEPT ![c] = TRUE]
    /\ parent' = [parent EXCEPT ![c] = p]
    /\ expectQ' = IF Bug = "no_expect" THEN expectQ ELSE [expectQ EXCEPT ![p] = @ \cup {c}]
    /\ pendingHello' = pendingHello \cup {c}
    /\ inComp' = inComp \cup {c}
    /\ forks' = forks + 1
    /\ UNCHANGED <<diskVars, coordVars, ghostVars, awaited, settledEarly, everJoined, execs,
                   aliveAtExit, kidsAtSuspend, deadBeforeSuspend>>

\* The child's HELLO, or the end of its connection, counts it out; its
\* EXPECT counts it in. They come on two connections, in either order.
Settle(c) ==
    IF c \in awaited
      THEN awaited' = awaited \ {c} /\ UNCHANGED settledEarly
      ELSE settledEarly' = settledEarly \cup {c} /\ UNCHANGED awaited

\* The coordinator reads an EXPECT of p (after p's own HELLO).
ReadExpect(p, c) ==
    /\ CoordUp
    /\ c \in expectQ[p]
    /\ p \notin pendingHello
    /\ expectQ' = [expectQ EXCEPT ![p] = @ \ {c}]
    /\ IF c \in settledEarly
         THEN settledEarly' = settledEarly \ {c} /\ UNCHANGED awaited
         ELSE awaited' = awaited \cup {c} /\ UNCHANGED settledEarly
    /\ UNCHANGED <<procVars, diskVars, coordVars, ghostVars, parent, pendingHello, everJoined, inComp,
                   forks, execs, aliveAtExit, kidsAtSuspend, deadBeforeSuspend>>

\* The coordinator reads the forked child's HELLO: it joins as any process
\* does (taken into a generation at SUSPENDED, told WAIT during any other
\* barrier), but it has run its own code since the fork and goes on doing so.
HelloForked(c) ==
    /\ CoordUp
    /\ c \in pendingHello
    /\ pst[c] = "FORKED"
    /\ pendingHello' = pendingHello \ {c}
    /\ Settle(c)
    /\ conn' = conn \cup {c}
    /\ everJoined' = TRUE
    /\ pst' = [pst EXCEPT ![c] = "RUNNING"]
    /\ IF cphase = "CKPT" /\ cstate = "SUSPENDED"
         THEN /\ rep' = [rep EXCEPT ![c] = "RUNNING"]
              /\ gmembers' = gmembers \cup {c}
              /\ attMembers' = [attMembers EXCEPT ![att] = @ \cup {c}]
              /\ UNCHANGED waiting
         ELSE IF Busy
         THEN /\ rep' = [rep EXCEPT ![c] = "WAIT"]
              /\ waiting' = waiting \cup {c}
              /\ UNCHANGED <<gmembers, attMembers>>
         ELSE /\ rep' = [rep EXCEPT ![c] = "RUNNING"]
              /\ UNCHANGED <<waiting, gmembers, attMembers>>
    /\ UNCHANGED <<linked, diskVars, cphase, cstate, gen, rnum, att, written, suspendedIn, patt,
                   committedAtts, abortedAtts, rjoined, crashes, ccrashes, restarts, werrors,
                   released, killedReleased>>
    /\ UNCHANGED <<parent, expectQ, inComp, forks, execs, aliveAtExit, kidsAtSuspend, deadBeforeSuspend>>

\* A forked child ended before the coordinator read its HELLO: the end of
\* its connection settles it (so does the end of a connection whose fork failed).
SettleEnded(c) ==
    /\ CoordUp
    /\ c \in pendingHello
    /\ pst[c] = "DEAD"
    /\ pendingHello' = pendingHello \ {c}
    /\ Settle(c)
    /\ UNCHANGED <<procVars, diskVars, coordVars, ghostVars, parent, expectQ, everJoined, inComp,
                   forks, execs, aliveAtExit, kidsAtSuspend, deadBeforeSuspend>>

\* exec(): the process keeps its connection and its upid. Until the new
\* program's checkpoint thread runs it takes no barrier step (a message for
\* it waits in the socket), then it goes on as before: an exec is not a
\* departure. Bug exec_reconnects: the connection closes at the exec and the
\* new program joins afresh (Join), as the runtime did before.
Exec(p) ==
    /\ execs < MaxExecs
    /\ pst[p] = "RUNNING" /\ linked[p]
    /\ pst' = [pst EXCEPT ![p] = "EXEC"]
    /\ linked' = IF Bug = "exec_reconnects" THEN [linked EXCEPT ![p] = FALSE] ELSE linked
    /\ execs' = execs + 1
    /\ UNCHANGED <<diskVars, coordVars, ghostVars, parent, expectQ, pendingHello, awaited, settledEarly,
                   everJoined, inComp, forks, aliveAtExit, kidsAtSuspend, deadBeforeSuspend>>

ExecDone(p) ==
    /\ pst[p] = "EXEC" /\ linked[p]
    /\ pst' = [pst EXCEPT ![p] = "RUNNING"]
    /\ UNCHANGED <<linked, diskVars, coordVars, ghostVars, forkVars>>

-----------------------------------------------------------------------------
Next ==
    \/ StartCkpt \/ Advance \/ Commit \/ AbortOnError \/ EndCkpt
    \/ ReleaseRestart \/ EndRestart \/ ForceRestart
    \/ CoordCrash \/ CoordRestart \/ ExitLast
    \/ \E p \in Procs :
         \/ Join(p) \/ Crash(p) \/ Notice(p) \/ LoseCoord(p) \/ RestartLaunch(p)
         \/ Step(p) \/ WriteFails(p) \/ AbortLocal(p)
         \/ Exec(p) \/ ExecDone(p) \/ HelloForked(p) \/ SettleEnded(p)
         \/ \E c \in Procs : Fork(p, c) \/ ReadExpect(p, c)

\* Members and the coordinator keep working; the environment (requests,
\* launches, crashes, restarts) is not obliged to do anything.
Fairness ==
    /\ WF_vars(Advance) /\ WF_vars(Commit) /\ WF_vars(AbortOnError) /\ WF_vars(EndCkpt)
    /\ WF_vars(ReleaseRestart) /\ WF_vars(EndRestart)
    /\ \A p \in Procs : WF_vars(Step(p)) /\ WF_vars(AbortLocal(p))
                       /\ WF_vars(Notice(p)) /\ WF_vars(LoseCoord(p))
                       /\ WF_vars(ExecDone(p)) /\ WF_vars(HelloForked(p)) /\ WF_vars(SettleEnded(p))
                       /\ \A c \in Procs : WF_vars(ReadExpect(p, c))

Spec == Init /\ [][Next]_vars /\ Fairness

-----------------------------------------------------------------------------
(* Invariants.                                                              *)

\* No member resumes from a generation (gets ADVANCE state=REFILLED, its
\* permission to rename and go on) before every member of that generation
\* has written its image.
NoResumeBeforeAllImages ==
    \A p \in Procs :
        pst[p] = "REFILLED" => \A q \in attMembers[patt[p]] : <<patt[p], q>> \in written

\* The committed generation on disk (the one the restart script names) has
\* exactly one image per member: its final file or its .part, never neither
\* nor both.
CommittedImagesComplete ==
    script.gen > 0 =>
        \A q \in script.members : HasImage(q, script.gen) /\ ~(final[q] = script.gen /\ part[q] = script.gen)

\* A committed generation has every process that was suspended for it: only
\* a member that ended before it was stopped may be left out.
SuspendedAreCommitted ==
    \A a \in committedAtts : \A q \in Procs : <<a, q>> \in suspendedIn => q \in attMembers[a]

\* An aborted generation is never committed.
AbortedNeverCommitted == committedAtts \cap abortedAtts = {}

\* A restart is released (leaves RESTARTING) only when every member of the
\* generation is back, unless the operator forced it with the members there.
RestartReleasedOnlyWhenAllBack ==
    (cphase = "RESTART" /\ cstate # "RESTARTING") =>
        rjoined = script.members \/ rnum < Cardinality(script.members)

\* A process that joined during a generation is not a member of it and runs
\* no user code until released.
JoinersWait == \A p \in Procs : pst[p] = "WAIT" => p \notin gmembers

\* Once a restart has released its members (ADVANCE state=RUNNING), the
\* computation runs: a member leaving then (exiting at once, or killed) is an
\* ordinary departure and the coordinator never KILLs a released member for it.
ReleasedNeverKilled == killedReleased = {}

\* --exit-on-last never exits while a process of the computation lives: an
\* exec is not a departure, and a forked child counts from the fork (its
\* parent's EXPECT) to its own HELLO.
NoExitWhileAlive == aliveAtExit = {}

\* The children a member had alive when it reported SUSPENDED are in the
\* committed generation, unless they ended before they were suspended: no
\* image names a child the generation lacks.
ForkedChildrenInGeneration ==
    \A a \in committedAtts : \A c \in Procs :
        <<a, c>> \in kidsAtSuspend => c \in attMembers[a] \/ <<a, c>> \in deadBeforeSuspend

-----------------------------------------------------------------------------
(* Liveness (checked under Fairness).                                       *)

\* A requested (started) checkpoint completes (commits) or aborts.
CkptCompletesOrAborts ==
    \A a \in Attempts :
        (a <= att /\ a \notin committedAtts \cup abortedAtts)
            ~> (a \in committedAtts \cup abortedAtts)

\* ... and the computation gets back to idle (members RUNNING again), unless
\* the coordinator itself dies.
BarrierEnds == (cphase \in {"CKPT", "ABORT"}) ~> (cphase \in {"IDLE", "DOWN"})

\* A restart whose members are all back ends: it fails (KILL) before the
\* release, or gets to idle with the members still there after it.
RestartEnds == (cphase = "RESTART" /\ cstate # "RESTARTING") ~> (cphase \in {"IDLE", "DOWN"})

=============================================================================
