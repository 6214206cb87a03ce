"""Install, record, find and remove connector plugins (see the package docstring)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

KINDS = ("singer", "airbyte")
REGISTRY_FILE = "plugins.json"
INSTALL_TIMEOUT_S = 900
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class PluginError(RuntimeError):
    """A plugin cannot be installed, found or run; the message says what to do."""


@dataclass
class Plugin:
    """One installed plugin: what it is, where its virtualenv lives, what to run."""

    name: str
    kind: str  # singer | airbyte
    pip_url: str
    executable: str  # the command's name inside the venv's bin folder
    venv: str
    installed_at: str

    def command(self) -> list[str]:
        """The full path of the plugin's executable (checked to exist)."""
        path = Path(self.venv) / ("Scripts" if os.name == "nt" else "bin") / self.executable
        if not path.exists():
            raise PluginError(f"plugin {self.name!r}: {path} is missing; reinstall with `hub plugins add {self.name}`")
        return [str(path)]


def plugins_dir(base: Path | str | None = None) -> Path:
    """Where plugins live: ``base``, else ``HUB_PLUGINS_DIR``, else ``hub-data/plugins``."""
    return Path(base or os.environ.get("HUB_PLUGINS_DIR") or "hub-data/plugins").absolute()


def guess_kind(name: str) -> str:
    """``source-*`` names are Airbyte sources, anything else (``tap-*``) a Singer tap."""
    return "airbyte" if name.startswith("source-") else "singer"


def default_pip_url(name: str, kind: str) -> str:
    """Meltano/Airbyte naming: ``tap-x`` is on PyPI as itself, ``source-x`` as ``airbyte-source-x``."""
    return f"airbyte-{name}" if kind == "airbyte" and name.startswith("source-") else name


def _read(base: Path) -> dict[str, dict]:
    path = base / REGISTRY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise PluginError(f"plugin registry {path} is unreadable: {exc}") from None
    return data if isinstance(data, dict) else {}


def _write(base: Path, data: dict[str, dict]) -> None:
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".{REGISTRY_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, base / REGISTRY_FILE)  # atomic: a crash never leaves half a registry


def list_plugins(base: Path | str | None = None) -> list[Plugin]:
    """Every installed plugin, by name."""
    return [Plugin(**entry) for _, entry in sorted(_read(plugins_dir(base)).items())]


def get_plugin(name: str, base: Path | str | None = None) -> Plugin:
    """The installed plugin ``name``, or PluginError saying how to install it."""
    entry = _read(plugins_dir(base)).get(name)
    if entry is None:
        raise PluginError(f"plugin {name!r} is not installed (run `hub plugins add {name}`)")
    return Plugin(**entry)


def uv_command() -> list[str]:
    """How to call uv: ``uv`` on PATH, beside our Python or its base interpreter (where
    ``pip install uv`` puts it), else ``python -m uv``."""
    found = shutil.which("uv")
    for folder in (Path(sys.executable).parent, Path(sys.base_prefix) / "bin"):
        if not found and (folder / "uv").exists():
            found = str(folder / "uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _uv(args: list[str], what: str, timeout_s: float) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # not our own venv
    try:
        done = subprocess.run([*uv_command(), *args], capture_output=True, text=True, timeout=timeout_s,
                              env=env, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise PluginError(f"{what} timed out after {timeout_s:.0f} s") from None
    except OSError as exc:
        raise PluginError(f"{what}: uv could not be started: {exc.strerror}") from None
    if done.returncode != 0:
        raise PluginError(f"{what} failed: {uv_reason(done.stderr)}")


_REASON_CAP = 300
_NEW_PARAGRAPH = ("hint:", "help:", "error:", "warning:", "×", "╰", "│")


def uv_reason(stderr: str, cap: int = _REASON_CAP) -> str:
    """uv's explanation as one line: uv wraps its sentences over several indented lines, so the
    paragraph holding "Because ..." (else the "error" one, else the last) is joined, its
    whitespace collapsed, and cut at ``cap`` characters (with "...") so one line stays one line."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        starts_new = line.startswith(_NEW_PARAGRAPH) or "Because" in line
        if not line or (starts_new and current):
            if current:
                paragraphs.append(current)
            current = []
        if line:
            current.append(line)
    if current:
        paragraphs.append(current)
    texts = [" ".join(" ".join(p).split()) for p in paragraphs]
    because = next((text[text.index("Because"):] for text in texts if "Because" in text), None)
    reason = because or next((text for text in texts if "error" in text.lower()), texts[-1] if texts else "")
    return reason if len(reason) <= cap else reason[: cap - 3].rstrip() + "..."


def _executables(venv: Path) -> list[str]:
    return sorted(p.name for p in (venv / "bin").iterdir() if p.name.startswith(("tap-", "source-")))


def add_plugin(name: str, pip_url: str | None = None, kind: str | None = None, executable: str | None = None,
               base: Path | str | None = None, python: str | None = None,
               timeout_s: float = INSTALL_TIMEOUT_S) -> Plugin:
    """Install ``pip_url`` (default from the name) into ``<plugins dir>/<name>/venv`` and record
    it. Reinstalling replaces the old venv only once the new one works."""
    if not _NAME.match(name):
        raise PluginError(f"plugin name {name!r}: use letters, digits, '.', '_' or '-'")
    kind = kind or guess_kind(name)
    if kind not in KINDS:
        raise PluginError(f"plugin kind {kind!r}: use one of {', '.join(KINDS)}")
    pip_url = pip_url or default_pip_url(name, kind)
    executable = executable or name
    base_dir = plugins_dir(base)
    home = base_dir / name
    # A fresh venv each time (its scripts hold their absolute path, so it cannot be moved); the
    # registry points at it only once it works, then the older ones go.
    venv = home / f"venv-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
    home.mkdir(parents=True, exist_ok=True)
    try:
        py = python or f"{sys.version_info.major}.{sys.version_info.minor}"
        _uv(["venv", "--quiet", "--python", py, str(venv)], f"creating the venv of {name}", timeout_s)
        _uv(["pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *pip_url.split()],
            f"installing {pip_url}", timeout_s)
        if not (venv / "bin" / executable).exists():
            offered = ", ".join(_executables(venv)) or "none"
            raise PluginError(f"{pip_url} installs no executable {executable!r} (it offers: {offered}); "
                              "give --executable")
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    plugin = Plugin(name=name, kind=kind, pip_url=pip_url, executable=executable, venv=str(venv),
                    installed_at=datetime.now(UTC).isoformat(timespec="seconds"))
    registry = _read(base_dir)
    registry[name] = asdict(plugin)
    _write(base_dir, registry)
    for old in home.glob("venv-*"):
        if old != venv:
            shutil.rmtree(old, ignore_errors=True)
    return plugin


def remove_plugin(name: str, base: Path | str | None = None) -> Plugin:
    """Forget ``name`` and delete its virtualenv."""
    base_dir = plugins_dir(base)
    registry = _read(base_dir)
    if name not in registry:
        raise PluginError(f"plugin {name!r} is not installed")
    plugin = Plugin(**registry.pop(name))
    _write(base_dir, registry)
    shutil.rmtree(base_dir / name, ignore_errors=True)
    return plugin
