"""What the company sells: U8 inventory items, stock, and order lines priced from them."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .clock import Clock, time_text

# code, name, specs, unit, list price (CNY, tax-inclusive)
_ITEMS = (
    ("01001", "不锈钢板", "304 2.0mm", "张", 1280), ("01002", "镀锌钢管", "DN50", "根", 186),
    ("01003", "SBS防水卷材", "4mm", "卷", 420), ("01004", "硅酮结构胶", "590ml", "支", 38),
    ("01005", "铝合金型材", "6063-T5", "吨", 23800), ("01006", "环氧地坪涂料", "20kg", "桶", 760),
    ("02001", "变频器", "7.5kW", "台", 4680), ("02002", "伺服电机", "1.5kW", "台", 3950),
    ("02003", "PLC控制器", "S7-1200", "台", 6200), ("02004", "交流接触器", "CJX2-2510", "只", 86),
    ("02005", "电力电缆", "YJV 3x95", "米", 268), ("02006", "螺杆空压机", "22kW", "台", 38500),
    ("02007", "工业除湿机", "CFZ-10", "台", 8900), ("02008", "UPS电源", "10kVA", "台", 12800),
    ("03001", "一次性输液器", "0.7mm", "箱", 560), ("03002", "多参数监护仪", "PM-9000", "台", 26800),
    ("03003", "医用防护口罩", "N95", "箱", 980), ("03004", "电动手术床", "DS-II", "台", 75000),
    ("04001", "数字万用表", "UT61E", "台", 420), ("04002", "红外测温仪", "TM-900", "台", 1650),
    ("04003", "电磁流量计", "DN100", "台", 7800), ("05001", "工业润滑油", "L-HM46 18L", "桶", 980),
    ("05002", "LED工矿灯", "150W", "盏", 328), ("05003", "反渗透膜", "8040", "支", 3600),
    ("05004", "高强度螺栓", "M20x80", "套", 6.5), ("05005", "冷水机组", "30HP", "台", 68000),
)
WAREHOUSES = ("01", "02")  # 成品库, 备件库
# Inventory classes (product series), keyed by the first two digits of the item code.
SERIES = {"01": "建筑材料", "02": "机电设备", "03": "医疗器械", "04": "仪器仪表", "05": "工业耗材"}


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    specs: str
    unit: str
    price_cents: int


@dataclass(slots=True)  # a big world holds millions
class Line:
    item: Item
    quantity: int
    unit_cents: int  # tax-inclusive unit price

    @property
    def cents(self) -> int:
        return self.quantity * self.unit_cents


ITEMS = tuple(Item(code, name, specs, unit, round(price * 100))
              for code, name, specs, unit, price in _ITEMS)


def quote(rng: random.Random, target_cents: int, used: set[int]) -> list[Line]:
    """Order lines worth about ``target_cents``, priced exactly, whose total no other deal or
    order in the world has (so the closest-amount pairing never meets a tie)."""
    k = 1 if target_cents < 2_000_000 else rng.randint(1, 4)
    weights = [rng.random() + 0.2 for _ in range(k)]
    shares = [target_cents * w / sum(weights) for w in weights]
    lines: list[Line] = []
    for share in shares:
        chosen = {id(line.item) for line in lines}
        free = [i for i in ITEMS if id(i) not in chosen]
        cheapest = min(free, key=lambda i: i.price_cents)
        fits = [i for i in free if i.price_cents <= share] or [cheapest]
        item = rng.choice(fits)
        unit = round(item.price_cents * rng.uniform(0.85, 1.0))
        lines.append(Line(item, max(1, round(share / unit)), unit))
    while sum(line.cents for line in lines) in used:
        lines[0].quantity += 1
    used.add(sum(line.cents for line in lines))
    return lines


def log_uniform(rng: random.Random, lo: float, hi: float) -> int:
    """Cents drawn log-uniformly between ``lo`` and ``hi`` CNY (deal sizes are skewed)."""
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))) * 100)


def inventory_records(rng: random.Random, clock: Clock) -> tuple[list[dict], list[dict]]:
    """U8 ``inventory`` and ``currentstock`` lists."""
    inventory, stock = [], []
    for item in ITEMS:
        modified = clock.work_time(rng, clock.day_between(rng, clock.start, clock.today))
        inventory.append({"code": item.code, "name": item.name, "specs": item.specs,
                          "sort_code": item.code[:2], "sort_name": SERIES[item.code[:2]],
                          "unit": item.unit,
                          "ModifyDate": time_text(modified)})
        for wh in WAREHOUSES:
            if wh == "02" and rng.random() < 0.6:
                continue
            qty = rng.randint(0, 400)
            # U8 OpenAPI currentstock field names (whcode/invcode/qty), as the U8 simulator keys them.
            stock.append({"whcode": wh, "invcode": item.code, "qty": qty,
                          "available_qty": max(0, qty - rng.randint(0, 40))})
    return inventory, stock

