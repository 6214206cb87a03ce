"""The connectors' YAML files parse the same with libyaml's loader as with PyYAML's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connectors.kit import yamltext

ROOT = Path(__file__).resolve().parents[2] / "connectors"
FILES = sorted(ROOT.rglob("*.yaml"))


def test_there_are_files_to_compare():
    assert len(FILES) >= 10
    assert {"streams.yaml", "vendor.yaml", "failures.yaml"} <= {f.name for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_connector_yaml_file_parses_as_with_the_pure_python_loader(path):
    text = path.read_text(encoding="utf-8")
    assert yamltext.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader)


def test_the_safe_loaders_refuse_python_objects_alike():
    text = "!!python/object/apply:os.system ['true']"
    with pytest.raises(yaml.YAMLError):
        yamltext.safe_load(text)
    with pytest.raises(yaml.YAMLError):
        yaml.load(text, Loader=yaml.SafeLoader)


def test_the_c_loader_is_used_when_pyyaml_has_it():
    assert yamltext.LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
