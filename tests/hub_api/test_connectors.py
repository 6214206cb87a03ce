"""Connector configurations: validated, encrypted at rest, masked everywhere, audited, rotatable."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from typer.testing import CliRunner

from hub_cli.main import app as cli
from hub_core.schema_api import audit_event, connector_config

SECRET = "app-secret-Zq81"
CODE = "permanent-code-Xk27"
CRM = {"name": "crm", "connector": "fxiaoke", "streams": ["AccountObj"],
       "config": {"base_url": "http://127.0.0.1:8700/crm", "app_id": "FSAID_1", "app_secret": SECRET,
                  "permanent_code": CODE, "current_open_user_id": "FSUID_1", "page_size": 50}}


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and CODE not in text and "new-secret-Pw33" not in text


def test_create_read_change_delete_without_showing_secrets(hub, caplog):
    caplog.set_level(logging.DEBUG)
    admin = hub.as_("admin")
    responses = [hub.client.post("/connectors", json=CRM, headers=admin)]
    assert responses[0].status_code == 201, responses[0].text
    created = responses[0].json()
    assert created["config"]["app_secret"] == created["config"]["permanent_code"] == "********"
    assert created["config"]["app_id"] == "FSAID_1" and created["secret_fields"] == ["app_secret", "permanent_code"]
    responses.append(hub.client.get("/connectors", headers=admin))
    responses.append(hub.client.get("/connectors/crm", headers=admin))
    # Send the mask back: the stored secret is kept; change another field.
    patch = {"config": {**created["config"], "page_size": 80}, "enabled": False}
    responses.append(hub.client.patch("/connectors/crm", json=patch, headers=admin))
    assert responses[-1].json()["config"]["page_size"] == 80 and responses[-1].json()["enabled"] is False
    with hub.engine.connect() as conn:
        stored = conn.execute(select(connector_config.c.config_encrypted)).scalar_one()
    from hub_api.secret_box import unseal

    assert unseal(stored, "test")["app_secret"] == SECRET
    responses.append(hub.client.patch("/connectors/crm", json={"config": {"app_secret": "new-secret-Pw33"}},
                                      headers=admin))
    with hub.engine.connect() as conn:
        stored = conn.execute(select(connector_config.c.config_encrypted)).scalar_one()
        events = conn.execute(select(audit_event.c.action, audit_event.c.detail).order_by(audit_event.c.id)).all()
    assert unseal(stored, "test")["app_secret"] == "new-secret-Pw33"
    _no_secret(stored)  # the ciphertext shows nothing either
    assert [e.action for e in events] == ["connector.create", "connector.update", "connector.update"]
    assert json.loads(events[1].detail) == {"config.page_size": [50, 80], "enabled": [True, False]}
    assert json.loads(events[2].detail) == {"config.app_secret": "changed"}
    responses.append(hub.client.get("/audit", headers=admin))
    responses.append(hub.client.delete("/connectors/crm", headers=admin))
    assert responses[-1].status_code == 204
    assert hub.client.get("/connectors/crm", headers=admin).status_code == 404
    _no_secret(*(r.text for r in responses), *(r.getMessage() for r in caplog.records), caplog.text)


def test_invalid_configs_get_field_level_422_without_echoing_values(hub, caplog):
    caplog.set_level(logging.DEBUG)
    admin = hub.as_("admin")
    bad = {**CRM, "config": {**CRM["config"], "app_secret": 12345, "page_size": 1000}}
    del bad["config"]["app_id"]
    response = hub.client.post("/connectors", json=bad, headers=admin)
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert errors == {("body", "config", "app_id"): "field required",
                      ("body", "config", "app_secret"): "must be of type string",
                      ("body", "config", "page_size"): "<= 100 required"}
    assert "12345" not in response.text
    for body, loc in [({**CRM, "connector": "salesforce"}, ["body", "connector"]),
                      ({**CRM, "name": "Bad Name!"}, ["body", "name"]),
                      ({**CRM, "command": ["tap-x"]}, ["body"]),
                      ({"name": "x", "command": ["/bin/sh", "-c", "id"]}, ["body", "command"]),
                      ({"name": "x", "command": ["tap-x; rm -rf /"]}, ["body", "command"]),
                      ({**CRM, "config": {**CRM["config"], "app_secret": "********"}}, ["body", "config", "app_secret"])]:
        response = hub.client.post("/connectors", json=body, headers=admin)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc, response.text
        _no_secret(response.text)
    assert hub.client.post("/connectors", json=CRM, headers=admin).status_code == 201
    assert hub.client.post("/connectors", json=CRM, headers=admin).status_code == 409
    response = hub.client.patch("/connectors/crm", json={"config": {"page_size": "many", "app_id": None}}, headers=admin)
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {("body", "config", "app_id"),
                                                                     ("body", "config", "page_size")}
    _no_secret(response.text, caplog.text)


def test_a_singer_command_masks_secret_looking_keys(hub):
    body = {"name": "erp_extra", "command": ["tap-jsonl", "--about"],
            "config": {"url": "http://x", "api_key": SECRET, "auth": {"password": CODE, "user": "u"}}}
    response = hub.client.post("/connectors", json=body, headers=hub.as_("admin"))
    assert response.status_code == 201
    config = response.json()["config"]
    assert config == {"url": "http://x", "api_key": "********", "auth": {"password": "********", "user": "u"}}


def test_without_a_key_connectors_are_503_and_data_still_served(hub, monkeypatch):
    monkeypatch.delenv("HUB_SECRET_KEY")
    monkeypatch.delenv("HUB_SECRET_KEY_FILE", raising=False)
    response = hub.client.post("/connectors", json=CRM, headers=hub.as_("admin"))
    assert response.status_code == 503 and "HUB_SECRET_KEY" in response.json()["detail"]
    assert hub.get("hq", "/customers").status_code == 200


def test_rotation_re_encrypts_with_the_new_key(hub, monkeypatch, warehouse_url, tmp_path):
    from hub_api.secret_box import new_key

    old = "x" * 43 + "="
    assert hub.client.post("/connectors", json=CRM, headers=hub.as_("admin")).status_code == 201
    new = new_key()
    key_file = tmp_path / "keys"
    key_file.write_text(f"{new}\n{old}\n")
    monkeypatch.delenv("HUB_SECRET_KEY")
    monkeypatch.setenv("HUB_SECRET_KEY_FILE", str(key_file))
    result = CliRunner().invoke(cli, ["api", "rotate-secrets", "--warehouse", warehouse_url])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1" in result.output
    events = hub.get("admin", "/audit", action="connector.rotate_secrets").json()["items"]
    assert [e["detail"] for e in events] == [{"connectors": ["crm"]}]
    monkeypatch.setenv("HUB_SECRET_KEY", new)  # the old key is gone now
    response = hub.client.get("/connectors/crm", headers=hub.as_("admin"))
    assert response.status_code == 200 and response.json()["config"]["app_id"] == "FSAID_1"
    monkeypatch.setenv("HUB_SECRET_KEY", new_key())  # a wrong key: a clear error, no secret
    response = hub.client.get("/connectors/crm", headers=hub.as_("admin"))
    assert response.status_code == 503 and "decrypts" in response.json()["detail"]


def test_stored_sources_hand_the_sync_decrypted_configs(hub, monkeypatch):
    from hub_api.connector_store import stored_sources
    from hub_api.secret_box import new_key

    admin = hub.as_("admin")
    assert hub.client.post("/connectors", json=CRM, headers=admin).status_code == 201
    assert hub.client.post("/connectors", json={"name": "extra", "command": ["tap-x"], "enabled": False},
                           headers=admin).status_code == 201
    crm, extra = stored_sources(hub.engine)
    assert (crm.name, crm.tap_command(), crm.config["app_secret"], crm.streams) == ("crm", ["tap-fxiaoke"], SECRET,
                                                                                    ["AccountObj"])
    assert (extra.tap_command(), extra.enabled, extra.config_error) == (["tap-x"], False, None)
    monkeypatch.setenv("HUB_SECRET_KEY", new_key())
    crm, _ = stored_sources(hub.engine)
    assert crm.config == {} and "decrypts" in crm.config_error
    _no_secret(crm.config_error)
