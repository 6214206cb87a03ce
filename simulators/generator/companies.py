"""Customer companies and their master records: CRM accounts, U8 customers, finance ratings.

A :class:`Company` is the ground truth: every record it owns is that company, whatever its
spelling or credit code says. Records are plain dicts in each system's native shape.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .clock import DAY_MS, Clock, date_text, time_text
from .codes import Ids, mistype_uscc, new_uscc, sloppy_uscc
from .knobs import Knobs
from .namepool import NamePool
from .names import (
    DIAL_CODES,
    JOB_TITLES,
    LOCATIONS,
    PROVINCE_LONG,
    ROADS,
    SUFFIXES,
    BranchName,
    CompanyName,
    person_name,
    pick_weighted,
)
from .people import Employee, Org

LEVELS = (("S", 8), ("A", 20), ("B", 40), ("C", 32))
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "C")
_RATING_BY_LEVEL = {"S": (0, 2), "A": (0, 3), "B": (1, 4), "C": (2, 6)}
_DOWNSTREAM = {"S": (3, 30), "A": (1, 15), "B": (0, 8), "C": (0, 3)}  # customers they bring
_CREDIT_LIMIT = {"S": 2_000_000, "A": 1_000_000, "B": 300_000, "C": 100_000}


@dataclass(slots=True)  # a big world holds millions
class Contact:
    name: str
    mobile: str
    title: str
    created_ms: int
    crm_id: str | None = None
    external_userid: str | None = None  # set when the contact is added on WeCom


@dataclass
class Company:
    idx: int
    name: CompanyName | BranchName
    uscc: str
    region_name: str
    rep: Employee
    level: str
    kind: str  # full | no_finance | crm_only | erp_only
    since: date  # became a customer (or a prospect) around this day
    credit_days: int
    phone: str = ""  # the switchboard (总机), e.g. 020-83561234
    address: str = ""
    former: CompanyName | None = None  # the name before a rename (CRM was never updated)
    contacts: list[Contact] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)  # CRM AccountObj; [0] is the main one
    customers: list[dict] = field(default_factory=list)  # U8 customer; [0] is the main one
    ratings: list[dict] = field(default_factory=list)  # finance credit_rating
    # Planted rule cases (plant_rules.py): no interaction after ``quiet_ms``, plus exact ones:
    # (ms, "note" | "msg_in" | "msg_out").
    quiet_ms: int | None = None
    extra_activity: list[tuple[int, str]] = field(default_factory=list)

    @property
    def in_crm(self) -> bool:
        return self.kind != "erp_only"

    @property
    def in_u8(self) -> bool:
        return self.kind != "crm_only"

    @property
    def crm_name(self) -> CompanyName | BranchName:
        """The name CRM knows the company by (the former one after a rename)."""
        return self.former or self.name


def _count(n: int, share: float, minimum: int) -> int:
    """round(n * share), but at least ``minimum`` once the world is big enough to spare it."""
    return max(round(n * share), minimum if n >= 20 else 0)


def make_companies(rng: random.Random, clock: Clock, org: Org, ids: Ids, n: int,
                   knobs: Knobs, pool: NamePool) -> list[Company]:
    """``n`` companies spread over the org's regions, each with its own valid credit code."""
    kinds = ["crm_only"] * _count(n, knobs.crm_only_share, 1)
    kinds += ["erp_only"] * _count(n, knobs.erp_only_share, 1)
    rest = n - len(kinds)
    kinds += ["no_finance"] * round(rest * knobs.no_finance_share)
    kinds += ["full"] * (n - len(kinds))
    rng.shuffle(kinds)

    taken: set[str] = set()
    companies = []
    team = {}  # region -> its sellers and their weights (managers keep a few key accounts)
    for region in org.regions:
        sellers = org.sellers(region)
        team[region.name] = sellers, [1 if s.role == "manager" else 4 for s in sellers]
    for idx, kind in enumerate(kinds):
        brand, industry = pool.draw()
        region = rng.choice(org.regions)
        province = rng.choice(region.provinces)
        city, area4 = rng.choice(LOCATIONS[province])
        style = pick_weighted(rng, (("plain", 35), ("city", 40), ("province", 20),
                                    ("bracket", 5)))
        if style == "province" and not city:
            style = "city"  # a municipality is its own city
        name = CompanyName(brand, industry, pick_weighted(rng, SUFFIXES), province, city, style)
        area = area4 + f"{rng.randint(1, 12):02d}"
        first = clock.start - timedelta(days=300) if kind == "erp_only" else clock.start
        since = clock.day_between(rng, first, clock.today - timedelta(days=45))
        # Managers keep a few key accounts; reps carry the rest.
        sellers, weights = team[region.name]
        rep = rng.choices(sellers, weights)[0]
        companies.append(Company(
            idx, name, new_uscc(rng, area, taken), region.name, rep,
            pick_weighted(rng, LEVELS), kind, since, rng.choice((30, 30, 45, 60, 60, 90)),
            landline(rng, ids, city or province),
            f"{city or province}市{rng.choice(ROADS)}路{rng.randint(1, 999)}号",
        ))
    for c in companies:
        _add_contacts(rng, clock, ids, c)
    return companies


def _add_contacts(rng: random.Random, clock: Clock, ids: Ids, c: Company) -> None:
    lo, hi = {"S": (2, 4), "A": (2, 3), "B": (1, 3), "C": (1, 2)}[c.level]
    for _ in range(rng.randint(lo, hi)):
        name, _ = person_name(rng)
        created = clock.work_time(rng, clock.day_between(rng, c.since, clock.today))
        c.contacts.append(Contact(name, ids.mobile(), pick_weighted(rng, JOB_TITLES), created))


def _code_field(rng: random.Random, code: str, missing: float, typo: float,
                sloppy: float) -> str | None:
    """The credit code as one system holds it: None (missing), mistyped, sloppy or clean."""
    roll = rng.random()
    if roll < missing:
        return None
    if roll < missing + typo:
        return mistype_uscc(rng, code)
    return sloppy_uscc(rng, code) if rng.random() < sloppy else code


def landline(rng: random.Random, ids: Ids, place: str) -> str:
    """A switchboard number no other company has: area code + 7 or 8 digits."""
    dial = DIAL_CODES[place]
    return ids.token(f"{dial}-{rng.choice('2345678')}", 7 if len(dial) == 3 else 6, "0123456789")


def _address(rng: random.Random, c: Company) -> str:
    """The company's address as one clerk typed it (now and then with the province in front)."""
    if rng.random() < 0.2 and c.name.city and not c.address.startswith(c.name.province):
        return PROVINCE_LONG.get(c.name.province, c.name.province + "省") + c.address
    return c.address


def _tel(rng: random.Random, c: Company) -> str:
    """AccountObj.tel: mostly the switchboard, sometimes a contact's mobile, sometimes empty."""
    roll = rng.random()
    if roll < 0.7 or not c.contacts:
        return c.phone if roll < 0.9 else ""
    return c.contacts[0].mobile


def crm_account(rng: random.Random, clock: Clock, ids: Ids, c: Company, knobs: Knobs,
                duplicate: bool = False) -> dict:
    """An AccountObj record (CRM omits empty fields, so a missing code has no key at all)."""
    day = c.since if not duplicate else clock.day_between(rng, c.since, clock.today)
    created = clock.work_time(rng, day)
    modified = min(created + rng.randint(0, 200) * DAY_MS, clock.now_ms - 3_600_000)
    modified = max(modified, created)
    known = c.crm_name
    name = known.variant(rng) if duplicate else known.spelling(rng, knobs.crm_legal_name)
    rec = {"_id": ids.object_id(created), "name": name, "owner": [c.rep.crm_id]}
    typo = max(knobs.crm_code_typo, knobs.identity_share("code_typo"))
    code = None if duplicate else _code_field(rng, c.uscc, knobs.crm_code_missing, typo,
                                              knobs.sloppy_code)
    if code:
        rec["uscc__c"] = code
    tel = _tel(rng, c)
    if tel:
        rec["tel"] = tel
    if not duplicate and rng.random() < 0.5:  # a tenant custom field, often left empty
        rec["downstream_customers__c"] = rng.randint(*_DOWNSTREAM[c.level])
    rec.update(account_level=c.level, industry=c.name.industry, address=_address(rng, c),
               record_type="default__c", create_time=created, last_modified_time=modified,
               life_status="normal", is_deleted=False)
    c.accounts.append(rec)
    return rec


def u8_customer(rng: random.Random, clock: Clock, c: Company, code: str, knobs: Knobs,
                duplicate: bool = False) -> dict:
    """A U8 customer; a duplicate is the same company keyed in again, without its tax no."""
    if duplicate:
        main = c.customers[0]["name"].strip()
        name = main
        while name.strip() == main:
            name = c.name.variant(rng)
        taxno = ""
    else:
        name = c.name.spelling(rng, knobs.u8_legal_name)
        typo = max(knobs.u8_code_typo, knobs.identity_share("code_typo"))
        taxno = _code_field(rng, c.uscc, knobs.u8_code_missing, typo, knobs.sloppy_code) or ""
    contact = c.contacts[0] if c.contacts else None
    modified = clock.work_time(rng, clock.day_between(rng, c.since, clock.today))
    rec = {
        "code": code, "name": name, "abbrname": c.name.short,
        "sort_code": rng.choice(("01", "01", "02")), "industry": c.name.industry,
        "address": _address(rng, c), "contact": contact.name if contact else "",
        "phone": c.phone if rng.random() < 0.9 else "",
        "mobile": contact.mobile if contact else "", "taxno": taxno,
        "spec_operator": c.rep.u8_code, "ModifyDate": time_text(modified),
    }
    c.customers.append(rec)
    return rec


def finance_rating(rng: random.Random, clock: Clock, c: Company, knobs: Knobs) -> dict:
    """The finance system's rating of the company, keyed by its main U8 code."""
    lo, hi = _RATING_BY_LEVEL[c.level]
    current = rng.randint(lo, hi)
    move = rng.choices((0, 1, -1, 2, 3), (60, 18, 12, 7, 3))[0]  # + means downgraded
    previous = min(max(current - move, 0), len(RATINGS) - 1)
    u8 = c.customers[0]
    code = None if rng.random() < knobs.finance_code_missing else c.uscc
    rated = clock.day_between(rng, max(c.since, clock.today - timedelta(days=330)), clock.today)
    rec = {
        "customer_code": u8["code"], "uscc": code or "",
        # Finance usually copies the U8 name, sometimes types the legal one.
        "customer_name": (u8["name"] if rng.random() < 0.7
                          else c.name.spelling(rng, knobs.finance_legal_name)),
        "rating": RATINGS[current], "previous_rating": RATINGS[previous],
        "credit_limit": _CREDIT_LIMIT[c.level], "credit_days": c.credit_days,
        "rated_at": date_text(rated),
    }
    c.ratings.append(rec)
    return rec


class U8Codes:
    """One coding scheme per tenant: C0001, C0002... or class + sequence 010001, 010002..."""

    def __init__(self, rng: random.Random) -> None:
        self._pattern = "C{:04d}" if rng.random() < 0.5 else "01{:04d}"
        self._seq = 0

    def next(self) -> str:
        self._seq += 1
        return self._pattern.format(self._seq)


def make_master_records(rng: random.Random, clock: Clock, ids: Ids, companies: list[Company],
                        knobs: Knobs) -> U8Codes:
    """Accounts, U8 customers (codes in order of who became a customer first), ratings and
    random duplicates; returns the U8 code sequence for customers added later."""
    codes = U8Codes(rng)
    for c in companies:
        if c.in_crm:
            crm_account(rng, clock, ids, c, knobs)
    for c in sorted((c for c in companies if c.in_u8), key=lambda c: (c.since, c.idx)):
        u8_customer(rng, clock, c, codes.next(), knobs)
    for c in companies:
        if c.kind == "full":
            finance_rating(rng, clock, c, knobs)
    for c in _pick(rng, [c for c in companies if c.in_crm], knobs.crm_duplicate_share):
        crm_account(rng, clock, ids, c, knobs, duplicate=True)
    for c in _pick(rng, [c for c in companies if c.in_u8], knobs.u8_duplicate_share):
        u8_customer(rng, clock, c, codes.next(), knobs, duplicate=True)
    return codes


def _pick(rng: random.Random, pool: list[Company], share: float) -> list[Company]:
    return rng.sample(pool, min(len(pool), round(len(pool) * share)))
