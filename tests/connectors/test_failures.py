"""One line a person can act on, for the failures the taps and the loader really produce."""

import pytest

from connectors.failures import display_url, explain, load_rules, reason_of

REFUSED = ("tap-fxiaoke sync failed (exit 1): singer_sdk.exceptions.FatalAPIError: CRM token request failed after 5 "
           "attempts: ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
           "/cgi/corpAccessToken/get/V2 (Caused by NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=9): "
           "Failed to establish a new connection: [Errno 111] Connection refused\"))")


@pytest.mark.parametrize(("connector", "error", "kind", "message"), [
    ("fxiaoke", REFUSED, "connection_refused",
     "connection refused at http://127.0.0.1:9 — check base_url and that the CRM is reachable"),
    ("fxiaoke", "tap-fxiaoke sync failed (exit 1): connectors.kit.errors.SourceConfigError: CRM rejected the app "
     "credentials (errorCode 10006, bad appSecret): check app_id, app_secret and permanent_code in the tap config.",
     "credentials", "credentials rejected (10006) — check app_secret"),
    ("u8", "SourceConfigError: U8 refused the token request (errcode 40001: invalid from_account, app_key or "
     "app_secret)", "credentials", "credentials rejected (40001) — check from_account, app_key and app_secret"),
    ("finance", "SourceConfigError: Finance API refused the token request (code 40100: invalid client_id)",
     "credentials", "credentials rejected (40100) — check client_id and client_secret"),
    ("wecom", "SourceConfigError: WeCom rejected corpid (errcode 40013): check corpid in the tap config.",
     "credentials", "credentials rejected (40013) — check corpid"),
    ("wecom", "FatalAPIError: WeCom gettoken failed with HTTP 404: {\"detail\":\"Not Found\"}", "not_found",
     "http://127.0.0.1:9 answered 404 Not Found — check base_url (including its path prefix)"),
    ("u8", "NameResolutionError: Name or service not known (nohost)", "host_not_found",
     "host of http://127.0.0.1:9 not found — check base_url (spelling, DNS, proxy)"),
    (None, "sources.yaml: sources.crm.config.app_secret: environment variable CRM_SECRET is not set",
     "secret_missing", "environment variable CRM_SECRET is not set — export it (or fix the ${...} reference in the "
     "sources file)"),
    (None, "IntegrityError: UNIQUE constraint failed: raw_record.source", "warehouse",
     "warehouse error while landing (UNIQUE constraint failed: raw_record.source) — see the log; the next sync "
     "resumes from the last saved state"),
    ("fxiaoke", "SourceQuotaError: CRM API quota exhausted (errorCode 30002: used up); stopping.", "quota",
     "CRM API quota exhausted (errorCode 30002: used up); stopping. — wait for the quota to reset or raise it; "
     "the next sync resumes from the saved state"),
])
def test_known_failures_get_their_fix(connector, error, kind, message):
    result = explain("crm", connector, "http://127.0.0.1:9", error)
    assert (result.kind, result.message) == (kind, message)


def test_an_unknown_code_is_not_called_a_credential_problem():
    result = explain("crm", "fxiaoke", "http://x", "SourceConfigError: CRM token request refused (errorCode 99999: ?)")
    assert result.kind == "config_rejected" and "99999" in result.message


def test_unknown_failures_keep_a_short_reason_without_the_exception_class():
    result = explain("x", None, None, "tap-x sync failed (exit 1): pkg.mod.WeirdError: " + "y" * 1000)
    assert result.kind == "other" and result.message.startswith("yyy") and len(result.message) <= 300


def test_reason_and_url_helpers_strip_noise_and_credentials():
    assert reason_of("tap-a --discover failed (exit 2): a.b.CError: boom\n  more") == "boom more"
    assert display_url("https://user:pw@host.example:8443/api?token=abc") == "https://host.example:8443/api"
    assert display_url(None) == "(no base_url)"


def test_every_rule_has_a_message_and_compiles():
    rules = load_rules()
    assert rules["rules"][-1]["match"] == ""  # the catch-all comes last
    for rule in rules["rules"]:
        assert rule["kind"] and rule["message"]
    for system in rules["systems"].values():
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in system["codes"].items())


@pytest.mark.parametrize(("connector", "config", "setting", "shown"), [
    ("u8db", {"sqlalchemy_url": "postgresql+psycopg://hub:pw-77@127.0.0.1:9/u8?connect_timeout=1"},
     "sqlalchemy_url", "postgresql+psycopg://127.0.0.1:9/u8"),
    ("files", {"folder": "/srv/drop"}, "folder", "/srv/drop"),
    ("fxiaoke", {"base_url": "http://127.0.0.1:9"}, "base_url", "http://127.0.0.1:9"),
    (None, {}, "base_url", "(no base_url)"),
])
def test_a_refused_connection_names_the_connectors_own_setting(connector, config, setting, shown):
    from connectors.failures import address_of, address_setting

    assert address_setting(connector) == setting
    error = "OperationalError: [Errno 111] Connection refused"
    result = explain("erp", connector, address_of(connector, config), error)
    assert result.kind == "connection_refused"
    assert result.message.startswith(f"connection refused at {shown} — check {setting} and that")
    assert "pw-77" not in result.message and ("base_url" in result.message) == (setting == "base_url")


def test_every_system_names_its_address_setting_or_inherits_base_url():
    rules = load_rules()
    assert rules["default_system"]["setting"] == "base_url"
    assert rules["systems"]["u8db"]["setting"] == "sqlalchemy_url" and rules["systems"]["files"]["setting"] == "folder"
    assert not any("check base_url" in rule["message"] for rule in rules["rules"])
