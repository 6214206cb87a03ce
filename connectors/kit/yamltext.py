"""The connectors' YAML data files (catalogues, vendor files, failure rules) parsed with libyaml.

A tap reads its ``streams.yaml`` and ``vendor.yaml`` on every run (a warm tap is a fresh fork,
its caches empty). PyYAML's pure-Python parser took ~15-50 ms of a tap's CPU for them; its
``CSafeLoader`` (libyaml, shipped in PyYAML's wheels) builds the same objects ~8x faster (every
YAML file under ``connectors/`` parses equal with both; tests/connectors/test_kit_yamltext.py).
Where PyYAML was built without libyaml, the pure-Python ``SafeLoader`` is used: same results.
"""

from __future__ import annotations

import typing as t

import yaml

#: libyaml's safe loader when PyYAML has it, else the pure-Python one.
LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> t.Any:
    """``yaml.safe_load(text)``, with libyaml's parser when available (module docstring)."""
    return yaml.load(text, Loader=LOADER)
