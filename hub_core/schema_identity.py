"""Identity tables: the resolved view of every customer/contact record, the id registry and its
trail, IT overrides, golden-field provenance and the contact crosswalk.

These tables are persistent (never rebuilt): a customer id, once issued, stays in the registry;
a merge or split is written to the trail so that readers holding an old id can follow it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, String, Table, Text

from hub_core.schema import metadata

# One row per source record that describes a customer, as the matcher reads it.
customer_record = Table(
    "customer_record",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("system", String(20), nullable=False),
    Column("natural_id", Text, nullable=False),
    Column("name", Text),
    # indexed: contacts linked by company name look up the records naming a few companies
    # (mappings/contact_company.py) instead of hashing every record
    Column("name_norm", Text, index=True),
    Column("name_key", Text, index=True),
    Column("name_place", Text),
    Column("aliases", Text),  # JSON list of alias name keys "core|place"
    Column("uscc", String(18)),  # valid, normalized code or NULL
    Column("uscc_raw", Text),
    Column("link_code", Text, index=True),
    Column("address", Text),
    Column("address_key", Text),
    Column("phones", Text),  # JSON list of normalized numbers
    Column("contacts", Text),  # JSON list of contact person names
    Column("owner_employee_id", Text),
    Column("extra", Text),  # JSON object of further golden-field candidates
    Column("updated_ms", BigInteger),
    Column("is_deleted", Boolean, nullable=False, default=False),
    Column("content_hash", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# The blocks each staged customer record sits in (mappings/identity/blockindex.py): an
# incremental build finds the records a change can reach by index look-ups, not by re-reading and
# re-keying every record. Follows ``customer_record`` row for row (written in the same transaction).
customer_record_block = Table(
    "customer_record_block",
    metadata,
    # No primary key: a full build writes ~10 rows a staged record (2.7M at 100k customers) into a
    # plain table and builds the two indexes after (blockindex.rebuild); a (block, ref) key kept
    # row by row cost a third of a full resolution. Rows are unique by (block, ref) as written.
    Column("block", Text, nullable=False, index=True),  # "<kind>\t<value>": core, del, phone, addr, code, link
    Column("ref", Text, nullable=False, index=True),
    Column("n", Integer, nullable=False),  # times the record's keys list the block (as big blocks count)
    Column("live", Boolean, nullable=False),  # the record is not deleted at its source
)

# The company name of every contact the crosswalk does not know, normalised as contacts are
# linked by company name (mappings/contact_company.py): an incremental build re-normalises only the
# contacts it re-mapped and re-links only those whose company a changed customer record names,
# instead of normalising every such contact on every build. Follows ``contact`` (same transaction).
contact_company = Table(
    "contact_company",
    metadata,
    Column("ref", Text, primary_key=True),  # the contact's ref
    Column("name_norm", Text, index=True),  # normalize_name(company), "" when nothing is left; NULL: no company
    Column("core", Text, index=True),  # its name key's core (NULL: none)
    Column("place", Text),  # its name key's place
)

# Every id ever issued (customers and contacts); ids are never reused or deleted.
identity_registry = Table(
    "identity_registry",
    metadata,
    Column("entity", String(20), primary_key=True),  # customer | contact
    Column("entity_id", String(100), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("status", String(20), nullable=False),  # active | merged | retired
    Column("merged_into", String(100)),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# What happened to ids: merges, splits, moves of records between ids, retirements.
identity_trail = Table(
    "identity_trail",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(20), nullable=False),
    Column("old_id", String(100), nullable=False, index=True),
    Column("new_id", String(100), index=True),
    Column("event", String(20), nullable=False),  # merge | split | move | retire | revive
    Column("refs", Text, nullable=False),  # JSON list of the records that moved
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# IT decisions; the newest active one per ref wins over every rule.
identity_override = Table(
    "identity_override",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(20), nullable=False),
    Column("ref", Text, nullable=False),
    Column("action", String(10), nullable=False),  # link | split
    Column("target_id", String(100)),  # link: the customer the record belongs to
    Column("decided_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

# Which source record gave each golden field of a customer.
customer_golden_field = Table(
    "customer_golden_field",
    metadata,
    Column("customer_id", String(100), primary_key=True),
    Column("field", String(40), primary_key=True),
    Column("value", Text, nullable=False),
    Column("ref", Text, nullable=False),
    Column("rule", String(20), nullable=False),  # priority | recency | code
)

# Contacts (persons at customers) resolved across systems.
contact_xref = Table(
    "contact_xref",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("contact_id", String(100), nullable=False, index=True),
    Column("customer_id", String(100)),
    Column("name", Text),
    Column("phones", Text),
    Column("match_method", String(40), nullable=False),
)
Index("ix_identity_override_entity_ref", identity_override.c.entity, identity_override.c.ref)
