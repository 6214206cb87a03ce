"""Consistency rules. Each rule is a function ``(conn, ctx) -> list[Candidate]`` in set-based SQL."""
