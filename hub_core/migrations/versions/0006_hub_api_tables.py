"""hub_api tables: api keys, audit, connector configs, discrepancy notes

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-30 11:31:30.109003
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('employee_id', sa.Text(), nullable=True),
    sa.Column('regions', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_api_key'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('connector_config',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('connector', sa.String(length=40), nullable=True),
    sa.Column('command', sa.Text(), nullable=True),
    sa.Column('config_encrypted', sa.Text(), nullable=False),
    sa.Column('streams', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_connector_config'))
    )
    op.create_table('discrepancy_note',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('discrepancy_id', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discrepancy_note'))
    )
    with op.batch_alter_table('discrepancy_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discrepancy_note_discrepancy_id'), ['discrepancy_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('discrepancy_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discrepancy_note_discrepancy_id'))

    op.drop_table('discrepancy_note')
    op.drop_table('connector_config')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    op.drop_table('api_key')
