"""publish gate (customer_360_candidate, publish_run) and withheld deletions (sync_run)

Revision ID: 0011
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_360_candidate',
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('owner_employee_id', sa.Text(), nullable=True),
    sa.Column('owner_name', sa.Text(), nullable=True),
    sa.Column('manager_employee_id', sa.Text(), nullable=True),
    sa.Column('manager_name', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('crm_level', sa.String(length=10), nullable=True),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('health_score', sa.Integer(), nullable=True),
    sa.Column('high_intent', sa.Boolean(), nullable=True),
    sa.Column('open_opportunities', sa.Integer(), nullable=False),
    sa.Column('open_opportunity_cents', sa.BigInteger(), nullable=True),
    sa.Column('last_order_day', sa.Date(), nullable=True),
    sa.Column('revenue_12m_cents', sa.BigInteger(), nullable=True),
    sa.Column('receivable_outstanding_cents', sa.BigInteger(), nullable=True),
    sa.Column('receivable_overdue_cents', sa.BigInteger(), nullable=True),
    sa.Column('last_receipt_day', sa.Date(), nullable=True),
    sa.Column('last_receipt_cents', sa.BigInteger(), nullable=True),
    sa.Column('credit_rating', sa.String(length=10), nullable=True),
    sa.Column('previous_credit_rating', sa.String(length=10), nullable=True),
    sa.Column('credit_rating_change', sa.Integer(), nullable=True),
    sa.Column('credit_rated_day', sa.Date(), nullable=True),
    sa.Column('last_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('interactions_30d', sa.Integer(), nullable=False),
    sa.Column('tech_inquiries_90d', sa.Integer(), nullable=False),
    sa.Column('product_series_90d', sa.Integer(), nullable=False),
    sa.Column('downstream_customers', sa.Integer(), nullable=True),
    sa.Column('decision_maker_interactions_30d', sa.Integer(), nullable=False),
    sa.Column('competitor_mentions_90d', sa.Integer(), nullable=False),
    sa.Column('document_events_30d', sa.Integer(), nullable=False),
    sa.Column('response_minutes', sa.Float(), nullable=True),
    sa.Column('crm_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('u8_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finance_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wecom_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completeness', sa.Float(), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('build_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_360_candidate'))
    )
    op.create_table('publish_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('build_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('blocked_by', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publish_run'))
    )
    op.create_index(op.f('ix_publish_run_build_id'), 'publish_run', ['build_id'], unique=False)
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletions_withheld', sa.Text(), nullable=True))
    # A warehouse built before the gate: its customer_360 is what the latest build published, and
    # it is the candidate too (an unchanged next build does not rewrite the candidate).
    op.execute("INSERT INTO customer_360_candidate SELECT * FROM customer_360")
    op.execute("INSERT INTO publish_run (build_id, status, decided_at, rows) "
               "SELECT MAX(build_id), 'published', CURRENT_TIMESTAMP, COUNT(*) FROM customer_360 "
               "HAVING COUNT(*) > 0")


def downgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('deletions_withheld')
    op.drop_index(op.f('ix_publish_run_build_id'), table_name='publish_run')
    op.drop_table('publish_run')
    op.drop_table('customer_360_candidate')
