"""The warehouse schema: one SQLAlchemy ``MetaData`` shared by every stage and by migrations.

Layers, in the order data flows through them:
- ``raw_*`` / ``sync_*``: what connectors landed, versioned by content hash, plus tap state.
- ``stg_*``: typed, per-source rows that mappings derive from the current raw records.
- ``customer`` / ``customer_xref`` / ``customer_review``: the unified customer-360.
- ``deal_order_pair`` / ``discrepancy`` / ``reconcile_run``: reconciliation results.
Money is stored as integer cents so that SQLite and PostgreSQL compare it exactly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- landing -----------------------------------------------------------------------------
sync_run = Table(
    "sync_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    # running | succeeded | partial (ended, but records were set aside: see raw_reject) | failed | interrupted
    Column("status", String(20), nullable=False),
    Column("records_seen", Integer, nullable=False, default=0),
    Column("records_landed", Integer, nullable=False, default=0),
    Column("records_rejected", Integer, nullable=False, default=0),
    Column("error", Text),  # one line a person can act on (never a secret, never record data)
    # Who runs it and when it last showed life: a ``running`` row whose process is gone or whose
    # heartbeat went stale is marked ``interrupted`` at the next start (connectors/runs.py).
    Column("pid", Integer),
    Column("host", String(255)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("full_refresh", Boolean),
    # Landing quality (migration 0014): quarantine entries this run created (first-seen payloads),
    # extra occurrences of keys already seen in the run, distinct schema drift events.
    Column("records_quarantined", Integer),
    Column("duplicate_keys", Integer),
    Column("drift_events", Integer),
    # JSON {stream: {"live": n, "withheld": n}} when a complete full-table pass returned too few of
    # the live records to be believed (connectors/landing_deletes.py): their soft deletes were
    # withheld and the source counts as stale (quality/staleness.py). NULL otherwise.
    Column("deletions_withheld", Text),
)

# One row per source while a sync of it runs: the per-source lock (works alike on SQLite and
# PostgreSQL; a row left by a killed process is taken over once its owner is gone or stale).
source_lock = Table(
    "source_lock",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("sync_run_id", Integer),
    Column("pid", Integer, nullable=False),
    Column("host", String(255), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

raw_record = Table(
    "raw_record",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("stream", String(200), nullable=False),
    Column("record_key", String(500), nullable=False),
    Column("record_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("sync_run_id", Integer, nullable=False),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    # Set when a complete full-table pass no longer returned the record (a soft delete, see
    # connectors/landing.py); NULL while the record is live. A record that comes back gets a
    # new current version with this NULL again.
    Column("deleted_at", DateTime(timezone=True)),
)
# One current version per record; partial, so history does not weigh on look-ups. Queries
# filter on plain ``raw_record.c.is_current``, which renders as ``is_current`` on PostgreSQL and
# ``is_current = 1`` on SQLite: each predicate below is written exactly so, because a planner
# only uses a partial index whose WHERE the query's WHERE visibly implies.
Index("uq_raw_record_current", raw_record.c.source, raw_record.c.stream, raw_record.c.record_key, unique=True,
      postgresql_where=text("is_current"), sqlite_where=text("is_current = 1"))
# Every version of a record: an incremental build reads what records landed since it said before.
Index("ix_raw_record_versions", raw_record.c.source, raw_record.c.stream, raw_record.c.record_key)
# The current versions of one stream in landing order (``ORDER BY id DESC``: staging's readers, newest
# first). Without it PostgreSQL read them by walking the whole primary key backwards for the 4 %
# that are one stream's (entity resolution's contact read: ~350 ms of every incremental build at
# 10k customers; a server-side cursor is planned for its first rows, so a sort was never chosen).
Index("ix_raw_record_current_order", raw_record.c.source, raw_record.c.stream, raw_record.c.id,
      postgresql_where=text("is_current"), sqlite_where=text("is_current = 1"))
# Soft deletes (rare): every build asks whether any happened since the last one (a scan of every
# raw record without it, ~120 ms at 10k customers, even when nothing was landed).
Index("ix_raw_record_deleted", raw_record.c.deleted_at,
      postgresql_where=text("deleted_at IS NOT NULL"), sqlite_where=text("deleted_at IS NOT NULL"))

raw_reject = Table(
    "raw_reject",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False, index=True),
    Column("stream", Text),
    Column("record_key", Text),
    Column("reason", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("sync_run_id", Integer, nullable=False),  # the run that first set the payload aside
    Column("rejected_at", DateTime(timezone=True), nullable=False),  # first seen
    # The landing quarantine (migration 0014, connectors/quarantine.py): one row per distinct
    # (source, stream, payload); a payload set aside again only bumps last_seen/seen_count.
    Column("kind", String(20)),  # invalid | drift | tap | unparsable
    Column("fingerprint", String(64)),  # sha256 of stream + payload content (NULL: rows before 0014)
    Column("cursor", Text),  # the tap's last STATE before the record (JSON, truncated)
    Column("connector", String(200)),
    Column("connector_version", String(100)),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("last_sync_run_id", Integer),
    Column("seen_count", Integer),
    Column("status", String(20)),  # open | replayed | superseded
    Column("resolved_at", DateTime(timezone=True)),
)
Index("uq_raw_reject_fingerprint", raw_reject.c.source, raw_reject.c.fingerprint, unique=True)

raw_stream = Table(
    "raw_stream",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("stream", String(200), primary_key=True),
    Column("key_properties", Text, nullable=False),  # JSON list
    Column("json_schema", Text, nullable=False),
    # JSON list from the SCHEMA message; empty means a full-table stream (key-set diffs apply)
    Column("bookmark_properties", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("state", Text, nullable=False),  # the tap's latest STATE value, JSON
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- staging (derived; rebuilt on every build) --------------------------------------------
stg_employee = Table(
    "stg_employee",
    metadata,
    Column("employee_id", Text, primary_key=True),
    Column("name", Text),
    Column("mobile", Text, index=True),
    Column("region", Text),
    Column("leader_employee_id", Text),
    Column("crm_id", Text, index=True),
    Column("u8_code", Text, index=True),
    Column("wecom_userid", Text, index=True),
)

stg_opportunity = Table(
    "stg_opportunity",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("opp_id", Text, nullable=False),
    Column("account_ref", Text, index=True),
    Column("customer_id", String(100), index=True),
    Column("name", Text),
    Column("amount_cents", BigInteger),
    Column("status", String(20)),  # in_progress | won | lost | other
    Column("stage", String(40)),
    Column("close_ms", BigInteger),
    Column("close_day", Date),
    Column("last_modified_ms", BigInteger),
    Column("stage_changed_ms", BigInteger),
    Column("owner_employee_id", Text),
    Column("is_deleted", Boolean, nullable=False, default=False),
)

stg_sales_order = Table(
    "stg_sales_order",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("order_day", Date),
    Column("state", Text),
    Column("u8_customer_ref", Text, index=True),
    Column("customer_id", String(100), index=True),
    Column("amount_cents", BigInteger),
    Column("owner_employee_id", Text),
)

# --- unified customer-360 ----------------------------------------------------------------
customer = Table(
    "customer",
    metadata,
    Column("customer_id", String(100), primary_key=True),
    Column("name", Text, nullable=False),
    Column("uscc", String(18)),
    Column("owner_employee_id", Text),
    Column("record_count", Integer, nullable=False),
    Column("needs_review", Boolean, nullable=False, default=False),
    Column("address", Text),
    Column("phone", Text),
    Column("industry", Text),
    # When the build last changed a golden field (or the record count / review flag) of this
    # customer; ``GET /customers?updated_since=`` reads it. Migration 0010 set it for older rows.
    Column("updated_at", DateTime(timezone=True), index=True),
)
Index("ix_customer_owner_employee_id", customer.c.owner_employee_id, customer.c.customer_id)

customer_xref = Table(
    "customer_xref",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("customer_id", String(100), nullable=False, index=True),
    Column("system", String(20), nullable=False),
    Column("match_method", String(40), nullable=False),  # the rule: uscc | link_code | name | evidence | own | override
    Column("score", Float),  # evidence score of the join (1.0 for deterministic rules)
    Column("decided_by", String(20)),  # rule | review | override
    Column("evidence", Text),  # JSON list of the signals behind an evidence join
)

customer_review = Table(
    "customer_review",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("candidates", Text, nullable=False),  # JSON list of {customer_id, score, signals}
    Column("customer_id", String(100)),  # where the record sits meanwhile
)

# --- reconciliation ----------------------------------------------------------------------
deal_order_pair = Table(
    "deal_order_pair",
    metadata,
    Column("opp_ref", Text, primary_key=True),
    Column("order_ref", Text, nullable=False, unique=True),
    Column("customer_id", String(100), nullable=False),
    Column("diff_cents", BigInteger, nullable=False),
)

discrepancy = Table(
    "discrepancy",
    metadata,
    Column("discrepancy_id", Text, primary_key=True),  # "<rule>|<anchor ref>"
    Column("rule", String(10), nullable=False, index=True),
    Column("severity", String(10), nullable=False),
    Column("customer_id", String(100), index=True),
    Column("customer_name", Text),
    Column("owner", Text),
    Column("region", Text),
    Column("amount_cents", BigInteger, nullable=False),
    Column("refs", Text, nullable=False),  # JSON list, anchor first
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False, index=True),  # open | acknowledged | resolved
    # Added by migration 0009 (rules R2-R11): a stable hash of rule + anchor ref, the owner's
    # employee id and manager's name, and when a resolved item last came back.
    Column("fingerprint", String(64), index=True),
    Column("owner_employee_id", Text),
    Column("manager", Text),
    Column("reopened_at", DateTime(timezone=True)),
    # Half of each page free on PostgreSQL: every reconcile moves ``last_seen`` on every open item,
    # and a row's next version then stays on its page without touching an index (migration 0018).
    postgresql_with={"fillfactor": 50},
)
# The API's two orders of the discrepancy listing (largest amount first, oldest first), each with
# the id as tie-breaker, so a keyset page is an index range scan (migration 0010).
Index("ix_discrepancy_amount_order", discrepancy.c.amount_cents.desc(), discrepancy.c.discrepancy_id)
Index("ix_discrepancy_age_order", discrepancy.c.first_seen, discrepancy.c.discrepancy_id)
# A role-scoped count of the listing (rule and status filters, customer in the role's scope) reads
# this index only (measured on 20k customers: ~9 ms -> ~0.9 ms with the customer owner index).
Index("ix_discrepancy_rule_status_customer", discrepancy.c.rule, discrepancy.c.status, discrepancy.c.customer_id)

reconcile_run = Table(
    "reconcile_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("open_count", Integer),
    Column("new_count", Integer),
    Column("resolved_count", Integer),
    # What a scoped reconcile (quality/scope.py) needs of the run before it: the latest succeeded
    # build it saw, the hash of the rules it ran (thresholds, rule code, the rules that ran), and
    # whether it evaluated everything (full) or only a scope (scoped). NULL: run before 0019.
    Column("build_id", Integer),
    Column("rules_hash", String(64)),
    Column("mode", String(20)),
)
from hub_core import schema_api  # noqa: E402,F401
from hub_core import schema_unified  # noqa: E402,F401
from hub_core import schema_alerts  # noqa: E402,F401
from hub_core import schema_report  # noqa: E402,F401

from hub_core import schema_identity  # noqa: E402,F401
from hub_core import schema_rules  # noqa: E402,F401
from hub_core import schema_quarantine  # noqa: E402,F401
from hub_core import schema_api_reports  # noqa: E402,F401
