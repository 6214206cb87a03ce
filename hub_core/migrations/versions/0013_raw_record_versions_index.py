"""raw records: an index over every version of a record (source, stream, record key)

An incremental build looks up the earlier versions of the records landed since the last build
(a contact that moved to another customer changes the one it left too); without this index
that is a scan of every raw record.

Revision ID: 0013
Revises: 0009
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.create_index('ix_raw_record_versions', ['source', 'stream', 'record_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.drop_index('ix_raw_record_versions')
