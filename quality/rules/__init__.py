"""Consistency rules R1-R11, one module each: a pydantic ``Config`` (its thresholds, strict) and a
``find(conn, ctx, cfg) -> list[Candidate]`` in set-based SQL over the unified model. The registry
(``quality/registry.py``) declares them; nothing else lists them."""
