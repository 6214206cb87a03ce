"""A tap process does not load what only Singer targets need; the SDK's names stay the same."""

import json
import subprocess
import sys

_PROBE = """
import json, sys
import connectors.tap_finance.tap, connectors.tap_fxiaoke.tap, connectors.tap_wecom.tap, connectors.tap_u8.tap
loaded = sorted(m for m in ("joblib", "numpy") if m in sys.modules)
import singer_sdk
from singer_sdk import Stream, Tap
from singer_sdk.streams import Stream as S2
from singer_sdk.tap_base import Tap as T2
same = Stream is S2 and Tap is T2
target = singer_sdk.Target.__module__  # a name of the real __init__: loaded on demand
print(json.dumps({"loaded": loaded, "same": same, "target": target, "all": "Tap" in singer_sdk.__all__}))
"""


def test_taps_import_without_target_machinery_and_sdk_names_resolve():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"loaded": [], "same": True, "target": "singer_sdk.target_base", "all": True}
