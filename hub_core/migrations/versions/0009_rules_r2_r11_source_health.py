"""rules R2-R11: discrepancy fingerprint/owner/manager/reopened_at, source_health

Revision ID: 0009
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('discrepancy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('owner_employee_id', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('manager', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_discrepancy_fingerprint'), ['fingerprint'], unique=False)
    op.create_table('source_health',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_good_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('baseline', sa.Text(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_source_health'))
    )


def downgrade() -> None:
    op.drop_table('source_health')
    with op.batch_alter_table('discrepancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discrepancy_fingerprint'))
        batch_op.drop_column('reopened_at')
        batch_op.drop_column('manager')
        batch_op.drop_column('owner_employee_id')
        batch_op.drop_column('fingerprint')
