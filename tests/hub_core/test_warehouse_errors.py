"""Database errors are one short line: no statement text, no parameters, no key values."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from hub_core.schema import raw_stream
from hub_core.warehouse import WarehouseError, describe_db_error, open_warehouse


def test_a_failing_statement_never_echoes_its_parameters(warehouse_url):
    engine = open_warehouse(warehouse_url)
    row = {"source": "crm", "stream": "AccountObj", "key_properties": "[]", "json_schema": "PRIVATE-DATA-42" * 50,
           "updated_at": datetime(2026, 11, 20, tzinfo=UTC)}
    with engine.begin() as conn:
        conn.execute(insert(raw_stream), row)
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(raw_stream), row)
    assert "PRIVATE-DATA-42" not in str(caught.value)  # hide_parameters on the engine
    line = describe_db_error(caught.value)
    assert line.startswith(("IntegrityError", "UniqueViolation")) and "\n" not in line
    assert "[SQL" not in line and "INSERT" not in line and "AccountObj" not in line and len(line) <= 250
    engine.dispose()


@pytest.mark.parametrize(("url", "expected"), [
    ("not a url", "is not a database URL"),
    ("mysql://u@h/db", "no driver for it"),
    ("postgresql+psycopg://postgres:pw@127.0.0.1:1/x", "cannot be used: OperationalError"),
])
def test_unusable_warehouse_urls_are_one_line_without_the_password(url, expected):
    with pytest.raises(WarehouseError) as caught:
        open_warehouse(url)
    message = str(caught.value)
    assert expected in message and "\n" not in message and ":pw@" not in message
