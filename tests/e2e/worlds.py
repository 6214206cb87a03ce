"""A hand-made world (not written by our generator) and its expected R1 findings."""

from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=CST)
UA = "91310000MA1FL4XK1Y"  # valid codes (GB 32100 check characters)
UC = "91330100MA27XQ5D78"


def ms(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp() * 1000)


def day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def opp(oid, account, amount, status, closed_days_ago, **extra):
    return {"_id": oid, "name": f"商机{oid}", "account_id": account, "owner": ["1001"], "amount": amount,
            "sales_stage": "5" if status == "2" else "3", "sales_status": status,
            "close_date": ms(closed_days_ago), "create_time": ms(60), "last_modified_time": ms(closed_days_ago),
            "life_status": "normal", "is_deleted": False, **extra}


def handmade_world() -> dict:
    return {
        "meta": {"name": "handmade", "seed": 0, "now": NOW.isoformat(), "currency": "CNY"},
        "crm": {
            "PersonnelObj": [{"_id": "1001", "name": "王芳", "mobile": "13800000001", "main_department": "华东大区",
                              "last_modified_time": ms(100)}],
            "AccountObj": [
                {"_id": "A1", "name": "上海恒远机电有限公司", "owner": ["1001"], "uscc__c": UA, "account_level": "A",
                 "last_modified_time": ms(90), "life_status": "normal", "is_deleted": False},
                {"_id": "A2", "name": "苏州百川贸易有限公司", "owner": ["1001"], "account_level": "B",
                 "last_modified_time": ms(90), "life_status": "normal", "is_deleted": False},
                {"_id": "A3", "name": "杭州云帆科技有限公司", "owner": ["1001"], "uscc__c": UC, "account_level": "S",
                 "last_modified_time": ms(90), "life_status": "normal", "is_deleted": False},
            ],
            "NewOpportunityObj": [
                opp("O1", "A1", 150000, "2", 10),  # paired with SO1
                opp("O2", "A2", 80000, "2", 5),  # no order left for it -> R1 orange
                opp("O3", "A3", 200000, "2", 20),  # its only order is too early -> R1 red
                opp("O4", "A3", 50000, "2", 1),  # won yesterday: not R1 yet
                opp("O5", "A1", 90000, "2", 30, is_deleted=True),  # deleted: ignored
                opp("O6", "A2", 10000, "1", 3),  # still in progress
                opp("O7", "A2", 30000, "2", 6),  # pairs with SO2 under a code-less U8 record
            ],
            "ContactObj": [], "SalesOrderObj": [], "ContractObj": [], "PaymentObj": [], "ActiveRecordObj": [],
        },
        "u8": {
            "person": [{"code": "P01", "name": "王芳", "mobile": "+86 138-0000-0001", "deptcode": "HD"}],
            "customer": [
                {"code": "U001", "name": "恒远机电（上海）有限公司", "taxno": UA, "spec_operator": "P01"},
                {"code": "U002", "name": "百川贸易", "taxno": "", "spec_operator": "P01"},
                {"code": "U003", "name": "杭州云帆科技", "taxno": UC, "spec_operator": "P01"},
            ],
            "saleorderlist": [
                {"code": "SO1", "date": day(8), "state": "Approved", "custcode": "U001", "personcode": "P01",
                 "money": "132743.36", "sum": "150000.00", "entry": []},
                {"code": "SO2", "date": day(6), "state": "Opening", "custcode": "U002", "personcode": "P01",
                 "money": 26548.67, "sum": 30000, "entry": []},
                {"code": "SO3", "date": day(40), "state": "Closed", "custcode": "U003", "personcode": "P01",
                 "money": 176991.15, "sum": 200000, "entry": []},
            ],
            "consignmentlist": [], "saleinvoicelist": [], "oughtreceivelist": [], "acceptlist": [],
            "inventory": [], "currentstock": [],
        },
        "finance": {"credit_rating": [
            {"customer_code": "U002", "uscc": "", "customer_name": "苏州百川贸易有限公司", "rating": "A",
             "previous_rating": "A", "credit_limit": 500000, "credit_days": 60, "rated_at": day(30)},
        ]},
        "wecom": {"follow_users": [{"userid": "wangfang", "name": "王芳", "mobile": "13800000001"}],
                  "external_contacts": [], "messages": []},
    }


EXPECTED_R1 = {
    "crm:NewOpportunityObj:O2": ("orange", "80000.00"),
    "crm:NewOpportunityObj:O3": ("red", "200000.00"),
}
