"""customer_record_block: the persisted block index of the staged customer records

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Left empty here: the next build fills it from customer_record (mappings/identity/blockindex.py).
    op.create_table('customer_record_block',
    sa.Column('block', sa.Text(), nullable=False),
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    )
    with op.batch_alter_table('customer_record_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_record_block_block'), ['block'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_record_block_ref'), ['ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_record_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_record_block_ref'))
        batch_op.drop_index(batch_op.f('ix_customer_record_block_block'))
    op.drop_table('customer_record_block')
