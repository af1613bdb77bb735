"""Fault injection for the tests: a TCP proxy whose faults a test switches on and off, and a zygote that forks
gitclaim commands so that a test can kill them with SIGKILL (or run many of them cheaply).

The proxy listens on 127.0.0.1 in front of a git server.

git's own transports give no hook for "the connection dies while the push is on the wire", so the tests put
this proxy between a clone and a real server (git daemon or lighttpd; never ssh, whose stream is encrypted and
cannot be watched) and choose what happens:

* ``heal()``: forward everything (the default);
* ``hang()``: accept connections and never answer, and stop answering on open ones (a server that hangs);
* ``go_down()``: reset every connection, open or new (a server that died);
* ``arm_push(fault, then)``: wait for a push of a mission ref (a receive-pack connection whose client sends
  ``refs/missions/``), then ``"drop"`` it before the server sees the commands (cut mid-push, nothing landed) or
  ``"lose-answer"``: pass the whole push to the server but never return its answer (the push landed, the
  client cannot know); with ``cut=True`` the client's connection is reset once the server's status report
  (``ok refs/missions/...``, written after the ref moved) goes by, else it is left waiting. ``then`` is the mode
  every later connection meets (``"down"``, ``"hang"`` or ``"forward"``).

Only loopback addresses are ever used.

The zygote (``Zygote``, ``run_forked``) is one Python process that imports the CLI once and forks a child per
command; each child runs the real CLI entry point (``run_app``) on its own arguments, in its own process, and
exits with its exit code. A kill thus lands in the command itself (reading the clone, fetching, pushing,
updating the mirror), and a command costs no interpreter start-up (which costs more than most commands).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
MODES = ("forward", "hang", "down")
PUSH_FAULTS = ("drop", "lose-answer")
_CHUNK = 65536


@dataclass
class _Conn:
    client: socket.socket
    upstream: socket.socket | None = None
    receive_pack: bool = False  # the client asked for git-receive-pack on this connection
    muted: bool = False  # server -> client bytes are dropped
    cut_on_report: bool = False  # reset the connection once the server's push status report goes by
    tail: bytes = b""  # the end of the previous chunk, so a pattern split across reads is still found
    closed: bool = False
    pumps_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pump_finished(self) -> None:
        """Each direction calls this once; the second one closes the connection."""
        with self.lock:
            self.pumps_done += 1
            last = self.pumps_done == 2
        if last:
            self.close()

    def close(self, reset: bool = False) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            if reset:  # SO_LINGER 0: the peer gets a reset, as from a crashed server
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class FaultProxy:
    """``FaultProxy(target_port).start()``; clients use ``proxy.port`` instead of the server's port."""

    def __init__(self, target_port: int) -> None:
        self.target = (LOOPBACK, target_port)
        self.mode = "forward"
        self.push_fault: str | None = None
        self.after_fault = "forward"
        self.cut_after_answer = True
        self.triggered = 0  # how many pushes met the armed fault
        self.connections = 0
        self._conns: list[_Conn] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)

    # ---- control ------------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def url(self, server_url: str, server_port: int) -> str:
        """The server's URL with the proxy's port in place of the server's."""
        return server_url.replace(f"{LOOPBACK}:{server_port}", f"{LOOPBACK}:{self.port}", 1)

    def heal(self) -> None:
        self.push_fault = None
        self._set_mode("forward")

    def hang(self) -> None:
        self._set_mode("hang")

    def go_down(self) -> None:
        self._set_mode("down")

    def arm_push(self, fault: str, then: str = "forward", cut: bool = True) -> None:
        assert fault in PUSH_FAULTS and then in MODES
        self.push_fault, self.after_fault, self.cut_after_answer = fault, then, cut

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for conn in self._snapshot():
            conn.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------------------------
    def _snapshot(self) -> list[_Conn]:
        with self._lock:
            self._conns = [c for c in self._conns if not c.closed]
            return list(self._conns)

    def _set_mode(self, mode: str) -> None:
        assert mode in MODES
        self.mode = mode
        for conn in self._snapshot():
            if mode == "down":
                conn.close(reset=True)
            elif mode == "hang":
                conn.muted = True  # open connections stop getting answers, like new ones

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn = _Conn(client)
            with self._lock:
                self._conns.append(conn)
            if self.mode == "down":
                conn.close(reset=True)
            elif self.mode == "hang":
                conn.muted = True  # accepted, kept open, never answered: held in self._conns
            else:
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: _Conn) -> None:
        try:
            conn.upstream = socket.create_connection(self.target, timeout=5)
            conn.upstream.settimeout(None)
        except OSError:
            conn.close(reset=True)
            return
        threading.Thread(target=self._pump_down, args=(conn,), daemon=True).start()
        self._pump_up(conn)

    def _pump_up(self, conn: _Conn) -> None:
        """Client -> server, watching for the push commands of a mission ref."""
        while not conn.closed:
            data = _recv(conn.client)
            if not data:
                break
            window = conn.tail + data
            conn.tail = window[-64:]
            if b"receive-pack" in window:
                conn.receive_pack = True
            fault = self.push_fault
            if fault and conn.receive_pack and b"refs/missions/" in window:
                self._trigger(conn, fault)
                if fault == "drop":
                    conn.close(reset=True)
                    return
            if not _send(conn.upstream, data):
                break
        # The client is done sending: let the server see the end of its input, keep its answer flowing.
        _shutdown_write(conn.upstream)
        conn.pump_finished()

    def _trigger(self, conn: _Conn, fault: str) -> None:
        self.push_fault = None
        self.triggered += 1
        if fault == "lose-answer":
            conn.muted = True
            conn.cut_on_report = self.cut_after_answer
        self.mode = self.after_fault
        for other in self._snapshot():
            if other is conn:
                continue
            if self.after_fault == "down":
                other.close(reset=True)
            elif self.after_fault == "hang":
                other.muted = True

    def _pump_down(self, conn: _Conn) -> None:
        """Server -> client, unless muted (then the server's bytes go nowhere)."""
        seen = b""
        while not conn.closed:
            data = _recv(conn.upstream)
            if not data:
                break
            if conn.muted:
                seen = (seen + data)[-4096:]
                if conn.cut_on_report and re.search(rb"(ok|ng) refs/missions/", seen):
                    conn.close(reset=True)  # the ref has moved (or not) on the server: the client never learns
                    return
                continue
            if not _send(conn.client, data):
                break
        if not conn.muted:
            _shutdown_write(conn.client)
        conn.pump_finished()


def _recv(sock: socket.socket | None) -> bytes:
    if sock is None:
        return b""
    try:
        return sock.recv(_CHUNK)
    except OSError:
        return b""


def _send(sock: socket.socket | None, data: bytes) -> bool:
    if sock is None:
        return False
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _shutdown_write(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# Forked gitclaim commands

ZYGOTE = """
import contextlib, io, json, os, sys
from gitclaim.cli.app import run_app
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    run_app(["log", "warm-up", "--progress", "x"])  # what the CLI framework imports on its first parse
for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.chdir(req["cwd"])
        os.environ.update(req["env"])
        for fd, path in ((1, req["out"]), (2, req["err"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
        code = run_app(req["args"])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.stdout.write(f"{pid}\\n")
    sys.stdout.flush()
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(f"{os.waitstatus_to_exitcode(status)}\\n")
    sys.stdout.flush()
"""


class Zygote:
    """Forks gitclaim commands (see ZYGOTE). ``scratch`` receives each child's stdout and stderr files."""

    def __init__(self, cwd: Path, scratch: Path) -> None:
        self.cwd, self.scratch = cwd, scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=cwd, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def start(self, args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> int:
        """Fork a child running ``gitclaim <args>``; returns its pid."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        req = {"args": args, "cwd": str(cwd or self.cwd), "env": env or {},
               "out": str(self.scratch / "out"), "err": str(self.scratch / "err")}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"zygote died: {line!r} {self.proc.stderr.read() if self.proc.stderr else ''}")
        return int(line)

    def finish(self) -> tuple[int, str, str]:
        """The child's exit code (-9 when killed), stdout and stderr."""
        assert self.proc.stdout is not None
        code = int(self.proc.stdout.readline())
        return code, (self.scratch / "out").read_text(), (self.scratch / "err").read_text()

    def pids(self) -> set[int]:
        return {self.proc.pid}

    def close(self) -> None:
        self.proc.kill()
        self.proc.communicate()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Run:
    args: list[str]
    returncode: int | None  # None: killed
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.returncode is None

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_forked(zygote: Zygote, args: list[str], kill_after: float | None = None, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> Run:
    """Run one command in a child of the zygote; with ``kill_after``, SIGKILL it that many seconds after it
    started unless it has finished by then (the zygote's report of its exit status says which happened)."""
    start = time.monotonic()
    pid = zygote.start(args, cwd, env)
    if kill_after is not None:
        time.sleep(kill_after)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it had finished
    code, out, err = zygote.finish()
    return Run(args, None if code == -signal.SIGKILL else code, out, err, time.monotonic() - start)
