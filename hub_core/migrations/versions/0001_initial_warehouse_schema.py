"""initial warehouse schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 07:32:40.155264
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('customer',
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('owner_employee_id', sa.Text(), nullable=True),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer'))
    )
    op.create_table('customer_review',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('candidates', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_customer_review'))
    )
    op.create_table('customer_xref',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('system', sa.String(length=20), nullable=False),
    sa.Column('match_method', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_customer_xref'))
    )
    with op.batch_alter_table('customer_xref', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_xref_customer_id'), ['customer_id'], unique=False)

    op.create_table('deal_order_pair',
    sa.Column('opp_ref', sa.Text(), nullable=False),
    sa.Column('order_ref', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('diff_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('opp_ref', name=op.f('pk_deal_order_pair')),
    sa.UniqueConstraint('order_ref', name=op.f('uq_deal_order_pair_order_ref'))
    )
    op.create_table('discrepancy',
    sa.Column('discrepancy_id', sa.Text(), nullable=False),
    sa.Column('rule', sa.String(length=10), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=True),
    sa.Column('customer_name', sa.Text(), nullable=True),
    sa.Column('owner', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refs', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('discrepancy_id', name=op.f('pk_discrepancy'))
    )
    with op.batch_alter_table('discrepancy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discrepancy_rule'), ['rule'], unique=False)

    op.create_table('raw_record',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('stream', sa.String(length=200), nullable=False),
    sa.Column('record_key', sa.String(length=500), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('sync_run_id', sa.Integer(), nullable=False),
    sa.Column('landed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_record'))
    )
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.create_index('uq_raw_record_current', ['source', 'stream', 'record_key'], unique=True, postgresql_where=sa.text('is_current'), sqlite_where=sa.text('is_current = 1'))

    op.create_table('raw_reject',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('stream', sa.Text(), nullable=True),
    sa.Column('record_key', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('sync_run_id', sa.Integer(), nullable=False),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_reject'))
    )
    with op.batch_alter_table('raw_reject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_raw_reject_source'), ['source'], unique=False)

    op.create_table('raw_stream',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('stream', sa.String(length=200), nullable=False),
    sa.Column('key_properties', sa.Text(), nullable=False),
    sa.Column('json_schema', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'stream', name=op.f('pk_raw_stream'))
    )
    op.create_table('reconcile_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('open_count', sa.Integer(), nullable=True),
    sa.Column('new_count', sa.Integer(), nullable=True),
    sa.Column('resolved_count', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_run'))
    )
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

    op.create_table('stg_employee',
    sa.Column('employee_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('mobile', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('leader_employee_id', sa.Text(), nullable=True),
    sa.Column('crm_id', sa.Text(), nullable=True),
    sa.Column('u8_code', sa.Text(), nullable=True),
    sa.Column('wecom_userid', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_stg_employee'))
    )
    with op.batch_alter_table('stg_employee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stg_employee_crm_id'), ['crm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stg_employee_mobile'), ['mobile'], unique=False)
        batch_op.create_index(batch_op.f('ix_stg_employee_u8_code'), ['u8_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_stg_employee_wecom_userid'), ['wecom_userid'], unique=False)

    op.create_table('stg_opportunity',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('opp_id', sa.Text(), nullable=False),
    sa.Column('account_ref', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.String(length=100), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('stage', sa.String(length=40), nullable=True),
    sa.Column('close_ms', sa.BigInteger(), nullable=True),
    sa.Column('close_day', sa.Date(), nullable=True),
    sa.Column('last_modified_ms', sa.BigInteger(), nullable=True),
    sa.Column('stage_changed_ms', sa.BigInteger(), nullable=True),
    sa.Column('owner_employee_id', sa.Text(), nullable=True),
    sa.Column('is_deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_stg_opportunity'))
    )
    with op.batch_alter_table('stg_opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stg_opportunity_account_ref'), ['account_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_stg_opportunity_customer_id'), ['customer_id'], unique=False)

    op.create_table('stg_sales_order',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('order_day', sa.Date(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('u8_customer_ref', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.String(length=100), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('owner_employee_id', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_stg_sales_order'))
    )
    with op.batch_alter_table('stg_sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stg_sales_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stg_sales_order_u8_customer_ref'), ['u8_customer_ref'], unique=False)

    op.create_table('sync_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('records_seen', sa.Integer(), nullable=False),
    sa.Column('records_landed', sa.Integer(), nullable=False),
    sa.Column('records_rejected', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_run'))
    )
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_run_source'), ['source'], unique=False)

    op.create_table('sync_state',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_sync_state'))
    )



def downgrade() -> None:

    op.drop_table('sync_state')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_run_source'))

    op.drop_table('sync_run')
    with op.batch_alter_table('stg_sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stg_sales_order_u8_customer_ref'))
        batch_op.drop_index(batch_op.f('ix_stg_sales_order_customer_id'))

    op.drop_table('stg_sales_order')
    with op.batch_alter_table('stg_opportunity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stg_opportunity_customer_id'))
        batch_op.drop_index(batch_op.f('ix_stg_opportunity_account_ref'))

    op.drop_table('stg_opportunity')
    with op.batch_alter_table('stg_employee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stg_employee_wecom_userid'))
        batch_op.drop_index(batch_op.f('ix_stg_employee_u8_code'))
        batch_op.drop_index(batch_op.f('ix_stg_employee_mobile'))
        batch_op.drop_index(batch_op.f('ix_stg_employee_crm_id'))

    op.drop_table('stg_employee')
    with op.batch_alter_table('stg_customer_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stg_customer_record_u8_code'))

    op.drop_table('stg_customer_record')
    op.drop_table('reconcile_run')
    op.drop_table('raw_stream')
    with op.batch_alter_table('raw_reject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_raw_reject_source'))

    op.drop_table('raw_reject')
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.drop_index('uq_raw_record_current', postgresql_where=sa.text('is_current'), sqlite_where=sa.text('is_current = 1'))

    op.drop_table('raw_record')
    with op.batch_alter_table('discrepancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discrepancy_rule'))

    op.drop_table('discrepancy')
    op.drop_table('deal_order_pair')
    with op.batch_alter_table('customer_xref', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_xref_customer_id'))

    op.drop_table('customer_xref')
    op.drop_table('customer_review')
    op.drop_table('customer')

