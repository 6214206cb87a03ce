"""raw records: soft deletes from full-table key-set diffs; streams remember their bookmark properties

Revision ID: 0003
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('raw_stream', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bookmark_properties', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('raw_stream', schema=None) as batch_op:
        batch_op.drop_column('bookmark_properties')
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
