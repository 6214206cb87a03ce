"""A company-name pool that cannot run out: brand syllables x industry, unique per world.

Brands are composed from a head and a tail syllable (恒 + 通 = 恒通), about 9,000 of them, times
36 industries: some 300,000 distinct cores (brand + industry, the comparison key every spelling
reduces to). When a world has used most of that, brands grow a third syllable, which multiplies
the space again, so any number of customers gets distinct names. Draws are deterministic per
random stream.
"""

from __future__ import annotations

import random

from .names import ALL_PLACES, INDUSTRIES

_HEADS = tuple(dict.fromkeys("""
恒 鑫 宏 金 中 信 瑞 盛 博 天 嘉 海 新 荣 华 伟 汇 鼎 万 联 德 和 正 富 永 顺 裕 兴 安 利 祥 宝 众 卓
锦 星 蓝 启 致 凯 东 合 同 明 睿 智 创 百 千 昌 腾 诚 润 泰 福 佳 立 宇 冠 友 康 圣 英 科 精 通 鸿 诺
汉 弘 方 坤 乾 浩 晨 领 聚 盈 沃 驰 迅 久 益 丰 兆 亿 骏 龙 隆 赛 威 远 达 晟 瀚 融 君 美 雅 昊 泓
沣 璟 峻 鹏 皓 铭 恩 航 志 鼎 华 銮 展 旭 锋 腾 越 朗 景 欧 邦
""".split()))
_TAILS = tuple(dict.fromkeys("""
通 达 远 泰 联 信 丰 世 成 禾 纳 元 盛 业 昌 和 源 华 顺 兴 安 利 祥 诚 越 程 海 天 桥 雅 明 德 智 创
川 象 腾 润 瑞 宇 鹰 力 康 运 图 胜 威 锐 航 峰 辉 鑫 辰 晟 科 伦 凯 邦 捷 嘉 豪 隆 盈 誉 拓 维 特 尔
洋 奥 美 乐 欣 麒 骏 弘 毅 正 鼎 泽 尚 合 同 坤 乾 星 光 途 锦 达 久 晖 煌 佳 驰 迪 耀
""".split()))
_TWO_SYLLABLE_SHARE = 0.6  # beyond this share of the two-syllable space, brands get longer


_PLACE_HEADS = frozenset(p[:n] for p in ALL_PLACES for n in range(1, len(p) + 1))


def _clean(brand: str) -> bool:
    """A brand a place-stripping name key would not cut (e.g. none starting with 中山): no
    place starts it, and it is not the start of a place."""
    return brand not in _PLACE_HEADS and not any(
        brand[:n] in ALL_PLACES for n in range(2, len(brand) + 1))


class NamePool:
    """Hands out ``(brand, industry)`` pairs whose cores no other company in the world has."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.taken: set[str] = set()  # cores in use, including deliberate look-alikes
        self._two = len(_HEADS) * len(_TAILS) * len(INDUSTRIES)

    def draw(self) -> tuple[str, str]:
        """A fresh (brand, industry)."""
        rng = self._rng
        syllables = 2 if len(self.taken) < self._two * _TWO_SYLLABLE_SHARE else 3
        while True:
            brand = rng.choice(_HEADS) + "".join(rng.choice(_TAILS) for _ in range(syllables - 1))
            if len(set(brand)) < len(brand) or not _clean(brand):
                continue
            industry = rng.choice(INDUSTRIES)
            if self.claim(brand + industry):
                return brand, industry

    def claim(self, core: str) -> bool:
        """Reserve ``core`` (False when some company already has it)."""
        if core in self.taken:
            return False
        self.taken.add(core)
        return True
