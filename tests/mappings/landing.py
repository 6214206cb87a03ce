"""Land records the way the connectors do (Singer messages through the real loader)."""

import json

from connectors.landing import SingerLoader

OPEN = {"type": "object"}


def land(engine, source, stream, key, records, run_id=1):
    lines = [json.dumps({"type": "SCHEMA", "stream": stream, "schema": OPEN, "key_properties": key})]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}, ensure_ascii=False) for r in records]
    SingerLoader(engine, source, run_id).feed(lines)
