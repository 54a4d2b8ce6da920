#!/usr/bin/env python3
"""Minimal client of the coordinator protocol (docs/protocol.md 3.8) for benchmarks.

Starts in ~20 ms, so timing a checkpoint with it measures the checkpoint and not
a JVM start. Usage: coordctl.py PORT COMMAND [wait-running SECONDS]
Prints the COMMAND_RESULT fields; exits 0 on DMT_COORD_SUCCESS.
"timed-bcheckpoint" prints only the seconds the blocking checkpoint took, from
the request to the answer (the interpreter's own start, 20-400 ms on a busy VM,
left out). "restart-until-running SECONDS N OUTFILE CMD..." starts CMD (output to
OUTFILE, left running) and prints the seconds until N processes are RUNNING.
"""
import socket
import struct
import subprocess
import sys
import time

MAGIC, VERSION, COMMAND, COMMAND_RESULT = 0x444D5443, 1, 30, 31


def escape(value: str) -> str:
    out = []
    for ch in value:
        if ch == "%" or ord(ch) < 0x20:
            out.append("%%%02X" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def unescape(value: str) -> str:
    out, i = bytearray(), 0
    raw = value.encode()
    while i < len(raw):
        if raw[i] == ord("%") and i + 3 <= len(raw):
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            raise ConnectionError("coordinator closed the connection")
        buf += part
    return buf


def request(port: int, command: str, **fields):
    fields = {"command": command, **{k: str(v) for k, v in fields.items()}}
    payload = "".join(f"{k}={escape(v)}\n" for k, v in fields.items()).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.sendall(struct.pack(">IHHI", MAGIC, VERSION, COMMAND, len(payload)) + payload)
        magic, version, mtype, length = struct.unpack(">IHHI", recv_exact(sock, 12))
        if magic != MAGIC or mtype != COMMAND_RESULT:
            raise ValueError("unexpected reply")
        result = {}
        for line in recv_exact(sock, length).decode().splitlines():
            key, _, value = line.partition("=")
            result.setdefault(key, unescape(value))
        return result


def wait_running(port, seconds, want):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            r = request(port, "status")
            if r.get("running") == "yes" and int(r.get("num_peers", "0")) >= want:
                return 0
        except OSError:
            pass
        time.sleep(0.005)
    print("timed out waiting for RUNNING", file=sys.stderr)
    return 1


def main():
    port, command = int(sys.argv[1]), sys.argv[2]
    if command == "wait-running":
        return wait_running(port, float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    if command == "restart-until-running":
        seconds, want, outfile, cmd = float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6:]
        with open(outfile, "wb") as out:
            t0 = time.monotonic()
            subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        if wait_running(port, seconds, want) != 0:
            return 1
        print(f"{time.monotonic() - t0:.3f}")
        return 0
    if command == "timed-bcheckpoint":
        t0 = time.monotonic()
        r = request(port, "bcheckpoint")
        print(f"{time.monotonic() - t0:.3f}")
        return 0 if r.get("command_status") == "DMT_COORD_SUCCESS" else 1
    r = request(port, command)
    for k, v in r.items():
        print(f"{k}={v}")
    return 0 if r.get("command_status") == "DMT_COORD_SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
