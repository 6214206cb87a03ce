"""Start the built-in taps as forks of one warm launcher instead of fresh interpreters.

Why: a tap is a Python program whose imports cost about 0.5 s of CPU before its first record
(singer_sdk's package ``__init__`` alone pulls in jsonschema, requests, upath/fsspec and, through
joblib, numpy). In an incremental run that is most of what a source's sync costs: four tap
start-ups were about half of the 10k world's incremental sync (bench/findings.md). Inside a
:func:`session` (a sync of several sources, a pipeline run) a *launcher* process imports
singer_sdk once; each built-in tap is then a fork of it that imports its own module (once per
kind of tap) and runs the tap's console-script entry point with the very arguments, ``/dev/fd``
input pipes, stdout and stderr an exec'd tap gets. The tap is still its own process speaking
Singer on stdout: the protocol, the loader and the tap code are unchanged - only where its
interpreter comes from. Commands that are not this package's own taps are exec'd as before.

Processes: hub -> launcher -> one *minder* per tap -> the tap. The minder waits for the tap and
reports its pid and exit status back on a socket of its own, so the hub sees a ``Popen``-like
object (:class:`WarmProcess`). The launcher is single-threaded (forking it is safe) and holds no
database connection; it ignores Ctrl-C (the tap, in the terminal's process group, gets it as an
exec'd tap would) and exits when the hub's end of its control socket closes - at the session's
end or when the hub dies, even by ``kill -9`` - killing any minder left, whose tap the kernel
then kills (``PR_SET_PDEATHSIG``). Everything is waited for, so the taps' CPU counts to the
process that ran the session, as exec'd taps' did (bench/stages.py reads it that way).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

_PACKAGE = "connectors."
_PRELOAD = ("singer_sdk", "connectors.kit.tap")
_HIGH_FD = 1000  # received descriptors are parked above this while the tap's are laid out
_lock = threading.Lock()
_current: Launcher | None = None
_depth = 0


@functools.lru_cache(maxsize=32)
def entry_point(executable: str) -> str | None:
    """``module:attr`` of this package's console script ``executable`` (the venv's own tap), or
    None for any other command (those are exec'd as before)."""
    path = Path(executable)
    if path.parent != Path(sys.executable).parent:
        return None
    from importlib.metadata import entry_points

    for ep in entry_points(group="console_scripts", name=path.name):
        if ep.value.startswith(_PACKAGE):
            return ep.value
    return None


@contextlib.contextmanager
def session() -> Iterator[None]:
    """Built-in taps started inside this block (any thread) fork from one warm launcher; it is
    started on first use and reaped when the outermost block ends. Nested blocks share it."""
    global _current, _depth
    with _lock:
        _depth += 1
    try:
        launcher()  # start it now: it imports while the hub reads the first source's state
        yield
    finally:
        with _lock:
            _depth -= 1
            ending, done = _current, _depth == 0
            if done:
                _current = None
        if done and ending is not None:
            ending.close()


def launcher() -> Launcher | None:
    """The session's launcher (started now if need be), or None outside a session or when it
    could not start (the taps are then exec'd)."""
    global _current
    with _lock:
        if _depth == 0:
            return None
        if _current is None:
            _current = Launcher()
        return _current if _current.usable else None


class WarmProcess:
    """The ``subprocess.Popen`` surface the runners use (stdout, stderr, pid, wait, kill,
    returncode) for a tap forked by the launcher."""

    def __init__(self, pid: int, reply: socket.socket, stdout, stderr):
        self.pid, self._reply, self.stdout, self.stderr = pid, reply, stdout, stderr
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """The tap's exit status as Popen gives it (negative: the signal that ended it)."""
        if self.returncode is None:
            self._reply.settimeout(timeout)
            try:
                message = self._reply.recv(4096)
            except TimeoutError:
                raise subprocess.TimeoutExpired(str(self.pid), timeout) from None
            # no message: the minder itself died (the launcher was killed); so did the tap
            self.returncode = json.loads(message)["exit"] if message else -signal.SIGKILL
            self._reply.close()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the tap (as Popen.kill): on a timeout, a Ctrl-C or a loader failure."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


class Launcher:
    """The hub's end of one launcher process (see the module docstring)."""

    def __init__(self) -> None:
        from connectors.singer_runner import tap_environment

        self._ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._send = threading.Lock()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "connectors.warm_taps", str(theirs.fileno())], pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=tap_environment([]))  # its own failure only means the taps are exec'd: no noise
        except OSError:
            self._proc = None
        theirs.close()
        self.usable = self._proc is not None
        self.spawned = 0  # taps forked so far (diagnostics, tests)

    def spawn(self, entry: str, argv: list[str], env: dict[str, str], inputs: list[int]) -> WarmProcess | None:
        """Fork a tap running ``entry`` (``module:attr``) with ``argv``/``env``, stdin empty,
        stdout and stderr pipes (the returned process's ``stdout``/``stderr``) and our
        descriptors ``inputs`` under the same numbers (its ``/dev/fd`` paths). None when the
        launcher cannot (the caller then execs the tap)."""
        with open(os.devnull, "rb") as null:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            fds = {0: null.fileno(), 1: out_w, 2: err_w} | {fd: fd for fd in inputs}
            try:
                proc = self._spawn(entry, argv, env, fds)
            finally:
                os.close(out_w)
                os.close(err_w)
        if proc is None:
            os.close(out_r)
            os.close(err_r)
            return None
        proc.stdout, proc.stderr = open(out_r, "rb"), open(err_r, "rb")  # as Popen's PIPE: buffered
        return proc

    def _spawn(self, entry: str, argv: list[str], env: dict[str, str], fds: dict[int, int]) -> WarmProcess | None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"entry": entry, "argv": argv, "env": env, "targets": list(fds)}).encode()
        try:
            with self._send:
                socket.send_fds(self._ctl, [request], [theirs.fileno(), *fds.values()])
            theirs.close()
            started = mine.recv(4096)
        except OSError:
            started = b""
        if not started:  # the launcher could not fork or import the tap's module
            theirs.close()
            mine.close()
            self.usable = False
            return None
        self.spawned += 1
        return WarmProcess(json.loads(started)["pid"], mine, None, None)

    def close(self) -> None:
        """End the launcher (it exits on the closed socket) and reap it."""
        self._ctl.close()
        if self._proc is not None:
            self._proc.wait()


# --- the launcher process -------------------------------------------------------------------

def _death_signal() -> None:
    """Have the kernel SIGKILL this process when its parent dies: the very setter an exec'd tap
    gets as ``preexec_fn`` (Linux; elsewhere a no-op). Imported by the launcher before it forks."""
    from connectors.singer_runner import _SET_DEATH_SIGNAL

    if _SET_DEATH_SIGNAL is not None:
        _SET_DEATH_SIGNAL()


def _serve(ctl: socket.socket) -> None:
    """The launcher's loop: one minder per request; on EOF kill what is left and wait for all."""
    import importlib
    import select

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in (*_PRELOAD, "connectors.singer_runner"):  # the latter: _death_signal's setter
        importlib.import_module(name)
    minders: set[int] = set()
    while True:
        ready, _, _ = select.select([ctl], [], [], 1.0)
        for pid in list(minders):
            if os.waitpid(pid, os.WNOHANG)[0]:
                minders.discard(pid)
        if not ready:
            continue
        message, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 64)
        if not message:
            break
        request = json.loads(message)
        try:  # the tap's module is imported here, once per kind of tap, so its next fork is warm
            importlib.import_module(request["entry"].split(":")[0])
            pid = os.fork()
        except BaseException:  # say nothing: the hub sees the closed socket and execs the tap
            pid = -1
        if pid == 0:
            ctl.close()
            _mind(request, fds)
        for fd in fds:
            os.close(fd)
        if pid > 0:
            minders.add(pid)
    for pid in minders:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in minders:
        os.waitpid(pid, 0)


def _mind(request: dict, fds: list[int]) -> None:
    """The minder: fork the tap, report its pid, wait for it, report its exit status. Never returns."""
    code = 1
    try:
        _death_signal()
        reply = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            _become_tap(request, fds[1:])
        for fd in fds[1:]:
            os.close(fd)
        reply.send(json.dumps({"pid": pid}).encode())
        status = os.waitpid(pid, 0)[1]
        reply.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
        code = 0
    finally:
        os._exit(code)


def _become_tap(request: dict, fds: list[int]) -> None:
    """In the tap's process: lay out its descriptors, environment and argv as exec would, run
    its entry point, exit with its status (a Ctrl-C: by SIGINT, as Python does). Never returns."""
    _death_signal()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parked = [fcntl.fcntl(fd, fcntl.F_DUPFD, _HIGH_FD) for fd in fds]
    targets = request["targets"]
    for fd in fds:
        os.close(fd)
    for high, target in zip(parked, targets, strict=True):
        os.dup2(high, target)
    keep = set(targets)
    for fd in [int(n) for n in os.listdir("/proc/self/fd")] if os.path.isdir("/proc/self/fd") else []:
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    code: int | str | None = 0
    try:
        module, _, attr = request["entry"].partition(":")
        target = __import__(module, fromlist=["_"])
        for part in attr.split("."):
            target = getattr(target, part)
        code = target()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    _flush()
    os._exit(code or 0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
