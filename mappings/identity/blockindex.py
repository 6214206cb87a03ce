"""The persisted block index of the staged customer records (``customer_record_block``) and the
incremental closure walked through it.

An incremental resolution re-matches the records a change can reach (resolve.py, "Incremental"
in docs/entity-resolution.md): records sharing a strong key (code, link code, name core) or a
previous customer with a reached record, and records sharing an evidence block with a reached
record that can still go looking. Working that out in memory meant reading back every staged
record and the whole crosswalk, and keying every record, on every build (about half of an
incremental build at 10k customers). The blocks each record sits in are kept in a table instead,
row for row with ``customer_record`` and written in the same transaction, so the closure is a
walk of index look-ups whose cost follows the records it reaches (:class:`Walk`). It is the same
walk as the in-memory one (``resolve._closure``, still used when most records changed): a test
compares the two on a changed generated world.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import Connection, delete, func, insert, select, update

from hub_core.schema import customer_xref
from hub_core.schema_identity import customer_record_block
from hub_core.sql import among, copy_rows, sorted_chunks
from mappings.identity import staged_rows
from mappings.identity.blocks import CAPPED, block_keys, blocks_of
from mappings.identity.records import to_rec
from mappings.identity.store import BATCH

STRONG = ("core", "link", "code")  # keys the deterministic stages compare: followed from every record
CHUNK = 1000
SEP = "\t"  # block text: "<kind>\t<value>" (a kind never holds a tab)


def keys_of(rec) -> list[tuple[str, str]]:
    """The blocks the closure follows from a record: its engine blocks and its link code."""
    return block_keys(rec) + ([("link", rec.link_code)] if rec.link_code else [])


def _rows(ref: str, rec) -> list[tuple]:
    return _rows_of(ref, not rec.deleted, keys_of(rec))


def _rows_of(ref: str, live: bool, keys: list[tuple[str, str]]) -> list[tuple]:
    counts = Counter(f"{kind}{SEP}{value}" for kind, value in keys)
    return [(b, ref, n, live) for b, n in counts.items()]


_FIELDS = ("ref", "deleted", "link_code", "key", "aliases", "phones", "address", "uscc", "code_raw")


def _columns_rows(recs):
    """(ref, its index rows) of columns.Columns, read as columns (no Rec made per record)."""
    for ref, deleted, link_code, *fields in recs.fields(*_FIELDS):
        keys = blocks_of(*fields)
        if link_code:
            keys.append(("link", link_code))
        yield _rows_of(ref, not deleted, keys)


_COLUMNS = ("block", "ref", "n", "live")
_INSERT_SQLITE = f"INSERT INTO {customer_record_block.name} ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?)"


def _write(conn: Connection, rows: list[tuple]) -> None:
    """One batch of index rows as plain tuples: COPY on PostgreSQL, one ``executemany`` on SQLite
    (a full build writes ~10 rows per staged record, 2.7M at 100k customers: a dict per row and
    SQLAlchemy's per-row bind processing were a third of the whole resolution's time)."""
    if not rows or copy_rows(conn, customer_record_block.name, _COLUMNS, rows):
        return
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_INSERT_SQLITE, rows)
    else:
        conn.execute(insert(customer_record_block), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


def _insert(conn: Connection, recs) -> None:
    """``recs``: ref -> engine record, or a list of engine records in ref order."""
    batch: list[tuple] = []
    if hasattr(recs, "fields"):  # columns.Columns
        made = _columns_rows(recs)
    else:
        pairs = ((ref, recs[ref]) for ref in sorted(recs)) if isinstance(recs, dict) else ((r.ref, r) for r in recs)
        made = (_rows(ref, rec) for ref, rec in pairs)
    for rows in made:
        batch += rows
        if len(batch) >= BATCH:
            _write(conn, batch)
            batch = []
    _write(conn, batch)


def _chunks(values) -> list[list]:
    return list(sorted_chunks(values, CHUNK))


def rebuild(conn: Connection, recs) -> None:
    """The whole index from ``recs`` (ref -> engine record of every staged record, or those
    records in ref order)."""
    conn.execute(delete(customer_record_block))
    indexes = sorted(customer_record_block.indexes, key=lambda ix: ix.name)  # built after the rows, not row by row
    for ix in indexes:
        ix.drop(conn)
    _insert(conn, recs)
    for ix in indexes:
        ix.create(conn)


def is_empty(conn: Connection) -> bool:
    """Whether the index holds nothing (a warehouse staged before the index existed)."""
    return conn.execute(select(customer_record_block.c.ref).limit(1)).first() is None


def restage(conn: Connection, recs: dict, removed: set[str]) -> None:
    """Before a closure: the blocks of the records staged afresh (``recs``) replaced; the records
    gone (``removed``) kept, as no longer live, so the walk still finds their former neighbours
    (:func:`drop` removes them after it)."""
    t = customer_record_block.c
    for part in _chunks(recs.keys()):
        conn.execute(delete(customer_record_block).where(among(t.ref, part)))
    _insert(conn, recs)
    for part in _chunks(removed):
        conn.execute(update(customer_record_block).where(among(t.ref, part)).values(live=False))


def drop(conn: Connection, refs: set[str]) -> None:
    """Forget the blocks of records gone from the sources."""
    for part in _chunks(refs):
        conn.execute(delete(customer_record_block).where(among(customer_record_block.c.ref, part)))


class Walk:
    """The closure of a set of changed records through the index and the crosswalk (see the
    module doc), looked up as it goes: ``rows`` and ``removed`` are the staged rows (current and
    gone: a row's ``uscc`` says whether it can still go looking), ``cap`` the size over which a
    capped evidence block says nothing (``matching.max_block``)."""

    def __init__(self, conn: Connection, rows: dict, removed: dict, cap: int) -> None:
        self.conn, self.rows, self.removed, self.cap = conn, rows, removed, cap
        self.prev: dict[str, str | None] = {}  # ref -> customer id in the crosswalk (None: none)
        self.members: dict[str, list[str]] = {}  # customer id -> its refs in the crosswalk
        self.keys: dict[str, list[str]] = {}  # ref -> its blocks
        self.sizes: dict[str, int] = {}  # capped block -> live records in it (counted per listing)
        self.refs_in: dict[str, list[str]] = {}  # block -> refs in it
        self.coded: dict[str, bool] = {}  # customer id -> one of its records carries a valid code
        self.strong: set[str] = set()  # the blocks seen of a STRONG kind (followed from every record)
        self.recs: dict = {}  # ref -> engine record of every record walked (what matching takes)

    # --- look-ups, each for what is not known yet ---
    def _prev(self, refs) -> None:
        x = customer_xref.c
        todo = {r for r in refs if r not in self.prev}
        for part in _chunks(todo):
            self.prev.update(self.conn.execute(select(x.ref, x.customer_id).where(among(x.ref, part))).all())
        for r in todo:
            self.prev.setdefault(r, None)

    def _members(self, cids) -> None:
        x = customer_xref.c
        todo = {c for c in cids if c is not None and c not in self.members}
        found: dict[str, list[str]] = defaultdict(list)
        for part in _chunks(todo):
            for ref, cid in self.conn.execute(select(x.ref, x.customer_id).where(among(x.customer_id, part))):
                found[cid].append(ref)
                self.prev[ref] = cid
        staged_rows.load(self.rows, (r for refs in found.values() for r in refs))
        for cid in todo:
            refs = self.members[cid] = found.get(cid, [])
            self.coded[cid] = any((row := self.rows.get(r) or self.removed.get(r)) is not None and row["uscc"]
                                  for r in refs)

    def _keys(self, refs) -> None:
        """The blocks of ``refs`` (worked out from their staged rows, as the index holds them) and
        the sizes of the capped ones."""
        t = customer_record_block.c
        todo = {r for r in refs if r not in self.keys}
        sizes, strong, capped = self.sizes, self.strong, set()
        staged_rows.load(self.rows, todo)
        for r in todo:
            row = self.rows.get(r) or self.removed.get(r)
            if row is None:
                self.keys[r] = []
                continue
            rec = self.recs[r] = to_rec(row)
            blocks: dict[str, None] = {}  # in order, once each
            for k, v in keys_of(rec):
                b = f"{k}{SEP}{v}"
                if b in blocks:
                    continue
                blocks[b] = None
                if k in STRONG:  # (the kinds of STRONG and CAPPED are distinct)
                    strong.add(b)
                elif k in CAPPED and b not in sizes:
                    capped.add(b)
            self.keys[r] = list(blocks)
        for part in _chunks(capped):
            self.sizes.update(self.conn.execute(select(t.block, func.sum(t.n)).where(among(t.block, part), t.live)
                                                .group_by(t.block)).all())
        for b in capped:
            self.sizes.setdefault(b, 0)

    def _refs_in(self, blocks) -> None:
        t = customer_record_block.c
        todo = {b for b in blocks if b not in self.refs_in}
        for b in todo:
            self.refs_in[b] = []
        for part in _chunks(todo):
            for block, ref in self.conn.execute(select(t.block, t.ref).where(among(t.block, part))):
                self.refs_in[block].append(ref)

    def customers_of(self, refs) -> dict[str, str | None]:
        """ref -> customer id in the crosswalk (None: not in it) of ``refs``."""
        self._prev(refs)
        return {r: self.prev[r] for r in refs}

    def customers_refs(self, cids) -> list[str]:
        """The crosswalk refs of the customers ``cids``."""
        self._members(cids)
        return [r for c in cids if c is not None for r in self.members[c]]

    def big(self) -> set[tuple[str, str]]:
        """The too-common blocks among those of every record walked (all the engine sees)."""
        return {tuple(b.split(SEP, 1)) for b, n in self.sizes.items() if n > self.cap}

    def _may_look(self, ref: str, hot: set[str]) -> bool:
        if ref in hot:
            return True
        row = self.rows.get(ref) or self.removed.get(ref)
        return row is not None and not row["uscc"] and not self.coded.get(self.prev.get(ref), False)

    def _codes_known(self, refs) -> None:
        """What :meth:`_may_look` reads of ``refs``: their customers and whether those are coded."""
        self._prev(refs)
        staged_rows.load(self.rows, refs)
        self._members({self.prev[r] for r in refs if not (self.rows.get(r) or self.removed.get(r) or {}).get("uscc")})

    def closure(self, seeds: set[str]) -> set[str]:
        """Every ref whose match could change when ``seeds`` changed (``resolve._closure``)."""
        self._prev(seeds)
        self._members({self.prev[s] for s in seeds})
        hot = set(seeds) | {m for s in seeds if self.prev[s] for m in self.members[self.prev[s]]}
        seen, frontier, seen_keys, seen_cust = set(seeds), set(seeds), set(), set()
        while frontier:
            self._keys(frontier)
            self._codes_known(frontier)
            expand = []
            sizes, cap, strong_blocks = self.sizes, self.cap, self.strong
            for ref in frontier:
                looks = self._may_look(ref, hot)
                for b in self.keys[ref]:
                    if b in sizes and sizes[b] > cap:
                        continue  # the engine ignores it too
                    strong = b in strong_blocks
                    if (strong or looks) and (b, looks) not in seen_keys:
                        seen_keys.add((b, looks))
                        expand.append((b, strong or looks))
            self._refs_in(b for b, _ in expand)
            picky = {n for b, every in expand if not every for n in self.refs_in[b]}
            self._codes_known(picky)
            nexts = set()
            for b, every in expand:
                nexts.update(self.refs_in[b] if every else (n for n in self.refs_in[b] if self._may_look(n, hot)))
            cids = {self.prev[r] for r in frontier if self.prev[r]} - seen_cust
            seen_cust |= cids
            self._members(cids)
            for cid in cids:
                nexts.update(self.members[cid])
            frontier = nexts - seen
            seen |= frontier
        return seen
