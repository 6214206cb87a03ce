"""Starting the service, authentication, API keys from the CLI, and the committed OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from hub_api.app import create_app
from hub_api.readiness import WarehouseNotReady
from hub_cli.main import app as cli
from hub_core.schema_api import api_key

runner = CliRunner()


def test_refuses_a_missing_sqlite_warehouse_and_creates_nothing(tmp_path):
    path = tmp_path / "typo" / "warehouse.db"
    with pytest.raises(WarehouseNotReady, match="does not exist"):
        create_app(f"sqlite:///{path}")
    assert not path.exists() and not path.parent.exists()
    result = runner.invoke(cli, ["serve", "--warehouse", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0  # one line, however narrow the terminal
    assert "does not exist" in result.output and "hub migrate" in result.output
    assert not path.exists()


def test_refuses_a_warehouse_without_schema_or_behind(tmp_path):
    from hub_core.warehouse import make_engine, upgrade

    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(WarehouseNotReady, match="no hub schema"):
        create_app(f"sqlite:///{path}")
    upgrade(make_engine(f"sqlite:///{path}"), "0001")
    with pytest.raises(WarehouseNotReady, match="revision 0001"):
        create_app(f"sqlite:///{path}")


@pytest.mark.postgres
def test_refuses_an_absent_postgres_database(pg_database):
    url = pg_database.set(database="hub_no_such_db_here", password="s3cret-pw")
    with pytest.raises(WarehouseNotReady) as info:
        create_app(url.render_as_string(hide_password=False))
    assert "not reachable" in str(info.value) and "s3cret-pw" not in str(info.value)
    assert "\n" not in str(info.value)


def test_health_needs_no_key_and_reveals_no_data(hub):
    response = hub.client.get("/health")
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic dXNlcjpwYXNz",
                                    "Bearer hub_0123456789abcdef_" + "A" * 43])
def test_missing_or_bad_keys_are_401(hub, header):
    headers = {"Authorization": header} if header else {}
    for path in ("/customers", "/customers/C00", "/discrepancies", "/runs", "/connectors", "/audit"):
        response = hub.client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_tampered_key_is_rejected(hub):
    key = hub.keys["hq"]
    assert hub.client.get("/customers", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert hub.client.get("/customers", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_revoked_and_expired_keys_stop_working(hub):
    key_id = hub.keys["dashboard"].split("_")[1]
    response = hub.client.delete(f"/api-keys/{key_id}", headers=hub.as_("admin"))
    assert response.status_code == 200 and response.json()["active"] is False
    assert hub.get("dashboard", "/customers").status_code == 401
    hq_id = hub.keys["hq"].split("_")[1]
    with hub.engine.begin() as conn:
        conn.execute(update(api_key).where(api_key.c.key_id == hq_id)
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert hub.get("hq", "/customers").status_code == 401
    assert hub.client.delete("/api-keys/nope", headers=hub.as_("admin")).status_code == 404


def test_admin_issues_keys_over_http_and_only_the_hash_is_stored(hub):
    response = hub.client.post("/api-keys", json={"name": "grafana", "role": "dashboard", "expires_in_days": 30},
                               headers=hub.as_("admin"))
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["key"].startswith(f"hub_{issued['key_id']}_")
    assert hub.client.get("/customers", headers={"Authorization": f"Bearer {issued['key']}"}).status_code == 200
    listed = hub.client.get("/api-keys", headers=hub.as_("admin")).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    with hub.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(api_key.select())]
    assert not any(issued["key"] in str(v) for row in stored for v in row)
    bad = hub.client.post("/api-keys", json={"name": "x", "role": "rep"}, headers=hub.as_("admin"))
    assert bad.status_code == 422 and "employee id" in bad.json()["detail"][0]["msg"]
    bad = hub.client.post("/api-keys", json={"name": "x", "role": "boss"}, headers=hub.as_("admin"))
    assert bad.status_code == 422 and "unknown role" in bad.json()["detail"][0]["msg"]
    audit = hub.get("admin", "/audit", action="key.issue").json()["items"]
    assert [a["detail"]["name"] for a in audit] == ["grafana"]


def test_users_cli_add_list_revoke(engine, warehouse_url):
    from hub_api.app import create_app

    result = runner.invoke(cli, ["users", "add", "li.wei", "--role", "rep", "--employee", "E7",
                                 "--warehouse", warehouse_url])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    listed = runner.invoke(cli, ["users", "list", "--warehouse", warehouse_url]).output
    assert key_id in listed and "E7" in listed and "active" in listed and token not in listed
    client = TestClient(create_app(warehouse_url))
    assert client.get("/customers", headers={"Authorization": f"Bearer {token}"}).json()["total"] == 0
    assert runner.invoke(cli, ["users", "revoke", key_id, "--warehouse", warehouse_url]).exit_code == 0
    assert client.get("/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "revoked" in runner.invoke(cli, ["users", "list", "--warehouse", warehouse_url]).output
    bad = runner.invoke(cli, ["users", "add", "x", "--role", "region_manager", "--warehouse", warehouse_url])
    assert bad.exit_code == 1 and "at least one region" in bad.output
    assert runner.invoke(cli, ["users", "revoke", "nope", "--warehouse", warehouse_url]).exit_code == 1


def test_committed_openapi_is_current():
    from hub_api.openapi import DEFAULT_PATH, openapi_document

    assert DEFAULT_PATH == Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    assert DEFAULT_PATH.read_text(encoding="utf-8") == openapi_document(), \
        "docs/openapi.json is stale: run `hub api openapi --out docs/openapi.json`"


def test_openapi_documents_bearer_auth(hub):
    document = hub.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"get"} == set(document["paths"]["/customers"])
