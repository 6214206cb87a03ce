"""Scoped reconcile: the customers each incremental build touched, and what a reconcile ran with

``build_customer`` keeps, per incremental build, the customers its changes reached (the set that
already scopes customer_360). ``reconcile_run`` gains the latest build a reconcile saw, the hash
of its rules (thresholds, rule code, the rules that ran) and its mode (full / scoped): the next
reconcile evaluates its rules only for the customers whose findings can have changed when every
build since is recorded and the rules are the same (quality/scope.py), else in full.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('build_customer',
    sa.Column('build_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('build_id', 'customer_id', name=op.f('pk_build_customer'))
    )
    with op.batch_alter_table('reconcile_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('build_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rules_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('mode', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reconcile_run', schema=None) as batch_op:
        batch_op.drop_column('mode')
        batch_op.drop_column('rules_hash')
        batch_op.drop_column('build_id')
    op.drop_table('build_customer')
