"""Plugins: the registry, `hub plugins` commands, and sources that say `plugin:` / `manifest:`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from connectors.plugins import PluginError, get_plugin, list_plugins, remove_plugin
from connectors.plugins.registry import _write, default_pip_url, guess_kind
from connectors.singer_runner import TapError
from connectors.sources import MANIFESTS_DIR, SourcesError, parse_sources, resolve_manifest
from hub_cli.main import app

runner = CliRunner()


def _entry(venv, name="tap-x", kind="singer"):
    return {"name": name, "kind": kind, "pip_url": name, "executable": name, "venv": str(venv), "installed_at": "t"}


def test_kind_and_package_follow_the_meltano_and_airbyte_names():
    assert (guess_kind("tap-jsonl"), default_pip_url("tap-jsonl", "singer")) == ("singer", "tap-jsonl")
    assert (guess_kind("source-faker"), default_pip_url("source-faker", "airbyte")) == ("airbyte", "airbyte-source-faker")


def test_registry_lists_finds_and_removes(tmp_path):
    venv = tmp_path / "tap-x" / "venv-1"
    (venv / "bin").mkdir(parents=True)
    _write(tmp_path, {"tap-x": _entry(venv)})
    assert [p.name for p in list_plugins(tmp_path)] == ["tap-x"]
    with pytest.raises(PluginError, match="missing; reinstall with `hub plugins add tap-x`"):
        get_plugin("tap-x", tmp_path).command()
    (venv / "bin" / "tap-x").write_text("#!/bin/sh\n")
    assert get_plugin("tap-x", tmp_path).command() == [str(venv / "bin" / "tap-x")]
    remove_plugin("tap-x", tmp_path)
    assert list_plugins(tmp_path) == [] and not (tmp_path / "tap-x").exists()
    with pytest.raises(PluginError, match="not installed"):
        remove_plugin("tap-x", tmp_path)


def test_sources_say_plugin_or_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_PLUGINS_DIR", str(tmp_path))
    venv = tmp_path / "source-y" / "venv-1"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "source-y").write_text("#!/bin/sh\n")
    _write(tmp_path, {"source-y": _entry(venv, "source-y", "airbyte")})
    plugin, manifest, missing, ghost = parse_sources({"sources": {
        "p": {"plugin": "source-y"},
        "m": {"manifest": "finance_credit_ratings", "config": {"base_url": "http://x"}},
        "bad": {"manifest": "no_such_manifest"},
        "ghost": {"plugin": "tap-ghost"},
    }})
    assert plugin.kind == "airbyte" and plugin.tap_command() == [str(venv / "bin" / "source-y")]
    assert manifest.kind == "airbyte" and manifest.tap_command() == ["source-declarative-manifest"]
    assert manifest.extra_args() == ["--manifest-path", str(MANIFESTS_DIR / "finance_credit_ratings.yaml")]
    assert "manifest 'no_such_manifest' not found" in missing.config_error  # fails alone, others run
    with pytest.raises(TapError, match="not installed .run `hub plugins add tap-ghost`"):
        ghost.tap_command()
    with pytest.raises(SourcesError, match="exactly one of"):
        parse_sources({"sources": {"x": {"plugin": "a", "manifest": "b"}}})


def test_a_manifest_path_is_relative_to_the_sources_file(tmp_path):
    (tmp_path / "mine.yaml").write_text("version: 7.0.0\n")
    assert resolve_manifest("mine.yaml", tmp_path) == tmp_path / "mine.yaml"
    with pytest.raises(SourcesError, match="finance_credit_ratings"):
        resolve_manifest("nope.yaml", tmp_path)


def test_cli_lists_removes_and_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_PLUGINS_DIR", str(tmp_path))
    assert "no plugins installed" in runner.invoke(app, ["plugins", "list"]).output
    venv = tmp_path / "tap-x" / "venv-1"
    (venv / "bin").mkdir(parents=True)
    _write(tmp_path, {"tap-x": _entry(venv)})
    listed = runner.invoke(app, ["plugins", "list"])
    assert listed.exit_code == 0 and "tap-x" in listed.output and "singer" in listed.output
    assert runner.invoke(app, ["plugins", "remove", "tap-x"]).exit_code == 0
    gone = runner.invoke(app, ["plugins", "remove", "tap-x"])
    assert gone.exit_code == 1 and "not installed" in gone.output
    bad = runner.invoke(app, ["plugins", "add", "bad name!"])
    assert bad.exit_code == 1 and "plugin name" in bad.output
    kind = runner.invoke(app, ["plugins", "add", "tap-x", "--kind", "kafka"])
    assert kind.exit_code == 1 and "use one of singer, airbyte" in kind.output


def test_plugins_help_loads_no_heavy_library():
    code = ("import sys, hub_cli.main; from hub_cli import plugins_cmd; "
            "print(json.dumps([m for m in ('sqlalchemy', 'airbyte_cdk', 'singer_sdk') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    assert "add" in runner.invoke(app, ["plugins", "--help"]).output


def test_uv_reason_joins_a_wrapped_sentence_into_one_line():
    from connectors.plugins.registry import uv_reason

    stderr = (
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because tap-x was not found in the package\n"
        "      registry and you require tap-x, we can\n"
        "      conclude that your requirements are unsatisfiable.\n"
        "\n"
        "hint: check the spelling\n"
    )
    assert uv_reason(stderr) == (
        "Because tap-x was not found in the package registry and you require tap-x, "
        "we can conclude that your requirements are unsatisfiable."
    )
    assert uv_reason("error: something\n   broke   badly\n") == "error: something broke badly"
    long = uv_reason("error: " + "word " * 200, cap=50)
    assert len(long) <= 50 and long.endswith("...") and "\n" not in long
