"""The generator's self-check: the oracle must report every planted case and no near miss."""

from __future__ import annotations

from .numbers import money_text


class GeneratorError(RuntimeError):
    """The world built does not say what the generator meant (a generator bug)."""


def check_rules(truth: dict, expects: list) -> None:
    """Raise :class:`GeneratorError` naming every planted case the truth contradicts."""
    found = {(i["rule"], i["refs"][0]): i for i in truth["discrepancies"]}
    wrong = []
    for e in expects:
        anchor = e.anchor()
        item = found.get((e.rule, anchor))
        if not e.positive:
            if item is not None:
                wrong.append(f"{e.case}: {e.rule} at {anchor} should not be there")
            continue
        if item is None:
            wrong.append(f"{e.case}: {e.rule} at {anchor} is missing")
            continue
        if e.severity and item["severity"] != e.severity:
            wrong.append(f"{e.case}: severity {item['severity']}, planted {e.severity}")
        if e.amount_cents is not None and item["amount_cny"] != money_text(e.amount_cents):
            wrong.append(f"{e.case}: amount {item['amount_cny']}, planted {money_text(e.amount_cents)}")
        if e.refs is not None and item["refs"] != e.refs():
            wrong.append(f"{e.case}: refs {item['refs']}, planted {e.refs()}")
    if wrong:
        raise GeneratorError("planted rule cases differ from the truth: " + "; ".join(wrong))
