"""Great Expectations suites on the unified model, declared as data in ``quality/expectations.yaml``.

The YAML is the one table of truth: the Dagster asset checks (orchestration/checks.py) are
generated from it and run the functions here. Nothing here knows Dagster, so the checks can be
run and tested on their own. Great Expectations is imported lazily (it takes seconds), only when
a suite actually runs.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from hub_core.settings import LANDED_STATUSES

log = logging.getLogger(__name__)

DEFAULT_EXPECTATIONS_FILE = Path(__file__).with_name("expectations.yaml")
Severity = Literal["critical", "warning"]


class ExpectationSpec(BaseModel):
    """One declared expectation: which table, which GX expectation with which arguments, how bad."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    table: str
    type: str
    kwargs: dict = {}
    severity: Severity = "critical"
    # columns shown with each unexpected row (when the expectation reports rows)
    index_columns: list[str] = []


class FreshnessConfig(BaseModel):
    """Maximum age of the last successful sync of a source (hours); per-source overrides."""

    severity: Severity = "warning"
    max_age_hours: float = 26
    sources: dict[str, float] = {}

    def max_age_for(self, source: str) -> float:
        return float(self.sources.get(source, self.max_age_hours))


class CompletenessConfig(BaseModel):
    """The healthy completeness index (business-rules.md: >= 90 %)."""

    severity: Severity = "warning"
    healthy_index: float = 0.9


class QualityConfig(BaseModel):
    """The whole expectations file."""

    assets: dict[str, list[str]]
    sample_size: int = 5
    freshness: FreshnessConfig = FreshnessConfig()
    completeness: CompletenessConfig = CompletenessConfig()
    expectations: list[ExpectationSpec] = []

    def all_expectations(self) -> list[ExpectationSpec]:
        """The declared expectations plus the completeness one generated from its threshold."""
        completeness = ExpectationSpec(
            name="completeness_index_healthy", table="data_completeness", type="expect_column_values_to_be_between",
            kwargs={"column": "completeness_index", "min_value": self.completeness.healthy_index},
            severity=self.completeness.severity, index_columns=["entity", "system", "owner_employee_id"])
        return [*self.expectations, completeness]

    def for_asset(self, asset: str) -> list[ExpectationSpec]:
        """The expectations on the tables an asset stands for, in file order."""
        tables = set(self.assets.get(asset, []))
        return [e for e in self.all_expectations() if e.table in tables]


class QualityConfigError(ValueError):
    """The expectations file is missing or malformed (one line)."""


def load_quality_config(path: Path | str | None = None) -> QualityConfig:
    """The expectations file (default ``HUB_EXPECTATIONS_FILE`` or the shipped one), validated:
    unique check names and every expectation's table named under some asset."""
    path = Path(path or os.environ.get("HUB_EXPECTATIONS_FILE") or DEFAULT_EXPECTATIONS_FILE)
    try:
        cfg = QualityConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise QualityConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    names = [e.name for e in cfg.all_expectations()]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise QualityConfigError(f"{path}: check names used twice: {', '.join(duplicates)}")
    covered = {t for tables in cfg.assets.values() for t in tables}
    orphans = sorted({e.table for e in cfg.all_expectations() if e.table not in covered})
    if orphans:
        raise QualityConfigError(f"{path}: tables not listed under any asset: {', '.join(orphans)}")
    return cfg


@dataclass
class Outcome:
    """The result of one expectation: passed or not, and what a person needs to see why."""

    name: str
    severity: Severity
    passed: bool
    metadata: dict = field(default_factory=dict)


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def _expectation(gx, spec: ExpectationSpec):
    """The GX expectation class named by ``spec.type`` (snake_case), built with its kwargs."""
    class_name = "".join(part.capitalize() for part in spec.type.split("_"))
    cls = getattr(gx.expectations, class_name, None)
    if cls is None:
        raise QualityConfigError(f"unknown expectation type {spec.type!r} (check {spec.name})")
    return cls(**spec.kwargs)


def _short(value, limit: int = 80) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(spec: ExpectationSpec, result, sample_size: int) -> dict:
    """Metadata of a validation result: the failed expectation, unexpected count and a sample."""
    res = dict(result.result or {})
    meta = {"expectation": spec.type, "table": spec.table, "severity": spec.severity,
            "arguments": {k: v for k, v in spec.kwargs.items() if k != "unexpected_rows_query"}}
    if "unexpected_count" in res:
        meta["unexpected_count"] = int(res["unexpected_count"] or 0)
        meta["checked_rows"] = int(res.get("element_count") or 0)
    elif "observed_value" in res:
        meta["unexpected_count" if spec.type == "unexpected_rows_expectation" else "observed_value"] = \
            res["observed_value"]
    sample = res.get("partial_unexpected_index_list") or res.get("partial_unexpected_list")
    rows = (res.get("details") or {}).get("unexpected_rows")
    if rows is not None:
        sample = rows.head(sample_size).to_dict("records") if hasattr(rows, "head") else list(rows)[:sample_size]
    if sample and not result.success:
        meta["sample"] = [
            {k: _short(v) for k, v in item.items()} if isinstance(item, dict) else _short(item)
            for item in list(sample)[:sample_size]]
    return meta


def _error(spec: ExpectationSpec, exc: Exception, secrets: tuple[str, ...]) -> Outcome:
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return Outcome(spec.name, spec.severity, False, {
        "expectation": spec.type, "table": spec.table, "severity": spec.severity,
        "error": f"{type(exc).__name__}: {text}"})


def validate_tables(warehouse_url: str, specs: list[ExpectationSpec], sample_size: int = 5) -> list[Outcome]:
    """Run the given expectations on the warehouse (SQLite or PostgreSQL) through a GX SQL
    datasource, table by table. A table that cannot be read fails its checks with a one-line
    error; it never stops the other tables."""
    from sqlalchemy.engine import make_url

    if not specs:
        return []
    password = make_url(warehouse_url).password
    secrets = (warehouse_url, str(password) if password else "")
    with warnings.catch_warnings():  # the generic SQL datasource serves SQLite and PostgreSQL alike
        warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")
        gx, context = _gx()
        source = context.data_sources.add_sql(name="warehouse", connection_string=warehouse_url)
        outcomes: list[Outcome] = []
        by_table: dict[str, list[ExpectationSpec]] = {}
        for spec in specs:
            by_table.setdefault(spec.table, []).append(spec)
        try:
            for table, table_specs in by_table.items():
                try:
                    batch = source.add_table_asset(name=table, table_name=table) \
                        .add_batch_definition_whole_table("all").get_batch()
                except Exception as exc:
                    outcomes.extend(_error(s, exc, secrets) for s in table_specs)
                    continue
                for spec in table_specs:
                    outcomes.append(_validate_one(gx, batch, spec, sample_size, secrets))
        finally:
            engine = getattr(source, "_engine", None)  # GX keeps its engine on the datasource
            if engine is not None:
                engine.dispose()  # close its connections now, not whenever it is collected
    return outcomes


def _validate_one(gx, batch, spec: ExpectationSpec, sample_size: int, secrets) -> Outcome:
    result_format: dict = {"result_format": "COMPLETE" if spec.type == "unexpected_rows_expectation" else "SUMMARY",
                           "partial_unexpected_count": sample_size}
    if spec.index_columns:
        result_format["unexpected_index_column_names"] = spec.index_columns
    try:
        result = batch.validate(_expectation(gx, spec), result_format=result_format)
    except Exception as exc:
        return _error(spec, exc, secrets)
    raised = _raised(result.exception_info or {})
    if raised is not None:
        return _error(spec, RuntimeError(raised), secrets)
    return Outcome(spec.name, spec.severity, bool(result.success), _describe(spec, result, sample_size))


def _raised(info: dict) -> str | None:
    """The message of an exception GX caught while validating (it nests them per metric)."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "expectation raised")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "expectation raised")
    return None


def source_ages(engine, sources: list[str], now: datetime | None = None) -> dict[str, float | None]:
    """Hours since the last successful sync of each source (None: never succeeded)."""
    from sqlalchemy import func, select

    from hub_core.schema import sync_run

    now = now or datetime.now(UTC)
    s = sync_run.c
    with engine.connect() as conn:
        last = dict(conn.execute(select(s.source, func.max(s.finished_at)).where(
            s.status.in_(LANDED_STATUSES), s.source.in_(sources)).group_by(s.source)).all())
    ages: dict[str, float | None] = {}
    for source in sources:
        at = last.get(source)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        ages[source] = None if at is None else max(0.0, (now - at).total_seconds() / 3600)
    return ages


def validate_freshness(engine, sources: list[str], cfg: FreshnessConfig,
                       now: datetime | None = None) -> dict[str, Outcome]:
    """Per source: is the last successful sync within its maximum age? Run as a GX expectation
    (``expect_column_pair_values_a_to_be_greater_than_b``: max age >= age) on a pandas frame of
    the per-source ages; a source that never synced successfully counts as infinitely old."""
    import pandas as pd

    ages = source_ages(engine, sources, now)
    frame = pd.DataFrame({"source": list(ages), "max_age_hours": [cfg.max_age_for(s) for s in ages],
                          "age_hours": [float("inf") if a is None else a for a in ages.values()]})
    gx, context = _gx()
    batch = context.data_sources.add_pandas("freshness").add_dataframe_asset("sync_age") \
        .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    expectation = gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="max_age_hours", column_B="age_hours", or_equal=True)
    result = batch.validate(expectation, result_format={"result_format": "COMPLETE",
                                                        "unexpected_index_column_names": ["source"]})
    stale = {str(item.get("source")) for item in (result.result or {}).get("unexpected_index_list") or []}
    if not result.success and not stale:
        stale = set(sources)  # GX failed without rows: report every source rather than none
    return {source: Outcome("freshness", cfg.severity, source not in stale, {
        "expectation": "expect_column_pair_values_a_to_be_greater_than_b", "table": "sync_run",
        "severity": cfg.severity, "max_age_hours": cfg.max_age_for(source),
        "age_hours": None if ages[source] is None else round(ages[source], 2),
        "last_success": "never" if ages[source] is None else "seen"}) for source in sources}
