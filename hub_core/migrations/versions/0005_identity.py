"""identity registry, trail, overrides, golden fields, contacts

Revision ID: 0005
Revises: 0008
Create Date: 2026-11-30 11:34:04.451105
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_xref',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('phones', sa.Text(), nullable=True),
    sa.Column('match_method', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_contact_xref'))
    )
    with op.batch_alter_table('contact_xref', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_xref_contact_id'), ['contact_id'], unique=False)

    op.create_table('customer_golden_field',
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'field', name=op.f('pk_customer_golden_field'))
    )
    op.create_table('customer_record',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('system', sa.String(length=20), nullable=False),
    sa.Column('natural_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('name_norm', sa.Text(), nullable=True),
    sa.Column('name_key', sa.Text(), nullable=True),
    sa.Column('name_place', sa.Text(), nullable=True),
    sa.Column('aliases', sa.Text(), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('uscc_raw', sa.Text(), nullable=True),
    sa.Column('link_code', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('address_key', sa.Text(), nullable=True),
    sa.Column('phones', sa.Text(), nullable=True),
    sa.Column('contacts', sa.Text(), nullable=True),
    sa.Column('owner_employee_id', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.Column('updated_ms', sa.BigInteger(), nullable=True),
    sa.Column('is_deleted', sa.Boolean(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_customer_record'))
    )
    with op.batch_alter_table('customer_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_record_link_code'), ['link_code'], unique=False)

    op.create_table('identity_override',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('target_id', sa.String(length=100), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_override'))
    )
    with op.batch_alter_table('identity_override', schema=None) as batch_op:
        batch_op.create_index('ix_identity_override_entity_ref', ['entity', 'ref'], unique=False)

    op.create_table('identity_registry',
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('merged_into', sa.String(length=100), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'entity_id', name=op.f('pk_identity_registry'))
    )
    op.create_table('identity_trail',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('old_id', sa.String(length=100), nullable=False),
    sa.Column('new_id', sa.String(length=100), nullable=True),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('refs', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_trail'))
    )
    with op.batch_alter_table('identity_trail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_trail_new_id'), ['new_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_trail_old_id'), ['old_id'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('industry', sa.Text(), nullable=True))

    with op.batch_alter_table('customer_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.String(length=100), nullable=True))

    with op.batch_alter_table('customer_xref', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('customer_xref', schema=None) as batch_op:
        batch_op.drop_column('evidence')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('score')

    with op.batch_alter_table('customer_review', schema=None) as batch_op:
        batch_op.drop_column('customer_id')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('industry')
        batch_op.drop_column('phone')
        batch_op.drop_column('address')

    with op.batch_alter_table('identity_trail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_trail_old_id'))
        batch_op.drop_index(batch_op.f('ix_identity_trail_new_id'))

    op.drop_table('identity_trail')
    op.drop_table('identity_registry')
    with op.batch_alter_table('identity_override', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_override_entity_ref')

    op.drop_table('identity_override')
    with op.batch_alter_table('customer_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_record_link_code'))

    op.drop_table('customer_record')
    op.drop_table('customer_golden_field')
    with op.batch_alter_table('contact_xref', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_xref_contact_id'))

    op.drop_table('contact_xref')
