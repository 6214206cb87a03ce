"""customer_360 is computed block by block in customer order, a batch of rows at a time
(mappings/customer360.py): the batch size must not change a single value, and a block whose rows
come out of customer order must stop the build rather than leave columns empty."""

from datetime import datetime, timedelta

import pytest

from mappings import customer360
from mappings.build import build_customer360
from mappings.config import load_mapping
from mappings.customer360 import _InStep
from mappings.declarative.engine import _seen_across
from mappings.declarative.spec import load_streams
from simulators.generator import generate
from tests.mappings.test_hostile_world import land_world
from tests.mappings.test_incremental_c360 import completeness, rows


def test_tiny_batches_give_the_same_customer_360_as_one_batch(engine, monkeypatch):
    world, _ = generate(11, customers=40)
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    monkeypatch.setattr(customer360, "BATCH", 1_000_000)  # every block in one fetch
    build_customer360(engine, as_of=as_of)
    whole, index = rows(engine), completeness(engine)
    for batch in (1, 3):
        monkeypatch.setattr(customer360, "BATCH", batch)
        build_customer360(engine, as_of=as_of, incremental=False)
        assert rows(engine) == whole and completeness(engine) == index
    # the blocks had something to merge: every kind of column is filled for some customer
    for column in ("open_opportunities", "last_order_day", "receivable_outstanding_cents", "last_receipt_day",
                   "credit_rating", "last_contact_at", "product_series_90d", "response_minutes", "completeness",
                   "crm_level", "owner_name"):
        assert any(r[column] for r in whole.values()), column
    # a moved as-of recomputes some customers in place (the scoped path), batch by batch too
    later = as_of + timedelta(days=1)
    build_customer360(engine, as_of=later)
    scoped = rows(engine)
    monkeypatch.setattr(customer360, "BATCH", 1_000_000)
    build_customer360(engine, as_of=later, incremental=False)
    assert rows(engine) == scoped


def test_blocks_are_merged_in_customer_order():
    block = _InStep(iter([("a", {"x": 1}), ("c", {"x": 3}), ("d", {"x": 4})]))
    assert block.take("b") == {}  # nothing for b; a (no longer a customer) passed over
    assert block.take("c") == {"x": 3} and block.take("c") == {}
    assert block.take("z") == {} and block.cid is None
    with pytest.raises(RuntimeError, match="customer order"):
        _InStep(iter([("b", {}), ("a", {})])).take("b")


def test_keys_are_forgotten_after_a_stream_only_when_no_other_stream_can_share_them():
    decl = load_streams(load_mapping().path("streams"))
    shared = _seen_across(decl)
    # two streams feed interaction and contact, under distinct ref prefixes: nothing is shared
    assert not {"interaction", "contact", "sales_order"} & shared
    spec = next(s for s in decl.streams if s.entity == "interaction")
    clash = decl.model_copy(update={"streams": [*decl.streams, spec.model_copy(update={"ref": spec.ref[:4] + "{x}"})]})
    assert "interaction" in _seen_across(clash)
