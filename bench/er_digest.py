"""Digests of every identity table after a full resolution: how an optimisation of entity
resolution shows that its results are unchanged.

    python bench/er_digest.py sqlite:///copy-of-w30k.db        # resolves (committed), then digests
    python bench/er_digest.py URL --no-resolve                  # digests only

Run it from each checkout on its own copy of the same landed, unresolved warehouse
(``bench/entity_resolution.py --land``) and diff the output. A digest is the sha256 of a table's
rows, sorted, timestamps and serial ids left out and booleans as 0/1 (so SQLite and PostgreSQL
compare); the resolution's stats (with their sets of refs and ids, sorted) get one too.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the checkout it is run from


def main() -> None:
    from sqlalchemy import DateTime, select

    from hub_core.schema import customer, customer_review, customer_xref
    from hub_core.schema_identity import (
        contact_xref,
        customer_golden_field,
        customer_record,
        customer_record_block,
        identity_registry,
        identity_trail,
    )
    from hub_core.warehouse import make_engine
    from mappings.config import load_mapping
    from mappings.identity import resolve_customers

    engine = make_engine(sys.argv[1])
    out, stats = {}, None
    if "--no-resolve" not in sys.argv:
        with engine.begin() as conn:
            stats = resolve_customers(conn, load_mapping(), None, full=True)
    with engine.connect() as conn:
        for t in (customer_record, customer_record_block, customer_xref, customer, customer_golden_field,
                  customer_review, contact_xref, identity_registry, identity_trail):
            cols = [c for c in t.columns
                    if not isinstance(c.type, DateTime) and not (c.name == "id" and c.autoincrement is True)]
            rows = sorted(json.dumps([int(v) if isinstance(v, bool) else v for v in r], default=str, ensure_ascii=False)
                          for r in conn.execute(select(*cols)))
            out[t.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
    if stats is not None:
        fields = {k: sorted(v) if isinstance(v, set) else v for k, v in stats.__dict__.items()}
        out["stats"] = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
    for name, digest in out.items():
        print(name, digest)


if __name__ == "__main__":
    main()
