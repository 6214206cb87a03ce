"""Run any Singer tap executable: discover its catalog, select streams, stream its output.

Config and state go to the tap as files in a private temporary folder (mode 0600) that is
removed afterwards; the tap's stderr is kept only as a redacted tail for error messages.
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
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

_SECRET_KEY = re.compile(r"secret|password|passwd|token|api_?key|app_?key|permanent_?code|private", re.I)


class TapError(RuntimeError):
    """A tap failed to start or exited with an error; the message carries no secrets."""


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
        self.stderr_tail: deque[str] = deque(maxlen=40)

    @contextmanager
    def _workdir(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="hub-tap-") as tmp:
            path = Path(tmp)
            path.chmod(0o700)
            config_file = path / "config.json"
            config_file.touch(mode=0o600)
            config_file.write_text(json.dumps(self.config), encoding="utf-8")
            yield path

    def _fail(self, what: str, code: int) -> TapError:
        tail = redact("".join(self.stderr_tail), self.secrets).strip()
        return TapError(f"{Path(self.command[0]).name} {what} failed (exit {code}): {tail[-1500:]}")

    def discover(self) -> dict:
        with self._workdir() as work:
            try:
                proc = subprocess.run(
                    [*self.command, "--config", str(work / "config.json"), "--discover"],
                    capture_output=True,
                    text=True,
                    stdin=subprocess.DEVNULL,
                    env=self.env,
                    timeout=self.timeout_s,
                )
            except subprocess.TimeoutExpired:
                raise TapError(f"{Path(self.command[0]).name} --discover timed out after {self.timeout_s:.0f} s") from None
        if proc.returncode != 0:
            self.stderr_tail.extend(proc.stderr.splitlines(keepends=True))
            raise self._fail("--discover", proc.returncode)
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise TapError(f"{Path(self.command[0]).name} --discover printed no catalog JSON: {exc}") from exc

    def run(self, catalog: dict | None, state: dict | None, consume: Callable[[Iterator[bytes]], None]) -> None:
        """Run the tap and hand its stdout lines to ``consume``; raise TapError if it fails.

        Without a catalog the tap syncs its default streams (singer-sdk taps: all of them)."""
        with self._workdir() as work:
            args = [*self.command, "--config", str(work / "config.json")]
            if catalog is not None:
                (work / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
                args += ["--catalog", str(work / "catalog.json")]
            if state:
                (work / "state.json").write_text(json.dumps(state), encoding="utf-8")
                args += ["--state", str(work / "state.json")]
            proc = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=self.env
            )
            drain = threading.Thread(target=self._drain_stderr, args=(proc.stderr,), daemon=True)
            drain.start()
            timed_out = threading.Event()

            def stop() -> None:
                timed_out.set()
                proc.kill()

            watchdog = threading.Timer(self.timeout_s, stop) if self.timeout_s else None
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
            if timed_out.is_set():
                raise TapError(f"{Path(self.command[0]).name} timed out after {self.timeout_s:.0f} s and was stopped")
            if code != 0:
                raise self._fail("sync", code)

    def _drain_stderr(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.stderr_tail.append(raw.decode("utf-8", "replace"))
        stream.close()
