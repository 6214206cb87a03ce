"""Interaction records: CRM contacts and follow-ups, WeCom external contacts and messages."""

from __future__ import annotations

import random
import string
from datetime import timedelta

from .clock import DAY_MS, Clock, day_of
from .codes import Ids, format_mobile
from .companies import Company, Contact
from .deals import LOST, OPEN, WON, Deal

_FOLLOW_UPS = (
    "电话沟通{contact}，确认{item}采购需求，约下周上门拜访。",
    "拜访{contact}，现场查看设备使用情况，客户关注交期和售后响应。",
    "向{contact}发送{item}报价单，等待客户内部审批。",
    "与{contact}商务谈判，客户希望价格再优惠3个点，已申请特价。",
    "{contact}反馈技术方案已通过评审，进入商务阶段。",
    "微信跟进{contact}，客户本月预算紧张，下月再议。",
    "陪同技术工程师拜访{contact}，演示{item}样机，客户比较满意。",
    "{contact}来电询问{item}的到货时间，已协调仓库确认。",
    "参加客户招标答疑会，{contact}提出需补充资质文件。",
    "技术咨询：{contact}询问{item}的技术参数和安装要求，已安排工程师回复。",
    "{contact}反馈竞品报价比我们低8%，需要申请价格支持。",
    "客户同时在比价竞争对手的{item}，{contact}倾向我们的售后服务。",
    "{contact}索要{item}的检测报告和型号规格书，已发邮箱。",
)
_WON_NOTES = ("合同已签订，通知仓库备货，{contact}确认收货地址。",
              "客户已盖章回传合同，安排下单发货。")
_LOST_NOTES = ("客户选择了竞争对手，项目丢单，{contact}表示价格差距较大。",
               "项目取消，{contact}称今年不再采购。")
_REP_LINES = (
    "{contact}您好，{item}的报价已经发到您邮箱了，麻烦查收。",
    "{contact}，上次说的技术参数我整理好了，您看什么时候方便过一下？",
    "您好，货已经安排发出，物流单号稍后发您。",
    "{contact}，这周四下午我过去拜访您，方便吗？",
    "合同我这边已经盖章寄出了，请注意查收。",
    "本月有一批{item}的促销政策，您这边有需要可以提前锁定。",
    "{contact}，{item}的技术参数表和检测报告我发您邮箱了。",
    "关于竞品的价格，我们这边可以再申请一下支持，您看方便约个时间吗？",
)
_CUSTOMER_LINES = (
    "收到，我看一下。", "价格还能再优惠点吗？", "好的，周四下午可以。",
    "我们内部还在走审批流程，有结果通知你。", "交期能不能再提前一周？",
    "发票什么时候能开过来？财务在催。", "好的，谢谢。", "方案领导看过了，问题不大。",
    "想技术咨询一下，这个型号的参数能满足我们的工况吗？", "能不能先寄个样品过来测试？",
    "另外一家竞品报价便宜不少，你们还能让点吗？", "总经理想看一下你们的合同条款。",
)
_ID_CHARS = string.ascii_letters + string.digits


def contact_records(rng: random.Random, clock: Clock, ids: Ids,
                    companies: list[Company]) -> list[dict]:
    """ContactObj: each CRM company's contacts, on its main account."""
    records = []
    for c in companies:
        if not c.in_crm:
            continue
        for p in c.contacts:
            p.crm_id = ids.object_id(p.created_ms)
            rec = {"_id": p.crm_id, "name": p.name, "account_id": c.accounts[0]["_id"],
                   "owner": [c.rep.crm_id], "mobile": p.mobile, "job_title": p.title}
            if rng.random() < 0.4:
                rec["email"] = f"{p.mobile[-6:]}@{rng.choice(('qq.com', '163.com', '126.com'))}"
            rec.update(record_type="default__c", create_time=p.created_ms,
                       last_modified_time=p.created_ms, life_status="normal", is_deleted=False)
            records.append(rec)
    return records


def follow_up_records(rng: random.Random, clock: Clock, ids: Ids, deals: list[Deal],
                      companies: list[Company], sink: list | None = None) -> list:
    """ActiveRecordObj: the reps' notes on their deals and accounts, into ``sink`` in ``_id``
    order (kept as compact tuples until then: a big world has millions)."""
    records: list[tuple[str, str, str, int, str]] = []
    quiet = {c.idx: c.quiet_ms for c in companies if c.quiet_ms is not None}

    def note(account: dict, owner_id: str, ms: int, text: str, c: Company | None = None) -> None:
        if c is not None and ms > quiet.get(c.idx, ms):
            return  # a planted rule case: this company went quiet
        records.append((ids.object_id(ms), account["_id"], owner_id, ms, text))

    for d in deals:
        if d.is_deleted or d.life_status == "invalid":
            continue
        end = min(d.close_ms if d.status != OPEN else clock.now_ms, clock.now_ms)
        n = rng.randint(0, 2) if d.status == LOST else rng.randint(1, 4)
        for _ in range(n):
            ms = rng.randint(d.created_ms, max(d.created_ms, end))
            text = rng.choice(_FOLLOW_UPS)
            note(d.account, d.owner.crm_id, ms, _fill(rng, text, d.company, d), d.company)
        if d.status in (WON, LOST) and d.close_ms <= clock.now_ms:
            closing = _WON_NOTES if d.status == WON else _LOST_NOTES
            ms = min(d.stage_ms, clock.now_ms - 60_000)
            note(d.account, d.owner.crm_id, ms, _fill(rng, rng.choice(closing), d.company, d),
                 d.company)
    for c in companies:
        for account in c.accounts:
            for _ in range(rng.randint(0, 2)):
                ms = rng.randint(account["create_time"], clock.now_ms - 60_000)
                note(account, c.rep.crm_id, ms, _fill(rng, rng.choice(_FOLLOW_UPS), c, None), c)
        for ms, kind in c.extra_activity:
            if kind == "note":
                note(c.accounts[0], c.rep.crm_id, ms, _fill(rng, rng.choice(_FOLLOW_UPS), c, None))
    records.sort()
    sink = [] if sink is None else sink
    for id_, account_id, owner_id, ms, text in records:
        sink.append({"_id": id_, "account_id": account_id, "owner": [owner_id], "create_time": ms,
                     "last_modified_time": ms, "active_record_content": text,
                     "life_status": "normal", "is_deleted": False})
    return sink


def _fill(rng: random.Random, text: str, c: Company, d: Deal | None) -> str:
    contact = rng.choice(c.contacts).name if c.contacts else "客户"
    item = (d.lines[0].item.name if d else rng.choice(("设备", "配件", "耗材")))
    return text.format(contact=_polite(contact), item=item)


def _polite(name: str) -> str:
    """How a rep addresses a contact: surname + 总/经理/工."""
    return name[0] + ("总" if len(name) == 2 else "经理")


def wecom_records(rng: random.Random, clock: Clock, ids: Ids, companies: list[Company],
                  share: float, sink: list | None = None) -> tuple[list[dict], list]:
    """External contacts the reps added on WeCom, and their archived chats (into ``sink``,
    numbered by ``seq`` in time order)."""
    contacts, messages = [], []
    for c in companies:
        if not c.in_crm:
            continue
        planted = [(ms, kind) for ms, kind in c.extra_activity if kind != "note"]
        for p in c.contacts:
            if rng.random() >= share and not (planted and p is c.contacts[0]):
                continue
            external, added_ms = _external_contact(rng, clock, ids, c, p)
            contacts.append(external)
            p.external_userid = userid = external["external_contact"]["external_userid"]
            chats = _chats(rng, clock, c, p, userid, added_ms)
            if c.quiet_ms is not None:  # a planted rule case: this company went quiet
                chats = [m for m in chats if m[0] <= c.quiet_ms]
            messages += chats
            if p is c.contacts[0]:
                for ms, kind in planted:
                    ends = (c.rep.userid, userid) if kind == "msg_out" else (userid, c.rep.userid)
                    text = rng.choice(_REP_LINES if kind == "msg_out" else _CUSTOMER_LINES)
                    text = text.format(contact=_polite(p.name), item="产品")
                    messages.append((ms, f"{rng.getrandbits(63)}_{ms}_external", *ends, text))
    messages.sort()
    sink = [] if sink is None else sink
    for seq, (t, msgid, sender, receiver, text) in enumerate(messages, 1):
        sink.append({"msgid": msgid, "seq": seq, "action": "send", "from": sender,
                     "tolist": [receiver], "msgtime": t, "msgtype": "text",
                     "text": {"content": text}})
    contacts.sort(key=lambda x: (x["follow_info"]["userid"],
                                 x["external_contact"]["external_userid"]))
    return contacts, sink


def _external_contact(rng: random.Random, clock: Clock, ids: Ids, c: Company,
                      p: Contact) -> tuple[dict, int]:
    added_ms = min(p.created_ms + rng.randint(0, 30) * DAY_MS, clock.now_ms - 3_600_000)
    userid = ids.token("wm", 30, _ID_CHARS)
    wechat_user = rng.random() < 0.2  # a personal WeChat: no corp fields, only the remark
    ext = {"external_userid": userid, "name": p.name, "type": 1 if wechat_user else 2}
    if not wechat_user:
        ext.update(corp_name=c.name.short, corp_full_name=c.name.spelling(rng, 0.8),
                   position=p.title)
    follow = {"userid": c.rep.userid, "remark": p.name, "description": "",
              "createtime": added_ms // 1000, "tag_id": []}
    if wechat_user or rng.random() < 0.4:
        follow["remark_corp_name"] = c.name.spelling(rng, 0.3)
    follow.update(remark_mobiles=[format_mobile(rng, p.mobile, 0.8)],
                  add_way=rng.choice((1, 2, 3, 3, 16)))
    return {"external_contact": ext, "follow_info": follow}, added_ms


def _chats(rng: random.Random, clock: Clock, c: Company, p: Contact, external_userid: str,
           added_ms: int) -> list[tuple]:
    """A few short conversations, denser in the last two months, as compact tuples
    ``(msgtime, msgid, from, to, text)``."""
    messages = []
    added = day_of(added_ms)
    for _ in range(rng.randint(0, 6)):
        recent = max(added, clock.today - timedelta(days=60))
        day = clock.day_between(rng, recent if rng.random() < 0.55 else added, clock.today)
        t = max(clock.work_time(rng, day), added_ms + 60_000)
        rep_speaks = rng.random() < 0.7
        for _ in range(rng.randint(2, 5)):
            if t >= clock.now_ms:
                break
            sender, receiver = ((c.rep.userid, external_userid) if rep_speaks
                                else (external_userid, c.rep.userid))
            lines = _REP_LINES if rep_speaks else _CUSTOMER_LINES
            text = rng.choice(lines).format(contact=_polite(p.name), item=rng.choice(
                ("设备", "配件", "产品")))
            messages.append((t, f"{rng.getrandbits(63)}_{t}_external", sender, receiver, text))
            t += rng.randint(30, 20 * 60) * 1000
            rep_speaks = not rep_speaks
    return messages
