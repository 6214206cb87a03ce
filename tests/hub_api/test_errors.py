"""Hostile and malformed input gets 4xx with field-level messages, never a 500."""

from __future__ import annotations

HUGE = "9223372036854775808"


BAD_QUERIES = [
    ("/customers", {"limit": HUGE}),
    ("/customers", {"limit": "0"}),
    ("/customers", {"limit": "-1"}),
    ("/customers", {"offset": HUGE, "limit": "abc"}),
    ("/discrepancies", {"limit": "1e9"}),
    ("/discrepancies", {"sort": "name"}),
    ("/discrepancies", {"severity": "purple"}),
    ("/runs", {"status": "done"}),
    ("/customers", {"updated_since": "yesterday"}),
    ("/customers", {"updated_since": "2026-11-20T09:00:00"}),  # no offset: ambiguous
    ("/customers", {"cursor": "not-a-cursor"}),
    ("/customers", {"cursor": "WyJjdXN0b21lcnMiLCAxXQ"}),  # ["customers", 1]: wrong type
    ("/runs", {"cursor": "WyJydW5zIiwgOTIyMzM3MjAzNjg1NDc3NTgwOF0"}),  # an id beyond 64 bits
    ("/customers", {"cursor": "WyJjdXN0b21lcnMiLCAiXHVkODAwIl0"}),  # a lone surrogate
    ("/customers", {"grade": "Z"}),
    ("/customers", {"risk": "bankrupt"}),
    ("/customers/C00", {"linked_limit": "101"}),
    ("/finance/receipts", {"since": "2026-13-01"}),
    ("/finance/credit-ratings", {"cursor": "WyJjcmVkaXQtcmF0aW5ncyIsICJhIiwgIm5vdC1hLWRheSJd"}),  # bad day
    ("/reports", {"limit": "0"}),
]


def test_bad_query_parameters_are_422_with_the_field(hub):
    for path, params in BAD_QUERIES:
        response = hub.get("hq", path, **params)
        assert response.status_code == 422, (path, params, response.text)
        detail = response.json()["detail"]
        assert detail and all({"loc", "msg", "type"} <= set(d) for d in detail)
        assert detail[0]["loc"][0] == "query"
        assert all("input" not in d for d in detail)


def test_huge_path_ids(hub):
    assert hub.get("hq", f"/runs/{HUGE}").status_code == 422
    assert hub.get("hq", "/runs/0").status_code == 422
    assert hub.get("hq", "/customers/" + "9" * 400).status_code == 404
    assert hub.get("hq", "/customers/" + "x" * 600).status_code == 422


def test_nul_bytes_in_path_or_query_are_422(hub):
    for path in ["/customers/C%00", "/customers?region=%00", "/discrepancies/R1%00/ack", "/connectors/crm%00",
                 "/customers?owner=a%00b"]:
        method = hub.client.post if path.endswith("/ack") else hub.client.get
        kwargs = {"json": {"comment": "x"}} if path.endswith("/ack") else {}
        response = method(path, headers=hub.as_("admin"), **kwargs)
        assert response.status_code == 422, path
        assert "NUL" in response.json()["detail"][0]["msg"]


def test_unstorable_or_broken_bodies_are_422(hub):
    for raw in [b'{"comment": "a\\u0000b"}', b'{"comment": "\\ud800"}', b'{"comment": ', b'\xff\xfe',
                b'{"comm\\u0000ent": "x"}']:
        response = hub.client.post("/discrepancies/R1|crm:Obj:0/ack", content=raw,
                                   headers={**hub.as_("hq"), "Content-Type": "application/json"})
        assert response.status_code == 422, raw
    assert hub.get("hq", "/discrepancies/R1|crm:Obj:0").json()["status"] == "open"


def test_oversized_body_is_413(hub):
    body = b'{"comment": "' + b"x" * 70_000 + b'"}'
    response = hub.client.post("/discrepancies/R1|crm:Obj:0/ack", content=body,
                               headers={**hub.as_("hq"), "Content-Type": "application/json"})
    assert response.status_code == 413


def test_wrong_methods_and_unknown_paths(hub):
    assert hub.client.delete("/customers", headers=hub.as_("hq")).status_code == 405
    assert hub.get("hq", "/nowhere").status_code == 404
    assert hub.client.post("/discrepancies/R1|crm:Obj:0/ack", json=["a"], headers=hub.as_("hq")).status_code == 422
