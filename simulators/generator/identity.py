"""Hard identity cases: records of one company that look like two, and companies that look
like one. Every case is recorded (kind, the refs involved, the evidence a careful matcher has)
so a benchmark can score an entity-resolution engine per kind; ``same_customer`` in the truth
stays the plain ground truth (one group per company).

Company-level cases are shaped before the master records exist (:func:`shape_companies`):
renamed companies (CRM still holds the former name, same credit code), the same brand in two
cities (two companies), branches (分公司/办事处, never their parent) and switchboards shared by
several companies. Record-level cases rewrite records afterwards (:func:`plant_records`):
one-character typos with or without a shared phone/address, traditional characters, legal-form
variants (股份有限公司 / 有限公司 / 股份公司), province + city prefixes, a U8 abbreviation as the
only CRM name; mistyped credit codes are listed as they occur.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field, replace

from stdnum.cn import uscc as _uscc

from .clock import Clock
from .companies import Company, U8Codes, u8_customer
from .knobs import Knobs
from .namepool import NamePool
from .names import ALL_PLACES, ROADS, BranchName, CompanyName
from .variants import CONFUSABLE, traditional, typo_core

COMPANY_KINDS = ("renamed", "same_brand_other_city", "branch", "shared_switchboard")
RECORD_KINDS = ("typo", "traditional", "legal_form", "province_city_prefix", "abbreviation")
KINDS = COMPANY_KINDS + RECORD_KINDS + ("mistyped_code",)


@dataclass
class Case:
    """One planted case: the companies involved (ground truth) and the records that are tricky
    (empty: all master records of those companies)."""

    kind: str
    companies: list[int]
    records: list[tuple[str, dict]] = field(default_factory=list)  # (system, record)
    note: str = ""


def _count(n: int, share: float) -> int:
    return max(round(n * share), 1 if n >= 20 and share > 0 else 0)


def _loc(c: Company) -> str:
    return c.name.city or c.name.province


def _plain(c: Company, used: set[int]) -> bool:
    """A company with an ordinary name, not yet part of another case."""
    return c.idx not in used and isinstance(c.name, CompanyName) and not c.name.keep_place \
        and c.former is None


class _Picker:
    """Companies in a shuffled order, handed out once each to the first case that fits; the
    used prefix is skipped once, so picking stays linear in a world of 100k companies."""

    def __init__(self, rng: random.Random, companies: list[Company], used: set[int]) -> None:
        self.order = companies[:]
        rng.shuffle(self.order)
        self.used = used
        self._start = 0

    def __call__(self, ok, take: bool = False) -> Company | None:
        while self._start < len(self.order) and not _plain(self.order[self._start], self.used):
            self._start += 1
        for i in range(self._start, len(self.order)):
            c = self.order[i]
            if _plain(c, self.used) and ok(c):
                if take:
                    self.used.add(c.idx)
                return c
        return None


def shape_companies(rng: random.Random, pool: NamePool, companies: list[Company],
                    knobs: Knobs) -> list[Case]:
    """Renames, namesakes in other cities, branches and shared switchboards (before records)."""
    n, used, cases = len(companies), set(), []
    pick = _Picker(rng, companies, used)
    order = pick.order

    for _ in range(_count(n, knobs.identity_share("renamed"))):
        c = pick(lambda c: c.in_crm and c.in_u8)
        if c is None:
            break
        brand, industry = pool.draw()
        c.former = CompanyName(brand, industry if rng.random() < 0.5 else c.name.industry,
                               c.name.suffix, c.name.province, c.name.city, c.name.style)
        if not pool.claim(c.former.core) and c.former.industry != industry:
            c.former = replace(c.former, industry=industry)
        used.add(c.idx)
        cases.append(Case("renamed", [c.idx], note=f"formerly {c.former.legal}"))

    for _ in range(_count(n, knobs.identity_share("same_brand_other_city"))):
        a = pick(lambda c: True)
        b = a and pick(lambda c, a=a: c is not a and _loc(c) != _loc(a))
        if a is None or b is None:
            break
        style = "city" if a.name.style in ("plain", "province") else a.name.style
        a.name = replace(a.name, style=style, keep_place=True)
        b.name = CompanyName(a.name.brand, a.name.industry, b.name.suffix, b.name.province,
                             b.name.city, rng.choice(("city", "city", "bracket")), keep_place=True)
        used.update((a.idx, b.idx))
        cases.append(Case("same_brand_other_city", [a.idx, b.idx]))

    for _ in range(_count(n, knobs.identity_share("branch"))):
        parent = pick(lambda c: True)
        branch = parent and pick(lambda c, p=parent: c is not p and _loc(c) != _loc(p))
        if parent is None or branch is None:
            break
        label = "分公司" if rng.random() < 0.75 else "办事处"
        branch.name = BranchName(parent.name, branch.name.province, branch.name.city, label)
        pool.claim(branch.name.core)
        used.update((parent.idx, branch.idx))
        cases.append(Case("branch", [parent.idx, branch.idx], note=f"parent {parent.idx}"))

    hard = knobs.difficulty == "hard"
    by_place: dict[str, list[Company]] = {}
    for c in order:
        by_place.setdefault(_loc(c), []).append(c)
    for _ in range(_count(n, knobs.identity_share("shared_switchboard"))):
        first = pick(lambda c: True)
        if first is None:
            break
        want = rng.randint(1, 3)
        mates = []
        for c in by_place[_loc(first)]:
            if len(mates) == want:
                break
            if c is not first and _plain(c, used):
                mates.append(c)
        if not mates:
            used.add(first.idx)
            continue
        for m in mates:
            m.phone = first.phone  # a business park's or an agent's number
            if hard and rng.random() < 0.5:
                m.address = first.address  # the same building, too
        used.update(c.idx for c in (first, *mates))
        cases.append(Case("shared_switchboard", [first.idx] + [m.idx for m in mates]))
    return cases


def plant_records(rng: random.Random, clock: Clock, pool: NamePool, companies: list[Company],
                  codes: U8Codes, knobs: Knobs, cases: list[Case]) -> list[Case]:
    """Rewrite some master records into the record-level cases (after deals and orders exist,
    which keep pointing at the same record dicts); returns all cases, mistyped codes included."""
    n = len(companies)
    hard = knobs.difficulty == "hard"
    evidence = knobs.identity_share("evidence")
    used = {i for case in cases for i in case.companies}
    picker = _Picker(rng, companies, used)

    def pick(ok) -> Company | None:
        return picker(ok, take=True)

    for case in cases:
        c = companies[case.companies[0]]
        if case.kind == "renamed":  # the credit code carries the link across the rename
            account, customer = c.accounts[0], c.customers[0]
            customer["taxno"] = c.uscc
            if hard and rng.random() >= evidence:  # only the phone and address say it
                account.pop("uscc__c", None)
                account["tel"], account["address"] = c.phone, c.address
                customer["phone"], customer["address"] = c.phone, c.address
            else:
                account["uscc__c"] = c.uscc
            case.records = [("crm", account), ("u8", customer)]
        elif case.kind == "same_brand_other_city" and hard and rng.random() >= evidence:
            b = companies[case.companies[1]]
            if b.in_u8:  # a clerk dropped the city; only the phone tells which one it is
                rec = b.customers[0]
                rec["name"] = b.name.core + b.name.suffix
                rec["taxno"], rec["phone"] = "", b.phone
                case.records = [("u8", rec)]

    for _ in range(_count(n, knobs.identity_share("typo"))):
        c = pick(lambda c: c.in_crm and c.in_u8 and any(ch in CONFUSABLE for ch in c.name.core))
        if c is None:
            break
        core = typo_core(rng, c.name.core)
        if any(core.startswith(p) for p in ALL_PLACES) or not pool.claim(core):
            continue
        name = c.name.legal.replace(c.name.core, core, 1)
        with_evidence = rng.random() < evidence
        if rng.random() < 0.5 and with_evidence:  # the CRM account itself was keyed in wrong
            rec = c.accounts[0]
            rec["name"], rec["tel"], rec["address"] = name, c.phone, c.address
            rec.pop("uscc__c", None)
            c.customers[0]["phone"], c.customers[0]["address"] = c.phone, c.address
            case = Case("typo", [c.idx], [("crm", rec)], "shared phone and address")
        else:  # a second U8 customer keyed in wrong (no documents on it)
            rec = u8_customer(rng, clock, c, codes.next(), knobs, duplicate=True)
            rec["name"], rec["abbrname"] = name, core
            if with_evidence:
                rec["phone"], rec["address"] = c.phone, c.address
                note = "shared phone and address"
            else:
                rec["phone"], rec["mobile"], rec["contact"] = "", "", ""
                rec["address"] = f"{_loc(c)}市{rng.choice(ROADS)}路{rng.randint(1, 999)}号"
                note = "name only"
            case = Case("typo", [c.idx], [("u8", rec)], note)
        cases.append(case)

    for _ in range(_count(n, knobs.identity_share("traditional"))):
        c = pick(lambda c: traditional(c.name.core) != c.name.core and _several(c))
        if c is None:
            break
        system, rec = _some_record(rng, c)
        key = "customer_name" if system == "finance" else "name"
        rec[key] = traditional(rec[key])
        cases.append(Case("traditional", [c.idx], [(system, rec)]))

    for _ in range(_count(n, knobs.identity_share("legal_form"))):
        c = pick(lambda c: c.in_crm and c.in_u8 and c.name.suffix == "股份有限公司")
        if c is None:
            break
        c.customers[0]["name"] = c.name.with_suffix("有限公司")
        c.accounts[0]["name"] = c.name.with_suffix(rng.choice(("股份公司", "股份有限公司")))
        cases.append(Case("legal_form", [c.idx], [("crm", c.accounts[0]), ("u8", c.customers[0])]))

    for _ in range(_count(n, knobs.identity_share("province_city_prefix"))):
        c = pick(lambda c: bool(c.name.city) and _several(c))
        if c is None:
            break
        system, rec = _some_record(rng, c)
        rec["customer_name" if system == "finance" else "name"] = c.name.prefixed(rng)
        cases.append(Case("province_city_prefix", [c.idx], [(system, rec)]))

    for _ in range(_count(n, knobs.identity_share("abbreviation"))):
        c = pick(lambda c: c.in_crm and c.in_u8)
        if c is None:
            break
        nasty = hard and rng.random() >= evidence
        abbr = c.name.brand if nasty else f"{_loc(c)}{c.name.brand}"
        if not pool.claim("abbr:" + abbr):
            continue
        customer, account = c.customers[0], c.accounts[0]
        customer["abbrname"] = abbr
        account["name"] = abbr
        if nasty:  # nothing but the abbreviation itself
            account.pop("uscc__c", None)
            account.pop("tel", None)
        else:
            account["tel"], customer["phone"] = c.phone, c.phone
        cases.append(Case("abbreviation", [c.idx], [("crm", account), ("u8", customer)]))

    for c in companies:
        bad = [("crm", r) for r in c.accounts if _mistyped(r.get("uscc__c"))]
        bad += [("u8", r) for r in c.customers if _mistyped(r.get("taxno"))]
        bad += [("finance", r) for r in c.ratings if _mistyped(r.get("uscc"))]
        for record in bad:
            cases.append(Case("mistyped_code", [c.idx], [record]))
    return cases


def _mistyped(code: str | None) -> bool:
    if not code:
        return False
    text = unicodedata.normalize("NFKC", code).replace(" ", "").replace("-", "").upper()
    return not _uscc.is_valid(text)


def _several(c: Company) -> bool:
    """The company has more than one master record (a lone record has nothing to match)."""
    return len(c.accounts) + len(c.customers) + len(c.ratings) > 1


def _some_record(rng: random.Random, c: Company) -> tuple[str, dict]:
    options = [("crm", r) for r in c.accounts[:1]] + [("u8", r) for r in c.customers[:1]]
    options += [("finance", r) for r in c.ratings[:1]]
    return rng.choice(options)
