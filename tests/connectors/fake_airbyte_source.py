"""A tiny Airbyte source for the runner tests: speaks the protocol from a config, nothing else.

Streams: ``users`` (key ``id``, incremental on ``updated_at``) and ``events`` (full refresh,
composite key ``day``+``seq``). Config: ``count`` users; ``fail_check``; ``trace_after`` N
records (then a TRACE error and exit 1); ``state_type`` STREAM (default) | GLOBAL | LEGACY;
``secret`` (echoed in a TRACE error to test redaction).
"""

import json
import sys


def emit(message):
    print(json.dumps(message), flush=True)


def arg(name):
    args = sys.argv
    return args[args.index(name) + 1] if name in args else None


def load(name):
    path = arg(name)
    if path is None:
        return None
    with open(path) as f:  # read twice, like airbyte-cdk does: the hub's inputs must allow it
        f.read()
    with open(path) as f:
        return json.load(f)


USERS = {"name": "users", "json_schema": {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "updated_at": {"type": "integer"}}},
    "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": True,
    "default_cursor_field": ["updated_at"], "source_defined_primary_key": [["id"]]}
EVENTS = {"name": "events", "json_schema": {"type": "object", "properties": {
    "day": {"type": "string"}, "seq": {"type": "integer"}}},
    "supported_sync_modes": ["full_refresh"], "source_defined_primary_key": [["day"], ["seq"]]}


def state_value(stored, stype):
    if not stored:
        return 0
    if stype == "LEGACY":
        return stored.get("users", {}).get("updated_at", 0)
    for message in stored:
        if message.get("type") == "GLOBAL":
            return message["global"]["stream_states"][0]["stream_state"]["updated_at"]
        if message["stream"]["stream_descriptor"]["name"] == "users":
            return message["stream"]["stream_state"]["updated_at"]
    return 0


def state_message(stype, cursor):
    if stype == "GLOBAL":
        return {"type": "GLOBAL", "global": {"shared_state": {"v": 1}, "stream_states": [
            {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": cursor}}]}}
    if stype == "LEGACY":
        return {"type": "LEGACY", "data": {"users": {"updated_at": cursor}}}
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": cursor}}}


def main():
    verb = sys.argv[1]
    if verb == "spec":
        emit({"type": "SPEC", "spec": {"connectionSpecification": {
            "type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 0}}}}})
        return 0
    config = load("--config")
    emit({"type": "LOG", "log": {"level": "INFO", "message": f"config from {arg('--config')}"}})
    if verb == "check":
        ok = not config.get("fail_check")
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED" if ok else "FAILED",
                                                                "message": None if ok else "wrong password"}})
        return 0
    if verb == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [USERS, EVENTS]}})
        return 0
    catalog = load("--catalog")
    stype = config.get("state_type", "STREAM")
    since = state_value(load("--state"), stype)
    emit({"type": "LOG", "log": {"level": "INFO", "message": f"since {since}"}})
    sent = 0
    for entry in catalog["streams"]:
        name = entry["stream"]["name"]
        if name == "users":
            for i in range(1, config["count"] + 1):
                if i <= since and entry["sync_mode"] == "incremental":
                    continue
                if config.get("trace_after") is not None and sent == config["trace_after"]:
                    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0, "error": {
                        "message": f"API said no (token {config.get('secret')})\nsecond line"}}})
                    return 1
                emit({"type": "RECORD", "record": {"stream": "users", "data": {
                    "id": i, "name": f"user {i}", "updated_at": i}, "emitted_at": 0}})
                sent += 1
                if i % 2 == 0:
                    emit({"type": "STATE", "state": state_message(stype, i)})
            emit({"type": "STATE", "state": state_message(stype, config["count"])})
        elif name == "events":
            for seq in range(3):
                emit({"type": "RECORD", "record": {"stream": "events", "data": {"day": "d1", "seq": seq},
                                                   "emitted_at": 0}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
