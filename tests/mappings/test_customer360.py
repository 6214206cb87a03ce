"""customer_360 against hand-computed figures, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from hub_core.schema import sync_run

# a build writes the candidate; the publish gate copies it into customer_360 (mappings/publish.py)
from hub_core.schema_publish import customer_360_candidate as customer_360
from hub_core.schema_unified import credit_rating, interaction
from mappings.build import build_customer360
from mappings.c360_config import load_c360
from tests.mappings.landing import land

T = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 2026-11-20 09:00 in Shanghai
USCC = "91310000MA1FL4XK1Y"


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def rating(day, now, before):
    return {"customer_code": "U1", "uscc": USCC, "customer_name": "上海恒远机电有限公司", "rating": now,
            "previous_rating": before, "credit_limit": 100000, "credit_days": 60, "rated_at": day}


def small_world(engine):
    land(engine, "crm", "PersonnelObj", ["_id"], [
        {"_id": "1", "name": "王芳", "mobile": "13800000001", "main_department": "华东大区", "leader_id": "2"},
        {"_id": "2", "name": "李强", "mobile": "13800000002", "main_department": "华东大区"}])
    land(engine, "wecom", "follow_users", ["userid"],
         [{"userid": "wangfang", "name": "王芳", "mobile": "138-0000-0001"}])
    land(engine, "u8", "person", ["code"], [{"code": "P01", "name": "王芳", "mobile": "13800000001"}])
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "上海恒远机电有限公司", "owner": ["1"], "uscc__c": USCC, "account_level": "A",
         "downstream_customers__c": 6}])
    land(engine, "u8", "customer", ["code"],
         [{"code": "U1", "name": "恒远机电（上海）", "taxno": USCC, "spec_operator": "P01"}])
    land(engine, "finance", "credit_rating", ["customer_code"], [rating("2026-05-01", "AA", "AA")], run_id=1)
    land(engine, "finance", "credit_rating", ["customer_code"], [rating("2026-10-01", "BBB", "AA")], run_id=2)
    land(engine, "crm", "NewOpportunityObj", ["_id"], [
        {"_id": "O1", "account_id": "A1", "amount": 5000, "sales_status": "1", "sales_stage": "3", "owner": ["1"]},
        {"_id": "O2", "account_id": "A1", "amount": 9000, "sales_status": "2", "sales_stage": "5",
         "close_date": ms(T - timedelta(days=20))},
        {"_id": "O3", "account_id": "A1", "amount": 7000, "sales_status": "1", "is_deleted": True}])
    land(engine, "u8", "saleorderlist", ["code"], [
        {"code": "SO1", "date": "2026-11-10", "custcode": "U1", "sum": "1,000.00", "personcode": "P01"},
        {"code": "SO2", "date": "2025-11-21", "custcode": "U1", "sum": 200.5},  # first day inside 365 days
        {"code": "SO3", "date": "2025-11-20", "custcode": "U1", "sum": 999},  # 365 days back: outside
        {"code": "SO4", "date": "2026-11-21", "custcode": "U1", "sum": 700}])  # after T: does not exist yet
    land(engine, "u8", "oughtreceivelist", ["code"], [
        {"code": "R1", "date": "2026-09-01", "custcode": "U1", "amount": 300, "balance": "300.00",
         "duedate": "2026-11-19"},
        {"code": "R2", "date": "2026-09-02", "custcode": "U1", "amount": 200, "balance": 200, "duedate": "2026-11-20"},
        {"code": "R3", "date": "2026-09-03", "custcode": "U1", "amount": 100, "balance": 0, "duedate": "2026-10-01"}])
    land(engine, "u8", "acceptlist", ["code"], [
        {"code": "K1", "date": "2026-11-01", "custcode": "U1", "amount": 100},
        {"code": "K2", "date": "2026-11-15", "custcode": "U1", "amount": 40},
        {"code": "K3", "date": "2026-11-15", "custcode": "U1", "amount": "2.50"},
        {"code": "K4", "date": "2026-11-25", "custcode": "U1", "amount": 999}])
    land(engine, "wecom", "external_contacts", ["external_userid", "userid"], [
        {"external_userid": "ext1", "userid": "wangfang",
         "external_contact": {"external_userid": "ext1", "name": "赵总", "corp_full_name": "上海恒远机电有限公司",
                              "position": "总经理"},
         "follow_info": {"userid": "wangfang", "createtime": 1760000000}}])
    land(engine, "wecom", "messages", ["msgid"], [
        {"msgid": "m1", "from": "ext1", "tolist": ["wangfang"], "msgtime": ms(T - timedelta(hours=2)),
         "msgtype": "text", "text": {"content": "交期能不能提前？"}},
        {"msgid": "m2", "from": "wangfang", "tolist": ["ext1"], "msgtime": ms(T - timedelta(minutes=90)),
         "msgtype": "text", "text": {"content": "好的，我去协调。"}},
        {"msgid": "m3", "from": "ext1", "tolist": ["wangfang"], "msgtime": ms(T - timedelta(days=40)),
         "msgtype": "text", "text": {"content": "你好"}},
        {"msgid": "m4", "from": "ext1", "tolist": ["wangfang"], "msgtime": ms(T + timedelta(hours=1)),
         "msgtype": "text", "text": {"content": "明天见"}}])  # after T
    land(engine, "crm", "ActiveRecordObj", ["_id"], [
        {"_id": "F1", "account_id": "A1", "owner": ["1"], "create_time": ms(T - timedelta(days=10)),
         "active_record_content": "客户询问技术参数"}])
    with engine.begin() as conn:
        conn.execute(insert(sync_run), [
            {"source": "crm", "started_at": T - timedelta(hours=5), "finished_at": T - timedelta(hours=4),
             "status": "succeeded"},
            {"source": "crm", "started_at": T - timedelta(hours=1), "finished_at": T - timedelta(minutes=50),
             "status": "failed"},
            {"source": "u8", "started_at": T - timedelta(hours=3), "finished_at": T - timedelta(hours=2),
             "status": "succeeded"}])


def c360_row(engine):
    with engine.connect() as conn:
        return conn.execute(select(customer_360)).one()


def test_customer_360_hand_computed(engine):
    small_world(engine)
    stats = build_customer360(engine, as_of=T)
    assert stats.customers == 1 and stats.customer_360 == 1 and stats.quarantined_total == 0
    r = c360_row(engine)
    assert (r.owner_name, r.manager_name, r.region, r.crm_level) == ("王芳", "李强", "华东大区", "A")
    assert (r.open_opportunities, r.open_opportunity_cents) == (1, 500000)
    assert r.last_order_day == date(2026, 11, 10)
    assert r.revenue_12m_cents == 100000 + 20050
    assert (r.receivable_outstanding_cents, r.receivable_overdue_cents) == (50000, 30000)
    assert (r.last_receipt_day, r.last_receipt_cents) == (date(2026, 11, 15), 4250)
    assert (r.credit_rating, r.previous_credit_rating, r.credit_rating_change) == ("BBB", "AA", -2)
    assert r.credit_rated_day == date(2026, 10, 1)
    last = r.last_contact_at.replace(tzinfo=r.last_contact_at.tzinfo or UTC)
    assert last == T - timedelta(minutes=90)
    assert r.interactions_30d == 3  # m1, m2 and the follow-up; m3 is 40 days old, m4 after T
    assert r.decision_maker_interactions_30d == 2  # both messages with the general manager
    assert r.tech_inquiries_90d == 1 and r.competitor_mentions_90d == 0 and r.document_events_30d == 0
    assert r.response_minutes == 30.0
    assert r.downstream_customers == 6
    # recency 20 x (1 - 1.5 h / 7 days) + documents 0 + decision makers 25 + competitor 10 + response 30
    assert r.health_score == round(20 * (1 - 1.5 / 24 / 7) + 25 + 10 + 30) == 85
    assert r.high_intent is True
    assert r.grade == "C"  # 1 200.50 CNY in 12 months, one technical inquiry
    crm_at = r.crm_synced_at.replace(tzinfo=r.crm_synced_at.tzinfo or UTC)
    assert crm_at == T - timedelta(hours=4)  # the later failed run does not count
    assert r.finance_synced_at is None
    assert 0 < r.completeness <= 1
    with engine.connect() as conn:
        history = conn.execute(select(credit_rating.c.rated_day, credit_rating.c.notch_change,
                                      credit_rating.c.is_current).order_by(credit_rating.c.rated_day)).all()
        directions = dict(conn.execute(select(interaction.c.ref, interaction.c.direction)).all())
    assert history == [(date(2026, 5, 1), 0, False), (date(2026, 10, 1), -2, True)]  # the downgrade stays visible
    assert directions["wecom:messages:m1"] == "in" and directions["wecom:messages:m2"] == "out"
    from hub_core.schema_unified import data_completeness

    with engine.connect() as conn:
        index = {(r.entity, r.system, r.owner_employee_id): (r.records, r.complete_records, r.completeness_index)
                 for r in conn.execute(select(data_completeness))}
    assert index[("receipt", "u8", "crm:1")] == (4, 4, 1.0)
    # no opportunity has 80 % of its 7 key fields: all lack a name, O1 a close day, O2 an owner, O3 more
    assert index[("opportunity", "crm", "crm:1")] == (3, 0, 0.0)


def test_grade_and_weights_are_configuration(engine):
    small_world(engine)
    cfg = load_c360()
    cfg.grade.rules[2].min = {"revenue_12m_cents": 120000}  # B from 1 200 CNY
    cfg.health.weights.response_speed = 0  # score re-normalises over the remaining weights
    build_customer360(engine, as_of=T, c360=cfg)
    r = c360_row(engine)
    assert r.grade == "B"
    assert r.health_score == round(100 * (20 * (1 - 1.5 / 24 / 7) + 25 + 10) / 70)


def test_as_of_moves_the_windows(engine):
    small_world(engine)
    build_customer360(engine, as_of=T + timedelta(days=10))
    r = c360_row(engine)
    assert r.last_receipt_day == date(2026, 11, 25)  # K4 now exists
    assert r.receivable_overdue_cents == 50000  # R2 fell due too
    assert r.revenue_12m_cents == 100000 + 70000  # SO2 left the window, SO4 entered it
    assert r.health_score < 85  # ten days without contact
