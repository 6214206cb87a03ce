"""Character-level misspellings of company names: traditional characters and one-key typos."""

from __future__ import annotations

import random

# Simplified -> traditional for the characters our names use (brands, industries, legal forms,
# places). Old ledgers, Hong Kong/Taiwan-educated clerks and some input methods write these.
_S2T_PAIRS = """
恒恆 达達 远遠 联聯 丰豐 荣榮 华華 伟偉 业業 汇匯 鼎鼎 万萬 德德 润潤 顺順 兴興 宝寶 众眾 锦錦 启啓
致致 凯凱 东東 创創 昌昌 腾騰 诚誠 泰泰 长長 宇宇 冠冠 康康 圣聖 英英 鸿鴻 诺諾 汉漢 弘弘 乾乾
浩浩 领領 聚聚 盈盈 驰馳 迅迅 益益 兆兆 亿億 骏駿 龙龍 隆隆 赛賽 威威 晟晟 瀚瀚 融融 君君 美美
鹏鵬 皓皓 铭銘 恩恩 航航 銮鑾 旭旭 锋鋒 越越 朗朗 景景 欧歐 邦邦 纳納 元元 盛盛 源源 祥祥 程程
桥橋 智智 运運 图圖 胜勝 锐銳 峰峰 辉輝 鑫鑫 辰辰 伦倫 捷捷 嘉嘉 豪豪 誉譽 拓拓 维維 尔爾 洋洋
奥奧 乐樂 麒麒 毅毅 泽澤 尚尚 坤坤 星星 光光 途途 晖暉 煌煌 佳佳 迪迪 耀耀 信信 通通 金金 宏宏
建建 材材 机機 电電 医醫 疗療 器器 械械 贸貿 易易 技技 电電 化化 物物 流流 食食 品品 包包 装裝
环環 保保 新新 动動 设設 备備 智智 能能 五五 气氣 药藥 源源 工工 程程 术術 实實 仪儀 表錶 缆纜
塑塑 胶膠 涂塗 料料 照照 明明 汽汽 车車 零零 部部 件件 供供 应應 链鏈 管管 理理 息息 筑築 饰飾
制製 冷冷 水水 处處 钢鋼 结結 构構 责責 任任 团團 股股 份份 有有 限限 公公 司司 广廣 州州 深深
圳圳 苏蘇 杭杭 沪滬 宁寧 庆慶 阳陽 门門 连連 济濟 郑鄭 汕汕 头頭 东東 莞莞 温溫 绵綿 贵貴
""".split()
S2T = {pair[0]: pair[1] for pair in _S2T_PAIRS if pair[0] != pair[1]}

# Characters people mistype for one another (same pinyin or a near-miss on the keyboard).
_CONFUSABLE = """
恒衡 鑫新 达大 通同 远源 泰太 信新 瑞锐 盛胜 华化 丰风 兴星 宏弘 昌长 源元 德得 诚城 利力 祥翔
海每 天添 博搏 嘉佳 荣容 汇会 鼎顶 万方 联连 润闰 富福 永泳 顺顺 裕玉 安按 宝保 众重 卓桌 锦金
星兴 启起 致志 凯楷 东冬 合和 明名 睿锐 智志 创闯 百柏 千迁 腾藤 泽择 康慷 圣胜 英鹰 科可 精晶
鸿洪 诺若 汉旱 方芳 坤昆 乾前 浩皓 晨辰 领岭 聚巨 盈赢 驰池 迅讯 久九 益亿 兆照 亿忆 骏俊 龙隆
赛塞 威伟 晟圣 瀚翰 融荣 君军 美每 雅亚 昊浩 鹏朋 铭明 恩思 航杭 旭序 锋峰 越悦 朗郎 景井 邦帮
材才 电店 技枝 贸茂 械戒 物务 流留 品晶 装庄 设没 备倍 能熊 药约 程呈 仪义 缆览 胶交 涂途 照召
""".split()
CONFUSABLE = {pair[0]: pair[1] for pair in _CONFUSABLE if pair[0] != pair[1]}


def traditional(text: str) -> str:
    """``text`` with every mapped simplified character in its traditional form."""
    return "".join(S2T.get(ch, ch) for ch in text)


def typo_core(rng: random.Random, core: str) -> str | None:
    """``core`` with one character swapped for a look-alike, or None when none can be."""
    spots = [i for i, ch in enumerate(core) if ch in CONFUSABLE]
    if not spots:
        return None
    i = rng.choice(spots)
    return core[:i] + CONFUSABLE[core[i]] + core[i + 1:]
