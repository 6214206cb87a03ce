"""alert outbox, delivery attempts and alerted escalation levels (hub_core/schema_alerts.py)

Revision ID: 0007
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_attempt',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('robot', sa.String(length=100), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_attempt'))
    )
    op.create_index(op.f('ix_alert_attempt_outbox_id'), 'alert_attempt', ['outbox_id'], unique=False)
    op.create_index('ix_alert_attempt_robot_time', 'alert_attempt', ['robot', 'attempted_at'], unique=False)

    op.create_table('alert_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('robot', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('mentions', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_outbox'))
    )
    op.create_index('ix_alert_outbox_due', 'alert_outbox', ['status', 'robot', 'next_attempt_at'], unique=False)

    op.create_table('alert_sent',
    sa.Column('discrepancy_id', sa.Text(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('occurrence', sa.String(length=40), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('discrepancy_id', 'level', 'occurrence', name=op.f('pk_alert_sent'))
    )


def downgrade() -> None:
    op.drop_table('alert_sent')
    op.drop_index('ix_alert_outbox_due', table_name='alert_outbox')
    op.drop_table('alert_outbox')
    op.drop_index('ix_alert_attempt_robot_time', table_name='alert_attempt')
    op.drop_index(op.f('ix_alert_attempt_outbox_id'), table_name='alert_attempt')
    op.drop_table('alert_attempt')
