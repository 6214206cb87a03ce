"""A small Singer tap script for CLI tests, steered by its own config (which therefore must
really reach it): how many records, a failure message, a pause, and a report file recording
how it received its config (path, whether a pipe) and its pid."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = r'''
import json, os, stat, sys, time
args = sys.argv[1:]
cfg_path = args[args.index("--config") + 1]
mode = os.stat(cfg_path).st_mode
cfg = json.load(open(cfg_path))
stream = cfg.get("stream", "things")
schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
if cfg.get("report"):
    with open(cfg["report"], "a") as fh:
        fh.write(json.dumps({"path": cfg_path, "fifo": stat.S_ISFIFO(mode), "pid": os.getpid(),
                             "state": "--state" in args, "discover": "--discover" in args}) + "\n")
if "--discover" in args:
    print(json.dumps({"streams": [{"tap_stream_id": stream, "stream": stream, "schema": schema,
        "key_properties": ["id"], "replication_key": "id", "replication_method": "INCREMENTAL",
        "metadata": [{"breadcrumb": [], "metadata": {}}]}]}))
    sys.exit(0)
if cfg.get("fail"):
    sys.stderr.write("Traceback (most recent call last):\n  File \"tap.py\", line 1, in <module>\n"
                     + cfg["fail"] + "\n")
    sys.exit(1)
state = json.load(open(args[args.index("--state") + 1])) if "--state" in args else None
print(json.dumps({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["id"]}))
count = 0 if state else int(cfg.get("records", 2))
for i in range(count):
    print(json.dumps({"type": "RECORD", "stream": stream, "record": {"id": i}}))
sys.stderr.write('INFO METRIC: {"type":"counter","metric":"http_request_count","value":1,"tags":{"stream":"%s"}}\n' % stream)
sys.stderr.write("budget: waiting 0.0 s for the call budget\n")
print(json.dumps({"type": "STATE", "value": {"bookmarks": {stream: {"id": count}}}}))
sys.stdout.flush()
time.sleep(float(cfg.get("sleep") or 0))
'''


def write_plain_tap(path: Path) -> str:
    """Write the tap script at ``path`` (executable) and return its path."""
    path.write_text("#!" + sys.executable + "\n" + SCRIPT, encoding="utf-8")
    path.chmod(0o755)
    return str(path)
