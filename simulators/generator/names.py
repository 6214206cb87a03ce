"""Names: places, company names with their real-world spellings, people with pinyin ids."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Sales regions and the provinces each covers; cities carry the first 4 digits of their
# administrative area code (chars 3-6 of a credit code). Municipalities have no city ("").
REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("华南大区", ("广东", "广西", "福建", "海南")),
    ("华东大区", ("上海", "江苏", "浙江", "安徽", "山东")),
    ("华北大区", ("北京", "天津", "河北", "山西", "辽宁")),
    ("华中大区", ("湖北", "湖南", "河南", "江西")),
    ("西南大区", ("四川", "重庆", "云南", "贵州")),
)
LOCATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "广东": (("广州", "4401"), ("深圳", "4403"), ("佛山", "4406"), ("东莞", "4419"),
             ("珠海", "4404"), ("中山", "4420"), ("惠州", "4413"), ("汕头", "4405")),
    "广西": (("南宁", "4501"), ("柳州", "4502"), ("桂林", "4503")),
    "福建": (("福州", "3501"), ("厦门", "3502"), ("泉州", "3505")),
    "海南": (("海口", "4601"),),
    "上海": (("", "3101"),),
    "江苏": (("南京", "3201"), ("无锡", "3202"), ("常州", "3204"), ("苏州", "3205"),
             ("南通", "3206")),
    "浙江": (("杭州", "3301"), ("宁波", "3302"), ("温州", "3303"), ("嘉兴", "3304"),
             ("金华", "3307"), ("台州", "3310")),
    "安徽": (("合肥", "3401"), ("芜湖", "3402")),
    "山东": (("济南", "3701"), ("青岛", "3702"), ("烟台", "3706"), ("潍坊", "3707")),
    "北京": (("", "1101"),),
    "天津": (("", "1201"),),
    "河北": (("石家庄", "1301"), ("唐山", "1302"), ("保定", "1306")),
    "山西": (("太原", "1401"),),
    "辽宁": (("沈阳", "2101"), ("大连", "2102")),
    "湖北": (("武汉", "4201"), ("宜昌", "4205")),
    "湖南": (("长沙", "4301"), ("株洲", "4302")),
    "河南": (("郑州", "4101"), ("洛阳", "4103")),
    "江西": (("南昌", "3601"),),
    "四川": (("成都", "5101"), ("绵阳", "5107")),
    "重庆": (("", "5001"),),
    "云南": (("昆明", "5301"),),
    "贵州": (("贵阳", "5201"),),
}
# Landline area codes (长途区号) by city, or by province for a municipality.
DIAL_CODES = {
    "广州": "020", "深圳": "0755", "佛山": "0757", "东莞": "0769", "珠海": "0756", "中山": "0760",
    "惠州": "0752", "汕头": "0754", "南宁": "0771", "柳州": "0772", "桂林": "0773", "福州": "0591",
    "厦门": "0592", "泉州": "0595", "海口": "0898", "上海": "021", "南京": "025", "无锡": "0510",
    "常州": "0519", "苏州": "0512", "南通": "0513", "杭州": "0571", "宁波": "0574", "温州": "0577",
    "嘉兴": "0573", "金华": "0579", "台州": "0576", "合肥": "0551", "芜湖": "0553", "济南": "0531",
    "青岛": "0532", "烟台": "0535", "潍坊": "0536", "北京": "010", "天津": "022", "石家庄": "0311",
    "唐山": "0315", "保定": "0312", "太原": "0351", "沈阳": "024", "大连": "0411", "武汉": "027",
    "宜昌": "0717", "长沙": "0731", "株洲": "0731", "郑州": "0371", "洛阳": "0379", "南昌": "0791",
    "成都": "028", "绵阳": "0816", "重庆": "023", "昆明": "0871", "贵阳": "0851",
}
PROVINCE_LONG = {"广西": "广西壮族自治区", "上海": "上海市", "北京": "北京市", "天津": "天津市",
                 "重庆": "重庆市"}

# Every province and prefecture-level place (short forms). Only used to keep brand names from
# starting with a place, which a name key would strip and so merge two different companies.
ALL_PLACES = frozenset("""
北京 天津 上海 重庆 河北 山西 内蒙古 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南
广东 广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门 台湾
石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 太原 大同 阳泉 长治 晋城 朔州 晋中
运城 忻州 临汾 吕梁 呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 兴安 锡林郭勒
阿拉善 沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛 长春 四平 辽源
通化 白山 松原 白城 延边 哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化
大兴安岭 南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 杭州 宁波 温州 嘉兴
湖州 绍兴 金华 衢州 舟山 台州 丽水 合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州
六安 亳州 池州 宣城 福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 南昌 景德镇 萍乡 九江 新余 鹰潭
赣州 吉安 宜春 抚州 上饶 济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城
滨州 菏泽 郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口
驻马店 济源 武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施 仙桃 潜江 天门 神农架
长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西 广州 韶关 深圳 珠海 汕头
佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮 南宁 柳州 桂林
梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左 海口 三亚 三沙 儋州 成都 自贡 攀枝花
泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 阿坝 甘孜 凉山 贵阳
六盘水 遵义 安顺 毕节 铜仁 黔西南 黔东南 黔南 昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 红河
文山 西双版纳 大理 德宏 怒江 迪庆 拉萨 日喀则 昌都 林芝 山南 那曲 阿里 西安 铜川 宝鸡 咸阳 渭南
延安 汉中 榆林 安康 商洛 兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏 甘南
西宁 海东 海北 黄南 果洛 玉树 海西 银川 石嘴山 吴忠 固原 中卫 乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉
博尔塔拉 巴音郭楞 阿克苏 克孜勒苏 喀什 和田 伊犁 塔城 阿勒泰 石河子
""".split())

INDUSTRIES: tuple[str, ...] = tuple("""
建材 机电 医疗器械 贸易 科技 电子 化工 物流 食品 包装材料 环保科技 新材料 自动化设备 智能装备 五金 电气
医药 能源 工程技术 实业 机械 仪器仪表 电缆 塑胶 涂料 照明 汽车零部件 供应链管理 信息技术 建筑工程
装饰工程 制冷设备 水处理 钢结构
""".split())
SUFFIXES: tuple[tuple[str, int], ...] = (
    ("有限公司", 50), ("有限责任公司", 18), ("股份有限公司", 12), ("集团有限公司", 8),
    ("集团股份有限公司", 2),
)
_SPACES = (" ", "  ", "\u3000")


def pick_weighted(rng: random.Random, pairs):
    """One value of ``(value, weight)`` pairs."""
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


@dataclass(frozen=True)
class CompanyName:
    """A company's registered name and the ways people spell it.

    ``core`` (brand + industry, e.g. 恒通建材) is the comparison key every spelling reduces to,
    and is unique per company. ``style`` says how the legal name shows the place: not at all
    ("plain"), as a leading city or province, or as a bracketed city after the core.
    """

    brand: str
    industry: str
    suffix: str
    province: str
    city: str  # "" for a municipality
    style: str
    keep_place: bool = False  # another company has the same core elsewhere: never drop the place

    @property
    def core(self) -> str:
        return self.brand + self.industry

    @property
    def place(self) -> str:
        if self.style == "province" or not self.city:
            return self.province
        return self.city

    @property
    def long_place(self) -> str:
        if self.place == self.province:
            return PROVINCE_LONG.get(self.province, self.province + "省")
        return self.place + "市"

    @property
    def legal(self) -> str:
        if self.style == "plain":
            return self.core + self.suffix
        if self.style == "bracket":
            return f"{self.core}（{self.place}）{self.suffix}"
        return self.place + self.core + self.suffix

    @property
    def short(self) -> str:
        """An abbreviation as used in U8 ``abbrname`` and WeCom ``corp_name``."""
        return self.core

    def variant(self, rng: random.Random) -> str:
        """Another spelling of the same company: same key, never another explicit place."""
        head = "" if self.style in ("plain", "bracket") and not self.keep_place else self.place
        options = [self.place + self.core if self.style != "bracket"
                   else f"{self.core}（{self.place}）"]  # without the legal suffix
        if self.keep_place:
            pass  # its place is what tells it from its namesake in another city
        elif self.style != "plain":
            options.append(self.core + self.suffix)  # without the place
        else:
            options.append(self.place + self.core + self.suffix)  # with its city added
        if self.style in ("city", "province"):
            options.append(self.long_place + self.core + self.suffix)  # 广州市… / 广东省…
        open_, close = rng.choice((("（", "）"), ("(", ")")))
        if self.style == "bracket":
            options.append(f"{self.core}({self.place}){self.suffix}")  # half-width brackets
        else:
            options.append(f"{self.core}{open_}{self.place}{close}{self.suffix}")
        if self.suffix.startswith("集团") and len(self.suffix) > 2:
            options.append(f"{head}{self.core}{open_}集团{close}{self.suffix[2:]}")
        if self.suffix in ("有限公司", "有限责任公司"):
            other = "有限责任公司" if self.suffix == "有限公司" else "有限公司"
            options.append(self.legal[: -len(self.suffix)] + other)
        name = rng.choice(options)
        if rng.random() < 0.15:  # stray whitespace around a copied name
            name = rng.choice(_SPACES) + name if rng.random() < 0.5 else name + rng.choice(_SPACES)
        return name

    def with_suffix(self, suffix: str) -> str:
        """The legal name under another legal form (股份公司 for 股份有限公司, ...)."""
        return self.legal[: -len(self.suffix)] + suffix

    def prefixed(self, rng: random.Random) -> str:
        """Province and city both in front: 广东省广州市恒通建材有限公司 / 广东广州恒通建材有限公司."""
        city = self.city or self.province
        province = PROVINCE_LONG.get(self.province, self.province + "省")
        if rng.random() < 0.5:
            return f"{province}{city}市{self.core}{self.suffix}"
        return f"{self.province}{city}{self.core}{self.suffix}"

    def spelling(self, rng: random.Random, legal_share: float) -> str:
        """The legal name with probability ``legal_share`` (now and then only cosmetically
        different: stray whitespace, half-width brackets, equal after NFKC and trimming),
        else a variant."""
        if rng.random() >= legal_share:
            return self.variant(rng)
        if rng.random() >= 0.12:
            return self.legal
        if "（" in self.legal and rng.random() < 0.5:
            return self.legal.replace("（", "(").replace("）", ")")
        return rng.choice(_SPACES) + self.legal if rng.random() < 0.5 else self.legal + " "


@dataclass(frozen=True)
class BranchName:
    """A branch (分公司) or office (办事处) of another company: its own legal person for
    matching purposes, never its parent. Spelled after the parent's legal name."""

    parent: CompanyName
    province: str
    city: str
    label: str  # 分公司 | 办事处
    keep_place: bool = True
    style: str = "branch"

    @property
    def brand(self) -> str:
        return self.parent.brand

    @property
    def industry(self) -> str:
        return self.parent.industry

    @property
    def suffix(self) -> str:
        return self.label

    @property
    def place(self) -> str:
        return self.city or self.province

    @property
    def core(self) -> str:
        return f"{self.parent.core}{self.place}{self.label}"

    @property
    def legal(self) -> str:
        return f"{self.parent.legal}{self.place}{self.label}"

    @property
    def short(self) -> str:
        return f"{self.parent.brand}{self.place}{self.label}"

    def variant(self, rng: random.Random) -> str:
        options = (self.core, f"{self.parent.legal}（{self.place}{self.label}）",
                   f"{self.parent.legal}-{self.place}{self.label}")
        return rng.choice(options)

    def spelling(self, rng: random.Random, legal_share: float) -> str:
        return self.legal if rng.random() < legal_share else self.variant(rng)

    def with_suffix(self, suffix: str) -> str:
        return self.legal

    def prefixed(self, rng: random.Random) -> str:
        return self.legal


# People: surname and given-name characters with their pinyin (WeCom user ids are pinyin).
_SURNAMES = (
    "王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma 朱zhu 胡hu "
    "郭guo 何he 林lin 高gao 罗luo 郑zheng 梁liang 谢xie 宋song 唐tang 韩han 冯feng 邓deng 曹cao "
    "彭peng 曾zeng 肖xiao 田tian 董dong 潘pan 袁yuan 蔡cai 蒋jiang 余yu 杜du 叶ye 程cheng 魏wei "
    "苏su 吕lv 丁ding 任ren 卢lu 姚yao 沈shen 钟zhong 崔cui 谭tan 陆lu 范fan 汪wang 廖liao 石shi "
    "金jin 贾jia 夏xia 方fang 邹zou 熊xiong 白bai 孟meng 秦qin 邱qiu 侯hou 江jiang 尹yin 薛xue "
    "段duan 雷lei 龙long 黎li 史shi 陶tao 贺he 毛mao 郝hao 顾gu 龚gong 邵shao 万wan 武wu 钱qian "
    "戴dai 严yan 孔kong 向xiang 常chang"
).split()
_GIVEN = (
    "伟wei 芳fang 娜na 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang 勇yong 艳yan 杰jie 娟juan "
    "涛tao 明ming 超chao 秀xiu 霞xia 平ping 刚gang 英ying 华hua 建jian 国guo 文wen 辉hui 玲ling "
    "宇yu 浩hao 凯kai 鹏peng 晨chen 欣xin 婷ting 博bo 宁ning 志zhi 海hai 峰feng 斌bin 亮liang "
    "雪xue 琳lin 晓xiao 红hong 波bo 健jian 慧hui 俊jun 旭xu 阳yang 楠nan 佳jia 倩qian 萍ping "
    "立li 成cheng 东dong 飞fei 云yun 丹dan 嘉jia 悦yue 思si 雨yu 子zi 瑞rui 鑫xin 晶jing 蕾lei"
).split()


def _split(entry: str) -> tuple[str, str]:
    return entry[0], entry[1:]


def person_name(rng: random.Random) -> tuple[str, str]:
    """A Chinese personal name and its pinyin (e.g. 张伟, zhangwei)."""
    surname, s_py = _split(rng.choice(_SURNAMES))
    given = [_split(rng.choice(_GIVEN)) for _ in range(1 if rng.random() < 0.35 else 2)]
    return surname + "".join(g[0] for g in given), s_py + "".join(g[1] for g in given)


JOB_TITLES = (
    ("采购经理", 5), ("采购主管", 3), ("采购专员", 3), ("总经理", 2), ("副总经理", 2),
    ("技术总监", 2), ("设备部经理", 2), ("项目经理", 3), ("财务经理", 1), ("工程部经理", 2),
    ("采购总监", 2), ("董事长", 1), ("技术工程师", 2), ("仓库主管", 1),
)
# Titles that sign off purchases (the health score's "decision makers").
DECISION_MAKERS = frozenset(("总经理", "副总经理", "采购总监", "董事长", "技术总监"))
ROADS = ("人民", "建设", "解放", "中山", "长江", "黄河", "科技", "创业", "工业", "兴业", "振兴",
         "滨江", "湖滨", "金桥", "光明", "新华", "高新", "学府", "东风", "和平")
