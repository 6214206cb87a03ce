"""API: customer.updated_at, report_file, indexes for scoped and paged reads

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_updated_at'), ['updated_at'], unique=False)
        # owner first, id second: a role's scope (the customers of these owners) is an index-only scan
        batch_op.create_index('ix_customer_owner_employee_id', ['owner_employee_id', 'customer_id'], unique=False)
    # Customers built before this revision: when they last changed is unknown, so they count as
    # changed now; a client syncing since any earlier moment receives them once more.
    op.execute(sa.text("UPDATE customer SET updated_at = CURRENT_TIMESTAMP WHERE updated_at IS NULL"))
    with op.batch_alter_table('discrepancy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discrepancy_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discrepancy_status'), ['status'], unique=False)
    op.create_index('ix_discrepancy_amount_order', 'discrepancy', [sa.text('amount_cents DESC'), 'discrepancy_id'],
                    unique=False)
    op.create_index('ix_discrepancy_age_order', 'discrepancy', ['first_seen', 'discrepancy_id'], unique=False)
    # a scoped count (rule and status filters, customer in scope) without reading the table
    op.create_index('ix_discrepancy_rule_status_customer', 'discrepancy', ['rule', 'status', 'customer_id'],
                    unique=False)
    op.create_index('ix_customer_360_owner_employee_id', 'customer_360', ['owner_employee_id'], unique=False)
    op.create_index('ix_customer_360_region', 'customer_360', ['region'], unique=False)
    op.create_table('report_file',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report_run.id'], name='fk_report_file_report_id', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'format', name=op.f('pk_report_file'))
    )


def downgrade() -> None:
    op.drop_table('report_file')
    op.drop_index('ix_customer_360_region', table_name='customer_360')
    op.drop_index('ix_customer_360_owner_employee_id', table_name='customer_360')
    op.drop_index('ix_discrepancy_rule_status_customer', table_name='discrepancy')
    op.drop_index('ix_discrepancy_age_order', table_name='discrepancy')
    op.drop_index('ix_discrepancy_amount_order', table_name='discrepancy')
    with op.batch_alter_table('discrepancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discrepancy_status'))
        batch_op.drop_index(batch_op.f('ix_discrepancy_customer_id'))
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_owner_employee_id')
        batch_op.drop_index(batch_op.f('ix_customer_updated_at'))
        batch_op.drop_column('updated_at')
