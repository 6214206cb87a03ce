"""What the conformance suite needs around a connector: its environment, its process, states."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from connectors.sources import SourceConfig, parse_sources

FUTURE_DAY = "2099-12-31"
FUTURE_EPOCH_S = 4102358400  # 2099-12-31T00:00:00Z
FAKE_SOURCE = Path(__file__).parents[1] / "connectors" / "fake_airbyte_source.py"


_INSTALLED: dict[str, str] = {}
_SESSION_PLUGINS: list[Path] = []


def session_plugins_dir() -> Path:
    """One plugins folder for the whole test process (removed at exit): PyPI plugins are
    installed into it once, whichever test needs them first."""
    if not _SESSION_PLUGINS:
        import atexit
        import shutil
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="hub-test-plugins-"))
        atexit.register(shutil.rmtree, path, True)
        _SESSION_PLUGINS.append(path)
    return _SESSION_PLUGINS[0]


def install_once(name: str, timeout_s: float = 300) -> str:
    """Install the PyPI plugin ``name`` into the session plugins folder (once); its name."""
    from connectors.plugins import add_plugin

    if name not in _INSTALLED:
        _INSTALLED[name] = add_plugin(name, base=session_plugins_dir(), timeout_s=timeout_s).name
    return _INSTALLED[name]


@dataclass(frozen=True)
class Case:
    """One connector under test (see tests/conformance/cases.py)."""

    id: str
    make: Callable[[Env], dict]
    required: str | None  # a config field it cannot run without
    wrong: str | None  # a config field whose wrong value its connection check refuses
    future: Callable[[dict], dict] | None = None
    marks: tuple = ()
    rereads: bool = False  # the connector re-sends everything whatever its state (the hub lands nothing new)


@dataclass
class Env:
    """The test environment handed to ``Case.make``."""

    urls: dict[str, str]
    tmp: Path
    installer: Callable[[str], str] | None = None  # installs a PyPI plugin, returns its name
    _demo: dict = field(default_factory=dict)

    def demo(self, system: str, manifest: str | None = None, **config) -> dict:
        """The demo source of a simulated ``system`` (crm, u8, finance, wecom), secrets filled in;
        with ``manifest`` the same config run by that Airbyte manifest instead of the built-in tap."""
        if not self._demo:
            from hub_cli.demo import demo_sources

            sources, secrets = demo_sources(self.urls)
            text = json.dumps(sources)
            for name, value in secrets.items():
                text = text.replace(f"${{{name}}}", value)
            self._demo.update(json.loads(text)["sources"])
        system_name = {"crm": "crm", "u8": "u8", "finance": "finance", "wecom": "wecom"}[system]
        body = json.loads(json.dumps(self._demo[system_name]))
        body["config"].update(config)
        if manifest:
            body.pop("connector")
            body["manifest"] = manifest
        return body

    def write(self, name: str, text: str) -> str:
        """Write a scratch file; its path."""
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def fake_airbyte_plugin(self) -> str:
        """Register tests/connectors/fake_airbyte_source.py as the plugin ``source-fake``."""
        from connectors.plugins.registry import _read, _write, plugins_dir

        base = plugins_dir()
        venv = base / "source-fake" / "venv-local"
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        exe = venv / "bin" / "source-fake"
        exe.write_text(f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(FAKE_SOURCE)!r}, run_name='__main__')\n")
        exe.chmod(0o755)
        registry = _read(base)
        registry["source-fake"] = {"name": "source-fake", "kind": "airbyte", "pip_url": str(FAKE_SOURCE),
                                   "executable": "source-fake", "venv": str(venv), "installed_at": "test"}
        _write(base, registry)
        return "source-fake"

    def pypi_plugin(self, name: str, config: dict, streams: list[str] | None = None) -> dict:
        """A source running the PyPI plugin ``name`` (installed once per test session)."""
        if self.installer is None:
            raise RuntimeError("no plugin installer in this environment")
        return {"plugin": self.installer(name), "config": config, **({"streams": streams} if streams else {})}

    def jsonl_config(self) -> dict:
        """tap-jsonl reading a file of 5 customers keyed by ``id``."""
        lines = [json.dumps({"id": i, "name": f"customer {i}", "updated": f"2026-11-0{i}"}) for i in range(1, 6)]
        return {"path": self.write("customers.jsonl", "\n".join(lines) + "\n"), "stream_name": "customers",
                "primary_keys": ["id"]}

    @staticmethod
    def faker_config() -> dict:
        """airbyte-source-faker: a few deterministic users, products and purchases."""
        return {"count": 5, "seed": 7, "records_per_slice": 2, "parallelism": 1, "always_updated": False}


def source_config(case: Case, env: Env) -> SourceConfig:
    """The case's source as the hub reads it from connectors.yaml."""
    [source] = parse_sources({"sources": {case.id: case.make(env)}}, "conformance")
    return source


def _future_text(value: str) -> str | None:
    text = value.strip()
    if len(text) < 10:
        return None
    try:
        if len(text) == 10:
            date.fromisoformat(text)
            return FUTURE_DAY
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return f"{FUTURE_DAY}T00:00:00" + (moment.strftime("%z") and "+00:00")


def futurize(value):
    """``value`` with every ISO date/time string and epoch (s or ms) number moved to 2099-12-31."""
    if isinstance(value, dict):
        return {k: futurize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [futurize(v) for v in value]
    if isinstance(value, str):
        return _future_text(value) or value
    if isinstance(value, int) and not isinstance(value, bool):
        if value > 10**12:
            return FUTURE_EPOCH_S * 1000
        if value > 10**9:
            return FUTURE_EPOCH_S
    return value


def fake_future(state: dict) -> dict:
    """The fake Airbyte source counts ``updated_at`` 1, 2, ...: any big number is the future."""
    text = json.dumps(state)
    for i in range(20, 0, -1):
        text = text.replace(f'"updated_at": {i}}}', '"updated_at": 1000000}')
    return json.loads(text)


def incremental_streams(before: dict, after: dict) -> set[str]:
    """The streams whose bookmark the future state moved (Singer ``bookmarks`` or Airbyte states)."""
    moved = set()
    for name, bookmark in (before.get("bookmarks") or {}).items():
        if (after.get("bookmarks") or {}).get(name) != bookmark:
            moved.add(name)
    airbyte_before, airbyte_after = before.get("airbyte") or {}, after.get("airbyte") or {}
    for name, entry in (airbyte_before.get("streams") or {}).items():
        if (airbyte_after.get("streams") or {}).get(name) != entry:
            moved.add(name)
    if airbyte_before.get("global") != airbyte_after.get("global"):
        for entry in (airbyte_before.get("global") or {}).get("global", {}).get("stream_states", []):
            moved.add(entry["stream_descriptor"]["name"])
    return moved
