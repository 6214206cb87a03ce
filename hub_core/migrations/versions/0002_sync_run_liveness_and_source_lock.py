"""sync_run liveness (pid, host, heartbeat, full_refresh) and the per-source lock table

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('full_refresh', sa.Boolean(), nullable=True))
    op.create_table('source_lock',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('sync_run_id', sa.Integer(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_source_lock'))
    )


def downgrade() -> None:
    op.drop_table('source_lock')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('full_refresh')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('host')
        batch_op.drop_column('pid')
