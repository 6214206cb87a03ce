"""Read-only HTTP access to the unified model for dashboards: ``uvicorn hub_api.app:app``
(or ``create_app(url)`` in code). Reads ``HUB_WAREHOUSE_URL`` by default."""

from __future__ import annotations

from functools import lru_cache

from fastapi import FastAPI, HTTPException, Query
from sqlalchemy import Engine, func, select

from hub_core.schema import customer, customer_xref


def create_app(warehouse_url: str | None = None) -> FastAPI:
    from hub_core.settings import get_settings
    from hub_core.warehouse import open_warehouse

    api = FastAPI(title="Customer-360 hub", version="0.1.0")

    @lru_cache(maxsize=1)
    def engine() -> Engine:
        return open_warehouse(warehouse_url or get_settings().warehouse_url)

    @api.get("/health")
    def health() -> dict:
        with engine().connect() as conn:
            customers = conn.execute(select(func.count()).select_from(customer)).scalar_one()
        return {"status": "ok", "customers": customers}

    @api.get("/customers")
    def customers(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)) -> list[dict]:
        with engine().connect() as conn:
            rows = conn.execute(select(customer).order_by(customer.c.customer_id).limit(limit).offset(offset)).all()
        return [dict(r._mapping) for r in rows]

    @api.get("/customers/{customer_id}")
    def one_customer(customer_id: str) -> dict:
        with engine().connect() as conn:
            row = conn.execute(select(customer).where(customer.c.customer_id == customer_id)).first()
            if row is None:
                raise HTTPException(404, f"no customer {customer_id}")
            refs = conn.execute(select(customer_xref.c.ref, customer_xref.c.match_method)
                                .where(customer_xref.c.customer_id == customer_id).order_by(customer_xref.c.ref)).all()
        return {**dict(row._mapping), "refs": [{"ref": r.ref, "match_method": r.match_method} for r in refs]}

    @api.get("/discrepancies")
    def discrepancies() -> list[dict]:
        from quality.report import open_discrepancies

        return open_discrepancies(engine())

    return api


@lru_cache(maxsize=1)
def _default_app() -> FastAPI:
    return create_app()


def __getattr__(name: str):
    # ``uvicorn hub_api.app:app`` builds the app on first access, from the environment,
    # so importing this module never touches a database.
    if name == "app":
        return _default_app()
    raise AttributeError(name)
