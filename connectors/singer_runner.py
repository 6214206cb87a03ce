"""Run any Singer tap executable: discover its catalog, select streams, stream its output.

Config, catalog and state reach the tap through anonymous pipes named ``/dev/fd/N``: nothing
is written to disk, so a killed sync cannot leave a plaintext config behind. (Where the OS has
no ``/dev/fd`` they go to a private 0700 temporary folder removed afterwards.) On Linux the tap
also dies with the hub. The tap's stderr is watched line by line (singer-sdk ``METRIC`` lines
and waits feed the progress display) and kept only as a redacted tail for error messages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, Self

_SECRET_KEY = re.compile(r"secret|password|passwd|token|api_?key|app_?key|permanent_?code|private", re.IGNORECASE)


class TapError(RuntimeError):
    """A tap failed to start or exited with an error; the message carries no secrets."""


class TapObserver(Protocol):
    """Receives what a running tap reports on stderr (for progress displays)."""

    def tap_line(self, line: str) -> None:
        """One stderr line of the tap (already decoded, not yet redacted)."""


_METRIC = re.compile(r"METRIC: (\{.*\})\s*$")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Failure|Interrupt)\w*): (.+)$")
_LOG_PREFIX = re.compile(r"^\S+ \S+ \| (?:ERROR|CRITICAL|FATAL)\s*\| [^|]*\| (.+)$")


def parse_metric(line: str) -> dict | None:
    """The JSON of a singer-sdk ``METRIC: {...}`` log line, or None."""
    match = _METRIC.search(line)
    if not match:
        return None
    try:
        value = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def final_error(lines: list[str]) -> str:
    """The line that says why a tap failed: the last ``SomeError: message`` of its traceback,
    else the last ERROR log message, else the last non-empty line."""
    stripped = [line.strip() for line in lines if line.strip()]
    for line in reversed(stripped):
        if _EXCEPTION_LINE.match(line):
            return line
    for line in reversed(stripped):
        match = _LOG_PREFIX.match(line)
        if match:
            return match.group(1).strip()
    return stripped[-1] if stripped else ""


def sweep_leftover_inputs() -> list[str]:
    """Delete ``hub-tap-*`` folders of ours in the temp folder: plaintext configs that earlier
    hub versions (files instead of pipes) left behind when a sync was killed. Where this version
    itself needs such folders (no /dev/fd) nothing is swept, as they may belong to a live sync."""
    if not os.path.isdir("/dev/fd"):  # pragma: no cover
        return []
    removed = []
    for path in Path(tempfile.gettempdir()).glob("hub-tap-*"):
        try:
            if path.is_dir() and not path.is_symlink() and path.stat().st_uid == os.getuid():
                shutil.rmtree(path)
                removed.append(str(path))
        except OSError:
            continue
    return removed


def _death_signal_setter() -> Callable[[], None] | None:
    """Linux: a function for ``preexec_fn`` that has the kernel SIGKILL the tap when the hub
    dies (even by kill -9). Everything is resolved here, in the parent: between fork and exec
    the child only makes one foreign call (no import, no lock another thread could hold)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        import signal

        prctl = ctypes.CDLL(None, use_errno=True).prctl
        prctl.restype = ctypes.c_int
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        args = (1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None

    def set_death_signal() -> None:  # pragma: no cover - runs in the child
        prctl(*args)

    return set_death_signal


_SET_DEATH_SIGNAL = _death_signal_setter()


class _Inputs:
    """The tap's input documents as ``/dev/fd/N`` pipes (or, lacking /dev/fd, private files)."""

    def __init__(self, documents: dict[str, dict]):
        self.documents = documents
        self.paths: dict[str, str] = {}
        self.pass_fds: list[int] = []
        self._writers: list[threading.Thread] = []
        self._read_ends: list[int] = []
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Self:
        use_pipes = os.path.isdir("/dev/fd")
        if not use_pipes:  # pragma: no cover - not on Linux/macOS
            self._tmp = tempfile.TemporaryDirectory(prefix="hub-tap-")
            Path(self._tmp.name).chmod(0o700)
        for name, document in self.documents.items():
            data = json.dumps(document).encode("utf-8")
            if use_pipes:
                read_end, write_end = os.pipe()
                self._read_ends.append(read_end)
                self.pass_fds.append(read_end)
                self.paths[name] = f"/dev/fd/{read_end}"
                writer = threading.Thread(target=self._write, args=(write_end, data), daemon=True)
                writer.start()
                self._writers.append(writer)
            else:  # pragma: no cover
                path = Path(self._tmp.name) / f"{name}.json"
                path.touch(mode=0o600)
                path.write_bytes(data)
                self.paths[name] = str(path)
        return self

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        try:
            with os.fdopen(fd, "wb") as pipe:
                pipe.write(data)
        except OSError:  # the tap exited without reading: nothing to deliver
            pass

    def started(self) -> None:
        """The child has its copies of the read ends: close ours, so a tap that exits
        unread breaks the pipe and the writer thread ends."""
        for fd in self._read_ends:
            os.close(fd)
        self._read_ends = []

    def __exit__(self, *exc) -> None:
        self.started()
        for writer in self._writers:
            writer.join(timeout=5)
        if self._tmp is not None:  # pragma: no cover
            self._tmp.cleanup()


def secret_values(config, secret: bool = False) -> list[str]:
    """Values under config keys that look like credentials, searched through nested objects
    and lists (every string under a secret-looking key counts)."""
    found: list[str] = []
    if isinstance(config, dict):
        for key, value in config.items():
            found.extend(secret_values(value, secret or bool(_SECRET_KEY.search(str(key)))))
    elif isinstance(config, list):
        for value in config:
            found.extend(secret_values(value, secret))
    elif secret and isinstance(config, str) and config:
        found.append(config)
    return found


def tap_environment(secrets: list[str]) -> dict[str, str]:
    """The hub's environment minus credentials: taps get theirs in the config file only."""
    hidden = set(secrets)
    return {k: v for k, v in os.environ.items() if v not in hidden and not _SECRET_KEY.search(k)}


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value (3+ characters) replaced by ``***``."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, "***")
    return text


def resolve_executable(name: str) -> str:
    """Find a tap executable: beside the running Python first (our venv), then on PATH."""
    if os.sep in name:
        return name
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise TapError(f"tap executable {name!r} not found (install it or give its full path)")
    return found


def select_streams(catalog: dict, streams: list[str] | None) -> dict:
    """Mark the chosen streams (all when ``streams`` is None) selected in a Singer catalog."""
    known = {s.get("tap_stream_id") or s.get("stream") for s in catalog.get("streams", [])}
    if streams is not None:
        unknown = sorted(set(streams) - known)
        if unknown:
            raise TapError(f"streams not offered by the tap: {', '.join(unknown)}")
    for entry in catalog.get("streams", []):
        name = entry.get("tap_stream_id") or entry.get("stream")
        chosen = streams is None or name in streams
        metadata = entry.setdefault("metadata", [])
        top = next((m for m in metadata if not m.get("breadcrumb")), None)
        if top is None:
            top = {"breadcrumb": [], "metadata": {}}
            metadata.append(top)
        top["metadata"]["selected"] = chosen
    return catalog


class TapProcess:
    """One tap: ``discover()`` its catalog, then ``run()`` it and iterate its stdout lines."""

    def __init__(self, command: list[str], config: dict, timeout_s: float | None = None):
        if not command:
            raise TapError("empty tap command")
        self.command = [resolve_executable(command[0]), *command[1:]]
        self.config = config
        self.secrets = secret_values(config)
        self.timeout_s = timeout_s
        self.env = tap_environment(self.secrets)
        self.stderr_tail: deque[str] = deque(maxlen=80)

    def _fail(self, what: str, code: int) -> TapError:
        tail = redact("".join(self.stderr_tail), self.secrets).strip()
        reason = redact(final_error(list(self.stderr_tail)), self.secrets)
        error = TapError(f"{Path(self.command[0]).name} {what} failed (exit {code}): {reason or tail[-300:]}")
        error.detail = tail[-4000:]  # the redacted stderr tail, for the log file
        error.exit_code = code  # negative: the signal that ended it (connectors/sync.py: Ctrl-C)
        return error

    def _popen(self, args: list[str], inputs: _Inputs, **kwargs) -> subprocess.Popen:
        try:
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, env=self.env, pass_fds=inputs.pass_fds,
                preexec_fn=_SET_DEATH_SIGNAL,
                **kwargs,
            )
        except OSError as exc:
            raise TapError(f"{Path(self.command[0]).name} could not be started: {exc.strerror}") from None
        inputs.started()
        return proc

    def _warm(self, args: list[str], inputs: _Inputs):
        """The tap forked from the session's warm launcher (connectors/warm_taps.py: no interpreter
        start-up and imports per tap), or None: not inside a session, not one of this package's
        own taps, or the launcher could not."""
        from connectors import warm_taps

        entry = warm_taps.entry_point(self.command[0])
        launcher = warm_taps.launcher() if entry else None
        proc = launcher.spawn(entry, args, self.env, inputs.pass_fds) if launcher else None
        if proc is not None:
            inputs.started()
        return proc

    def discover(self) -> dict:
        """Run ``--discover`` and return the catalog."""
        with _Inputs({"config": self.config}) as inputs:
            proc = self._popen([*self.command, "--config", inputs.paths["config"], "--discover"], inputs,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                out, err = proc.communicate(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise TapError(f"{Path(self.command[0]).name} --discover timed out after {self.timeout_s:.0f} s") from None
        if proc.returncode != 0:
            self.stderr_tail.extend(err.decode("utf-8", "replace").splitlines(keepends=True))
            raise self._fail("--discover", proc.returncode)
        try:
            return json.loads(out)
        except json.JSONDecodeError as exc:
            raise TapError(f"{Path(self.command[0]).name} --discover printed no catalog JSON: {exc}") from exc

    def run(self, catalog: dict | None, state: dict | None, consume: Callable[[Iterator[bytes]], None],
            observer: TapObserver | None = None) -> None:
        """Run the tap and hand its stdout lines to ``consume``; raise TapError if it fails.

        Without a catalog the tap syncs its default streams (singer-sdk taps: all of them)."""
        documents = {"config": self.config}
        if catalog is not None:
            documents["catalog"] = catalog
        if state:
            documents["state"] = state
        with _Inputs(documents) as inputs:
            args = [*self.command, "--config", inputs.paths["config"]]
            if "catalog" in inputs.paths:
                args += ["--catalog", inputs.paths["catalog"]]
            if "state" in inputs.paths:
                args += ["--state", inputs.paths["state"]]
            proc = self._warm(args, inputs) or self._popen(args, inputs, stdout=subprocess.PIPE,
                                                           stderr=subprocess.PIPE)
            drain = threading.Thread(target=self._drain_stderr, args=(proc.stderr, observer), daemon=True)
            code, timed_out = supervise(proc, consume, drain, self.timeout_s)
        if timed_out:
            raise TapError(f"{Path(self.command[0]).name} timed out after {self.timeout_s:.0f} s and was stopped")
        if code != 0:
            raise self._fail("sync", code)

    def _drain_stderr(self, stream, observer: TapObserver | None = None) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if "METRIC: " not in line:  # metrics are many and say nothing about a failure
                self.stderr_tail.append(line)
            if observer is not None:
                try:
                    observer.tap_line(line)
                except Exception:
                    pass
        stream.close()


def supervise(proc: subprocess.Popen, consume: Callable[[Iterator[bytes]], None], drain: threading.Thread,
              timeout_s: float | None) -> tuple[int, bool]:
    """Hand a connector process's stdout lines to ``consume`` while ``drain`` reads its stderr;
    kill it when ``timeout_s`` runs out or when ``consume`` raises. Returns (exit code, timed out).
    Shared by the Singer and Airbyte runners: one place decides how a connector is stopped."""
    drain.start()
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(timeout_s, stop) if timeout_s else None
    if watchdog:
        watchdog.start()
    try:
        consume(iter(proc.stdout.readline, b""))
    except BaseException:
        proc.kill()
        raise
    finally:
        proc.stdout.close()
        code = proc.wait()
        drain.join(timeout=5)
        if watchdog:
            watchdog.cancel()
    return code, timed_out.is_set()
