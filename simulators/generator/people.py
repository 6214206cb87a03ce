"""The sales organisation: one director, a manager per region and the reps, present in CRM,
U8 and WeCom under each system's own ids and linked only by their mobile numbers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .clock import Clock
from .codes import Ids, format_mobile
from .names import REGIONS, person_name

HEAD_OFFICE = "销售总部"


@dataclass
class Region:
    name: str
    deptcode: str
    provinces: tuple[str, ...]


@dataclass
class Employee:
    crm_id: str
    u8_code: str
    userid: str
    name: str
    mobile: str
    region: Region | None  # None: head office
    role: str  # director | manager | rep | clerk
    leader: Employee | None = None

    @property
    def sells(self) -> bool:
        return self.role in ("manager", "rep")


@dataclass
class Org:
    regions: list[Region]
    staff: list[Employee]

    def sellers(self, region: Region) -> list[Employee]:
        return [e for e in self.staff if e.sells and e.region is region]


def default_reps(customers: int) -> int:
    """About one rep per six customers within 8..15 for a demo; big worlds (the scale
    benchmarks) grow to one per 500 customers, at most 200 reps."""
    return max(min(15, max(8, customers // 6)), min(200, customers // 500))


def build_org(rng: random.Random, ids: Ids, customers: int, reps: int | None) -> Org:
    """3-4 regions, a manager each, 8-15 reps (about one per six customers), a director and
    one U8-only sales clerk (内勤), who has no CRM or WeCom account."""
    picked = rng.sample(REGIONS, rng.choice((3, 4)))
    picked.sort(key=REGIONS.index)
    regions = [Region(name, f"03{i + 1:02d}", provs) for i, (name, provs) in enumerate(picked)]
    n_reps = reps if reps is not None else default_reps(customers)
    n_reps = max(n_reps, len(regions))

    used_userids: set[str] = set()

    def person(role: str, region: Region | None, leader: Employee | None) -> Employee:
        while True:
            name, pinyin = person_name(rng)
            if all(e.name != name for e in staff):
                break
        userid = pinyin
        n = 2
        while userid in used_userids:  # WeCom ids are unique: zhangwei, zhangwei2, ...
            userid, n = f"{pinyin}{n}", n + 1
        used_userids.add(userid)
        k = len(staff)
        return Employee(str(1001 + k), f"P{k + 1:03d}", userid, name, ids.mobile(), region,
                        role, leader)

    staff: list[Employee] = []
    director = person("director", None, None)
    staff.append(director)
    managers = []
    for region in regions:
        managers.append(person("manager", region, director))
        staff.append(managers[-1])
    for i in range(n_reps):
        # Round-robin first so every region has at least one rep, then at random.
        k = i if i < len(regions) else rng.randrange(len(regions))
        staff.append(person("rep", regions[k], managers[k]))
    staff.append(person("clerk", None, director))
    return Org(regions, staff)


def org_records(rng: random.Random, org: Org, clock: Clock) -> dict[str, list[dict]]:
    """PersonnelObj, U8 person and WeCom follow_users records, mobiles formatted per system."""
    crm, u8, wecom = [], [], []
    for e in org.staff:
        dept = e.region.name if e.region else HEAD_OFFICE
        deptcode = e.region.deptcode if e.region else "03"
        u8.append({"code": e.u8_code, "name": e.name, "mobile": format_mobile(rng, e.mobile),
                   "deptcode": deptcode})
        if e.role == "clerk":
            continue
        created = clock.work_time(rng, clock.start)
        record = {"_id": e.crm_id, "name": e.name, "mobile": e.mobile, "main_department": dept}
        if e.leader is not None:  # CRM omits empty fields
            record["leader_id"] = e.leader.crm_id
        record.update(create_time=created, last_modified_time=created, life_status="normal",
                      is_deleted=False)
        crm.append(record)
        wecom.append({"userid": e.userid, "name": e.name,
                      "mobile": format_mobile(rng, e.mobile, plain_share=0.6)})
    return {"PersonnelObj": crm, "person": u8, "follow_users": wecom}
