"""landing quarantine (raw_reject once per payload), schema_drift, sync_duplicate_key, sync_run counts

Revision ID: 0014
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_quarantined', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_keys', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('drift_events', sa.Integer(), nullable=True))
    with op.batch_alter_table('raw_reject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cursor', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('connector', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('connector_version', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_sync_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seen_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('uq_raw_reject_fingerprint', ['source', 'fingerprint'], unique=True)
    # Rows set aside before this revision stay as they were (no fingerprint: never merged), open.
    op.execute("UPDATE raw_reject SET status = 'open', seen_count = 1, last_seen_at = rejected_at, "
               "last_sync_run_id = sync_run_id WHERE status IS NULL")
    op.create_table('schema_drift',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sync_run_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('stream', sa.String(length=200), nullable=False),
    sa.Column('field', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('declared', sa.Text(), nullable=True),
    sa.Column('observed', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('example_key', sa.Text(), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schema_drift'))
    )
    with op.batch_alter_table('schema_drift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schema_drift_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_schema_drift_sync_run_id'), ['sync_run_id'], unique=False)
    op.create_table('sync_duplicate_key',
    sa.Column('sync_run_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=200), nullable=False),
    sa.Column('record_key', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sync_run_id', 'stream', 'record_key', name=op.f('pk_sync_duplicate_key'))
    )
    with op.batch_alter_table('sync_duplicate_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_duplicate_key_source'), ['source'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_duplicate_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_duplicate_key_source'))
    op.drop_table('sync_duplicate_key')
    with op.batch_alter_table('schema_drift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schema_drift_sync_run_id'))
        batch_op.drop_index(batch_op.f('ix_schema_drift_source'))
    op.drop_table('schema_drift')
    with op.batch_alter_table('raw_reject', schema=None) as batch_op:
        batch_op.drop_index('uq_raw_reject_fingerprint')
        for column in ('resolved_at', 'status', 'seen_count', 'last_sync_run_id', 'last_seen_at',
                       'connector_version', 'connector', 'cursor', 'fingerprint', 'kind'):
            batch_op.drop_column(column)
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        for column in ('drift_events', 'duplicate_keys', 'records_quarantined'):
            batch_op.drop_column(column)
