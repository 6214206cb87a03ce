"""The hub's assets, per domain: raw streams per source -> unified entity groups -> customer_360
-> discrepancies -> report.

Each asset is a thin shell around a plain function of connectors/, mappings/ or quality/, so
the logic is tested without Dagster and Dagster only schedules, gates, retries and records runs.
The unified entity groups (``unified_customers``, ``unified_sales``, ...) and the proposed
``customer_360_candidate`` are materialized by one build (the mapping is one transaction) and
checked one group at a time by the generated asset checks (orchestration/checks.py). The
``customer_360`` asset is the *publish step* (candidate -> customer_360, mappings/publish.py): a
failed critical check stops it and everything after it, so readers keep the last published
customer_360 and no report is written from an unpublished build.
"""

from collections import Counter
from datetime import datetime

import dagster as dg

from orchestration.resources import OutputResource, SourcesResource, WarehouseResource

DEFAULT_SOURCES = ("crm", "u8", "finance", "wecom")


def raw_asset(source_name: str) -> dg.AssetsDefinition:
    """The landed raw streams of one configured source. The landing withholds the deletions of a
    pass too small to believe (the rules file's ``staleness.max_drop``), so a collapsing source
    keeps its last good data; reconcile then finds it stale."""

    @dg.asset(name=f"raw_{source_name}", group_name="raw", kinds={"singer"},
              description=f"Records of source '{source_name}' landed by its Singer tap (incremental).")
    def _raw(context: dg.AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource):
        from connectors.sync import sync_source
        from quality.config import load_rules

        max_drop = load_rules().staleness.max_drop
        result = sync_source(warehouse.get_engine(), sources.get(source_name), max_drop=max_drop)
        if result.error:
            # Keep serving the last good data; the report marks this source failed.
            context.log.error(f"sync of {source_name} failed: {result.error}")
        withheld = sum(v["withheld"] for v in (result.withheld or {}).values())
        if withheld:
            context.log.warning(f"{source_name}: {withheld} deletions withheld (a pass too small to believe): "
                                f"{result.withheld}")
        return dg.MaterializeResult(metadata={
            "status": result.status, "records_seen": result.seen, "records_landed": result.landed,
            "records_rejected": result.rejected, "sync_run_id": result.run_id, "deletions_withheld": withheld,
        })

    return _raw


def _stream_entities() -> dict[str, str]:
    """``system.stream`` -> the unified entity it maps to (from the declarative mapping)."""
    from mappings.config import load_mapping
    from mappings.declarative.spec import load_streams

    return {f"{s.system}.{s.stream}": s.entity for s in load_streams(load_mapping().path("streams")).streams}


def _group_metadata(conn, stats, tables: list[str], entity_of: dict[str, str]) -> dict:
    """Rows per table (as the warehouse holds them after the build), quarantined records and
    data-quality findings of the entities of one group."""
    from sqlalchemy import func, select

    from hub_core.schema import metadata as schema
    from hub_core.schema_unified import data_quality_finding

    rows = {t: conn.execute(select(func.count()).select_from(schema.tables[t])).scalar_one() for t in tables}
    quarantined = sum(n for key, n in stats.quarantined.items() if entity_of.get(key) in tables)
    f = data_quality_finding.c
    findings = conn.execute(select(func.count()).select_from(data_quality_finding).where(
        f.build_id == stats.build_id, f.entity.in_(tables))).scalar_one()
    return {**{f"rows_{t}": n for t, n in rows.items()}, "rows": sum(rows.values()),
            "quarantined": quarantined, "findings": findings, "build_id": stats.build_id, "build_mode": stats.mode}


def unified_assets(source_names, groups: dict[str, list[str]]) -> dg.AssetsDefinition:
    """The unified entity groups (all but ``customer_360``), built by one mapping run from
    whatever the sources landed."""
    names = [g for g in groups if g != "customer_360"]
    raw_keys = [dg.AssetKey(f"raw_{s}") for s in source_names]

    @dg.multi_asset(name="unified_model", specs=[
        dg.AssetSpec(g, group_name="unified", deps=raw_keys, kinds={"sql"},
                     description=f"Unified tables {', '.join(groups[g])}, mapped from the landed raw records.")
        for g in names])
    def _unified(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from mappings.build import build_customer360

        engine = warehouse.get_engine()
        stats = build_customer360(engine)
        context.log.info(f"build {stats.build_id} ({stats.mode}): {stats.customers} customers, "
                         f"{stats.quarantined_total} quarantined, {stats.findings_total} findings")
        entity_of = _stream_entities()
        with engine.connect() as conn:
            for g in names:
                yield dg.MaterializeResult(asset_key=g, metadata=_group_metadata(conn, stats, groups[g], entity_of))

    return _unified


def customer_360_asset(groups: dict[str, list[str]]) -> dg.AssetsDefinition:
    """The publish step: copies ``customer_360_candidate`` into ``customer_360`` (one transaction)
    and records the published build. Dagster runs it only when no blocking (critical) check of
    the unified groups and the candidate failed. Its metadata is the build's figures."""

    @dg.asset(name="customer_360", group_name="unified", kinds={"sql"},
              deps=[dg.AssetKey(g) for g in groups if g != "customer_360"],
              description="One row per unified customer with its health, grade and activity: the "
                          "checked candidate of the latest build, published.")
    def _customer_360(warehouse: WarehouseResource) -> dg.MaterializeResult:
        import json

        from sqlalchemy import select

        from hub_core.schema_unified import build_run
        from mappings.publish import NothingToPublish, publish

        try:
            published = publish(warehouse.get_engine())
        except NothingToPublish as exc:
            raise dg.Failure(str(exc)) from None
        with warehouse.get_engine().connect() as conn:
            last = conn.execute(select(build_run.c.id, build_run.c.stats)
                                .where(build_run.c.id == published.build_id)).first()
        rows = published.rows
        stats = json.loads(last.stats or "{}")
        flat = {k: v for k, v in stats.items() if isinstance(v, int | float | str)}
        return dg.MaterializeResult(metadata={
            **flat, "customer_360_rows": rows, "published_build_id": last.id,
            "quarantined": sum((stats.get("quarantined") or {}).values()),
            "findings": sum((stats.get("findings") or {}).values())})

    return _customer_360


class ReconcileConfig(dg.Config):
    as_of: str | None = None  # ISO time with offset; default: now


@dg.asset(group_name="quality", kinds={"sql"}, deps=[dg.AssetKey("customer_360")],
          description="Open cross-system discrepancies (rules R1..), aged across runs.")
def discrepancies(context: dg.AssetExecutionContext, config: ReconcileConfig,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    from sqlalchemy import func, select

    from hub_core.schema import discrepancy
    from quality.reconcile import reconcile

    as_of = datetime.fromisoformat(config.as_of) if config.as_of else None
    engine = warehouse.get_engine()
    result = reconcile(engine, as_of=as_of)
    d = discrepancy.c
    with engine.connect() as conn:
        open_by_severity = Counter(dict(conn.execute(select(d.severity, func.count()).where(
            d.status != "resolved").group_by(d.severity)).all()))
    import json

    for rule_id, why in sorted(result.held_back.items()):
        context.log.warning(f"rule {rule_id} held back: {why}")
    return dg.MaterializeResult(metadata={
        "held_back": json.dumps(result.held_back, ensure_ascii=False, sort_keys=True),
        "stale_sources": json.dumps(result.stale_sources, ensure_ascii=False, sort_keys=True),
        "as_of": result.as_of.isoformat(), "mode": result.mode, "pairs": result.pairs, **{f"found_{k}": v for k, v in result.found.items()},
        "new": result.persisted.new, "persisting": result.persisted.persisting, "resolved": result.persisted.resolved,
        **{f"open_{s}": int(n) for s, n in sorted(open_by_severity.items())},
        "open_total": int(sum(open_by_severity.values())),
    })


@dg.asset(group_name="reporting", kinds={"jinja"}, deps=[discrepancies],
          description="discrepancies.json, customers.json, report.md/.html/.xlsx in the output folder.")
def consistency_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       output: OutputResource) -> dg.MaterializeResult:
    from quality.report import write_report

    files = write_report(warehouse.get_engine(), output.folder(), held_back=_held_back(context))
    return dg.MaterializeResult(metadata={
        "out_dir": str(files.out_dir), "open_discrepancies": files.discrepancies, "customers": files.customers,
    })


def _held_back(context) -> list[str] | None:
    """The rules the latest ``discrepancies`` materialization held back (None: unknown, the report
    then asks the warehouse)."""
    import json

    event = context.instance.get_latest_materialization_event(dg.AssetKey("discrepancies"))
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    value = meta.get("held_back")
    return sorted(json.loads(value.value)) if value is not None else None


def hub_assets(source_names=DEFAULT_SOURCES, groups: dict[str, list[str]] | None = None) -> list:
    """Every asset of the hub for the given source names (groups: asset -> unified tables, from
    quality/expectations.yaml by default)."""
    if groups is None:
        from quality.gx_checks import load_quality_config

        groups = load_quality_config().assets
    return [*(raw_asset(s) for s in source_names), unified_assets(source_names, groups),
            customer_360_asset(groups), discrepancies, consistency_report]
