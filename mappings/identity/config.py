"""The identity configuration (mappings/identity.yaml): source fields, evidence weights, survivorship."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, computed_field

DEFAULT_IDENTITY_FILE = Path(__file__).parent.parent / "identity.yaml"


class OwnerField(BaseModel):
    field: str
    via: str  # which employee id space: crm | u8


class ContactField(BaseModel):
    name: str
    phones: list[str] = Field(default_factory=list)


class CustomerLink(BaseModel):
    field: str
    ref: str  # format of the customer ref, "{}" replaced by the field's value


class SourceRecord(BaseModel):
    """Where one system keeps its customer (or contact) records and which fields mean what."""

    system: str
    stream: str
    object: str
    id: str
    name: str
    uscc: str | None = None
    link_code: str | None = None
    aliases: list[str] = Field(default_factory=list)
    address: str | None = None
    phones: list[str] = Field(default_factory=list)
    contacts: list[ContactField] = Field(default_factory=list)
    owner: OwnerField | None = None
    updated: str | None = None
    deleted: dict[str, list] = Field(default_factory=dict)
    extra: dict[str, str] = Field(default_factory=dict)
    customer: CustomerLink | None = None
    company: str | list[str] | None = None  # several paths: the first that holds a name


class Weights(BaseModel):
    name_exact: float = 0.6
    name_alias: float = 0.7
    name_one_edit: float = 0.45
    name_homophone: float = 0.7
    name_fuzzy: float = 0.5
    phone: float = 0.3
    address: float = 0.25
    contact: float = 0.2
    near_code: float = 0.35


class Matching(BaseModel):
    name_key_joins: bool = True  # the same name key alone joins (companies); off for person data
    typo_blocks: bool = True  # block on one-character-deleted name variants (typos)
    # A record's place inferred from its address / landline area code (cities.py) bars a join on
    # its name alone with a record placed elsewhere
    infer_cities: bool = True
    switchboard_clusters: int = 3
    max_block: int = 30  # a typo/phone/address block shared by more records is no evidence
    weights: Weights = Field(default_factory=Weights)
    fuzzy_min: float = 0.8
    accept: float = 0.7
    margin: float = 0.15
    review: float = 0.45

    @computed_field
    @property
    def area_codes_digest(self) -> str:
        """The content of the area-code table the inferred cities read (cities.py): dumped with
        the configuration, so an edited table changes the build's configuration hash and every
        record is matched again (an incremental build would only re-match the records it touches)."""
        from mappings.identity import cities

        return hashlib.sha256(Path(cities.AREA_CODES_FILE).read_bytes()).hexdigest()[:16]


class IdentityConfig(BaseModel):
    customers: list[SourceRecord]
    contacts: list[SourceRecord] = Field(default_factory=list)
    matching: Matching = Field(default_factory=Matching)
    survivorship: dict[str, list[str]] = Field(default_factory=dict)


def load_identity(path: Path | str | None = None) -> IdentityConfig:
    """Load the identity file (default: ``HUB_IDENTITY_FILE`` or the shipped one)."""
    path = Path(path or os.environ.get("HUB_IDENTITY_FILE") or DEFAULT_IDENTITY_FILE)
    return IdentityConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
