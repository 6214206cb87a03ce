"""discrepancy: room on every page for the next version of its rows (PostgreSQL fillfactor 50)

Every reconcile moves ``last_seen`` on every open item (18.7k rows at 10k customers). With full
pages (fillfactor 100) each new row version goes to another page, so every one of the table's
eight indexes gets a new entry: ~1.1 s of the server's time per reconcile, measured. With half of
each page kept free the new version stays on its page, a heap-only (HOT) update that touches no
index: ~50-120 ms for the same statement, and the previous run's dead versions are pruned on the
page as it is next updated (autovacuum is not needed for that). The table takes up to twice the
pages. Pages written before this migration fill up as before until their rows are next moved.
SQLite has no such setting: nothing to do there.

Revision ID: 0018
Revises: 0017
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE discrepancy SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE discrepancy RESET (fillfactor)")
