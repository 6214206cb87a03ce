"""drop stg_customer_record: entity resolution stages customer records in customer_record
(0005); nothing has written or read the old staging table since.

Revision ID: 0012
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stg_customer_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stg_customer_record_u8_code'))
    op.drop_table('stg_customer_record')


def downgrade() -> None:
    op.create_table('stg_customer_record',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('system', sa.String(length=20), nullable=False),
    sa.Column('object', sa.String(length=100), nullable=False),
    sa.Column('natural_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('name_norm', sa.Text(), nullable=True),
    sa.Column('name_key', sa.Text(), nullable=True),
    sa.Column('name_city', sa.Text(), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('uscc_raw', sa.Text(), nullable=True),
    sa.Column('u8_code', sa.Text(), nullable=True),
    sa.Column('owner_employee_id', sa.Text(), nullable=True),
    sa.Column('is_deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_stg_customer_record'))
    )
    with op.batch_alter_table('stg_customer_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stg_customer_record_u8_code'), ['u8_code'], unique=False)
