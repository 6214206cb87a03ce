"""The open items' rows of report.html, made in Python, are byte for byte what the template's
own per-cell row printed (same finalizing of control characters, same escaping)."""

from datetime import date, datetime, timedelta, timezone

import pytest
from jinja2 import Environment
from markupsafe import Markup

from quality.report.data import Item
from quality.report.html import _dt, _printable, item_row, yuan
from quality.report.i18n import LANGS, messages

# The row as report.html.j2 wrote it before rows were made in Python (the reference).
TEMPLATE_ROW = (
    '<tr class="{{ i.severity }}"><td class="sev">{{ m.word(\'severity\', i.severity) }}</td>'
    '<td title="{{ m.rule(i.rule) }}">{{ i.rule }}</td><td class="wrap">{{ i.customer_name or m(\'unmatched\') }}</td>'
    "<td>{{ i.owner or '-' }}</td><td>{{ i.manager or '-' }}</td><td>{{ i.region or '-' }}</td>"
    '<td class="num">{{ i.cents|yuan }}</td><td class="num">{{ i.age_days }}</td>'
    '<td class="{{ i.change }}">{{ m.word(\'change\', i.change) }}</td><td class="wrap">{{ i.deal or \'\' }}</td>'
    "<td>{{ m.word('stage', i.stage) }}</td><td>{{ i.close_date or '' }}</td><td><code>{{ i.documents }}</code></td>"
    "<td>{{ i.first_seen_local|dt }}</td></tr>")

CST = timezone(timedelta(hours=8))


def _reference():
    env = Environment(autoescape=True, finalize=_printable)
    env.filters["yuan"] = yuan
    env.filters["dt"] = _dt
    return env.from_string(TEMPLATE_ROW)


def _item(**over) -> Item:
    base = {"rule": "R5", "severity": "red", "customer_id": "C1", "customer_name": "华东<机械>&\"有限\"公司",
            "owner": "张三", "manager": "李四", "region": "华东大区", "cents": 123456789, "age_days": 12,
            "change": "new", "deal": "Deal 'x' <b>", "stage": "proposal", "close_date": date(2026, 11, 1),
            "documents": "SO001 DN002", "first_seen_local": datetime(2026, 11, 8, 9, 30, tzinfo=CST),
            "refs": ["u8:oughtreceivelist:R1"], "status": "open"}
    return Item(base | over)


ITEMS = [
    _item(),
    _item(customer_name=None, owner=None, manager=None, region=None, deal=None, stage=None, close_date=None,
          documents="", change="persisting", severity="yellow", rule="R99"),
    _item(customer_name="bad\x00\x07name\x1f", deal="tab\tand\nline", owner="<script>alert(1)</script>",
          documents="a&b", stage="unknown-stage", cents=-5, age_days=0),
    _item(customer_name=Markup("<i>already safe</i>"), severity="orange", change="reopened"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("n", range(len(ITEMS)))
def test_python_row_equals_the_template_row(lang, n):
    m = messages(lang)
    assert str(item_row(ITEMS[n], m)) == _reference().render(i=ITEMS[n], m=m)
