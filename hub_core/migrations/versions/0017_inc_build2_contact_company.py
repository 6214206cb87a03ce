"""contact_company: the normalised company name of each contact the crosswalk does not know

An incremental build normalised every such contact's company name again (13.6k at 10k customers)
to link contacts by company name; kept here, only the contacts it re-mapped are normalised again.
The indexes let it look up the contacts of the records it changed (``contact.customer_ref``) and
the records naming a few companies (``customer_record.name_norm`` / ``name_key``) instead of
joining every contact and every record.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Left empty here: the next build fills it (mappings/contact_company.py).
    op.create_table('contact_company',
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('name_norm', sa.Text(), nullable=True),
    sa.Column('core', sa.Text(), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_contact_company'))
    )
    with op.batch_alter_table('contact_company', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_company_core'), ['core'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_company_name_norm'), ['name_norm'], unique=False)
    with op.batch_alter_table('customer_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_record_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_record_name_norm'), ['name_norm'], unique=False)
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index('ix_contact_customer_ref', ['customer_ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_customer_ref')
    with op.batch_alter_table('customer_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_record_name_norm'))
        batch_op.drop_index(batch_op.f('ix_customer_record_name_key'))
    with op.batch_alter_table('contact_company', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_company_name_norm'))
        batch_op.drop_index(batch_op.f('ix_contact_company_core'))
    op.drop_table('contact_company')
