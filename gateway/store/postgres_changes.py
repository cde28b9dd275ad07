"""The change log on PostgreSQL: positions that never skip a transaction committing late.

On SQLite writers commit one at a time, so the log's sequence is its commit order. On
PostgreSQL many transactions write at once: a row numbered 10 may commit before a row numbered
9, and a poller that moved past 10 would never see 9. So a position here is not a row number
but a *transaction horizon*: position ``p`` means "every change written by a transaction whose
id is below ``p`` has been delivered". Each change row records its transaction's id, and a
read only ever delivers the rows of transactions below the current snapshot's ``xmin`` (the
oldest transaction still running): those are final, no row can join them later. A transaction
still running holds the horizon back until it ends (so a long import delays the feed by its
own duration, never loses it). Rows of a transaction are delivered together, so a page ends
on a transaction boundary; a single transaction with more keys than a page is delivered as
"everything changed".

Positions may repeat a key already delivered (a subscriber re-evaluates, which is harmless);
they never skip one. Pruning keeps the newest :data:`KEEP_CHANGES` rows and records the
horizon below which rows may be missing: a reader further behind is told "everything".
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.records import ChangeBatch, ChangedKey
from gateway.store import postgres_sql as sql
from gateway.store.postgres_conn import Session

EVERYTHING: ChangedKey = (None, None)
#: Change rows kept (older ones are pruned): a subscriber further behind resyncs whole.
KEEP_CHANGES = 100_000
#: About one transaction in this many prunes the log.
PRUNE_EVERY = 1000

HORIZON = """SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon,
    (SELECT pruned_below FROM change_log WHERE id = 1) AS pruned_below"""
CHANGES_BETWEEN = """SELECT tx, sku, stock_id FROM changes
    WHERE tx >= $1 AND tx < $2 ORDER BY tx, seq LIMIT $3"""
PRUNE_POINT = "SELECT tx FROM changes ORDER BY seq DESC OFFSET $1 LIMIT 1"
PRUNE = "DELETE FROM changes WHERE tx < $1"
RECORD_PRUNED = "UPDATE change_log SET pruned_below = GREATEST(pruned_below, $1) WHERE id = 1"


async def record(s: Session, keys: Sequence[ChangedKey]) -> int | None:
    """Append ``keys`` (one "everything" row stands for all of them) in the caller's
    transaction; returns the sequence of the last row (None when nothing was appended)."""
    if not keys:
        return None
    unique = [EVERYTHING] if EVERYTHING in keys else list(dict.fromkeys(keys))
    last = await s.fetchval(sql.INSERT_CHANGES + " RETURNING seq",
                            [sku for sku, _ in unique], [stock for _, stock in unique])
    return int(last) if last is not None else None


async def prune(s: Session) -> None:
    """Delete rows older than the newest :data:`KEEP_CHANGES` (whole transactions) and
    remember below which transaction rows may now be missing."""
    cut = await s.fetchval(PRUNE_POINT, KEEP_CHANGES)
    if cut is not None:
        await s.execute(PRUNE, int(cut))
        await s.execute(RECORD_PRUNED, int(cut))


async def horizon(s: Session) -> int:
    """The position of "now": every transaction below it has ended."""
    row = await s.fetchrow(HORIZON)
    assert row is not None
    return int(row["horizon"])


async def changes_since(s: Session, after: int, limit: int) -> ChangeBatch:
    """Keys written by transactions at or above ``after`` that have ended, in transaction
    order, whole transactions only; "everything" when the log no longer reaches back to
    ``after`` or ``after`` lies ahead of this database (a replaced database)."""
    row = await s.fetchrow(HORIZON)
    assert row is not None
    now, pruned_below = int(row["horizon"]), int(row["pruned_below"])
    if after < pruned_below or after > now:
        return ChangeBatch(now, (EVERYTHING,))
    rows = await s.fetch(CHANGES_BETWEEN, after, now, limit + 1)
    if len(rows) <= limit:
        return ChangeBatch(now, tuple((r["sku"], r["stock_id"]) for r in rows))
    # More than a page: stop at the last transaction delivered whole.
    last_tx = int(rows[limit]["tx"])
    whole = [r for r in rows[:limit] if int(r["tx"]) != last_tx]
    if not whole:  # one transaction larger than a page
        return ChangeBatch(last_tx + 1, (EVERYTHING,))
    return ChangeBatch(last_tx, tuple((r["sku"], r["stock_id"]) for r in whole))
