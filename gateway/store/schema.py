"""The SQLite schema as a list of forward migrations, and the statements that use it.

``MIGRATIONS[n - 1]`` takes a database from schema version ``n - 1`` to ``n``; version 1 is the
initial schema. A step is a tuple of single SQL statements (not a script) so that it runs inside
the caller's transaction: ``executescript`` would commit first. Steps are append-only: never
edit a released step, add a new one.

Invariants the schema itself enforces:
- ``meta`` has exactly one row, holding ``data_version``;
- every link, channel and source item points at an existing stock/source/product
  (foreign keys, which the store switches on for every connection);
- link priorities are > 0, statuses are ``in_stock``/``out_of_stock``, config and metadata
  columns hold JSON objects;
- reservations are append-only (no UPDATE); rows may only be inserted or cleaned up.
"""

from __future__ import annotations

from gateway.store.sqlite_conn import Session


class SchemaError(RuntimeError):
    """The database file was written by a newer version of the gateway."""


INITIAL: tuple[str, ...] = (
    """CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        data_version INTEGER NOT NULL CHECK (data_version >= 0)
    )""",
    "INSERT INTO meta (id, data_version) VALUES (1, 0)",
    """CREATE TABLE global_config (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL CHECK (json_valid(value))
    )""",
    """CREATE TABLE sources (
        code TEXT PRIMARY KEY CHECK (length(code) > 0),
        name TEXT NOT NULL,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        latitude REAL,
        longitude REAL,
        country TEXT,
        postcode TEXT
    )""",
    """CREATE TABLE stocks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}'
            CHECK (json_valid(config) AND json_type(config) = 'object')
    )""",
    """CREATE TABLE stock_channels (
        channel TEXT PRIMARY KEY CHECK (length(channel) > 0),
        stock_id INTEGER NOT NULL REFERENCES stocks (id) ON DELETE CASCADE
    )""",
    "CREATE INDEX stock_channels_stock ON stock_channels (stock_id)",
    """CREATE TABLE stock_source_links (
        stock_id INTEGER NOT NULL REFERENCES stocks (id) ON DELETE CASCADE,
        source_code TEXT NOT NULL REFERENCES sources (code) ON DELETE CASCADE,
        priority INTEGER NOT NULL CHECK (priority > 0),
        PRIMARY KEY (stock_id, source_code)
    ) WITHOUT ROWID""",
    "CREATE INDEX stock_source_links_source ON stock_source_links (source_code)",
    """CREATE TABLE products (
        sku TEXT PRIMARY KEY CHECK (length(sku) > 0),
        name TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}'
            CHECK (json_valid(config) AND json_type(config) = 'object')
    )""",
    """CREATE TABLE source_items (
        sku TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
        source_code TEXT NOT NULL REFERENCES sources (code) ON DELETE CASCADE,
        quantity TEXT NOT NULL CHECK (typeof(quantity) = 'text'),
        status TEXT NOT NULL CHECK (status IN ('in_stock', 'out_of_stock')),
        config TEXT NOT NULL DEFAULT '{}'
            CHECK (json_valid(config) AND json_type(config) = 'object'),
        PRIMARY KEY (sku, source_code)
    ) WITHOUT ROWID""",
    "CREATE INDEX source_items_source ON source_items (source_code)",
    # No foreign keys on reservations: like Magento's inventory_reservation they are a history
    # that must survive catalog edits (a product or stock removed by a later import).
    """CREATE TABLE reservations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sku TEXT NOT NULL,
        stock_id INTEGER NOT NULL,
        quantity TEXT NOT NULL CHECK (typeof(quantity) = 'text'),
        metadata TEXT NOT NULL DEFAULT '{}'
            CHECK (json_valid(metadata) AND json_type(metadata) = 'object')
    )""",
    "CREATE INDEX reservations_sku_stock ON reservations (sku, stock_id)",
    """CREATE TRIGGER reservations_append_only BEFORE UPDATE ON reservations
    BEGIN
        SELECT RAISE(ABORT, 'reservations are append-only');
    END""",
    # The exact Decimal sum of reservations per (sku, stock), maintained by the store in the
    # same transaction as every reservation insert, so reads never sum the history.
    """CREATE TABLE reservation_totals (
        sku TEXT NOT NULL,
        stock_id INTEGER NOT NULL,
        total TEXT NOT NULL CHECK (typeof(total) = 'text'),
        PRIMARY KEY (sku, stock_id)
    ) WITHOUT ROWID""",
)

ORDERS: tuple[str, ...] = (
    # One row per accepted order; ``document`` holds its SKUs, lines and shipment history.
    # Rejected placements are not stored: retrying them after a restock must be possible.
    """CREATE TABLE orders (
        order_id TEXT PRIMARY KEY CHECK (length(order_id) > 0),
        channel TEXT NOT NULL,
        stock_id INTEGER NOT NULL,
        customer_group TEXT,
        status TEXT NOT NULL,
        request_key TEXT NOT NULL,
        document TEXT NOT NULL CHECK (json_valid(document)),
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )""",
    # Reservations are grouped by order for compaction and the order view.
    """ALTER TABLE reservations ADD COLUMN order_id TEXT
        GENERATED ALWAYS AS (json_extract(metadata, '$.order_id')) VIRTUAL""",
    "CREATE INDEX reservations_order ON reservations (order_id)",
)

# One spelling of the status: "cancelled" (the reservation event type stays Magento's
# "order_canceled").
CANCELLED_SPELLING: tuple[str, ...] = (
    "UPDATE orders SET status = 'cancelled' WHERE status = 'canceled'",
)

# The change log: every write transaction appends the (sku, stock) keys whose availability
# inputs it changed (stock NULL = every stock; sku NULL = everything), in commit order (one
# writer at a time). Live subscriptions poll it; old rows are pruned.
CHANGE_LOG: tuple[str, ...] = (
    """CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sku TEXT,
        stock_id INTEGER
    )""",
)

# Availability facts (docs/architecture.md): one row per (product, stock), recomputed through
# the domain at every commit that changes its inputs; ``reserved`` replaces the reservation
# totals. Rows copied from the totals here are placeholders (known = 0): the store rebuilds
# every row when ``meta.facts_version`` is below the code's FACTS_VERSION.
FACTS: tuple[str, ...] = (
    """CREATE TABLE stock_facts (
        stock_id INTEGER NOT NULL,
        sku TEXT NOT NULL,
        known INTEGER NOT NULL CHECK (known IN (0, 1)),
        assigned INTEGER NOT NULL CHECK (assigned IN (0, 1)),
        in_stock INTEGER NOT NULL CHECK (in_stock IN (0, 1)),
        physical TEXT NOT NULL CHECK (typeof(physical) = 'text'),
        reserved TEXT NOT NULL CHECK (typeof(reserved) = 'text'),
        floor TEXT CHECK (floor IS NULL OR typeof(floor) = 'text'),
        sellable INTEGER NOT NULL CHECK (sellable IN (0, 1)),
        rules TEXT NOT NULL CHECK (json_valid(rules)),
        PRIMARY KEY (stock_id, sku)
    ) WITHOUT ROWID""",
    "CREATE INDEX stock_facts_sku ON stock_facts (sku)",
    """INSERT INTO stock_facts
        (stock_id, sku, known, assigned, in_stock, physical, reserved, floor, sellable, rules)
        SELECT stock_id, sku, 0, 0, 0, '0', total, NULL, 0, '{}' FROM reservation_totals""",
    "DROP TABLE reservation_totals",
    "ALTER TABLE meta ADD COLUMN facts_version INTEGER NOT NULL DEFAULT 0",
)

# Stock events for back offices: each commit records the (sku, stock) pairs whose answer
# crossed out of stock, back in stock or into low stock (docs/rules.md §5); old rows pruned.
STOCK_EVENTS: tuple[str, ...] = (
    """CREATE TABLE stock_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sku TEXT NOT NULL,
        stock_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('OUT_OF_STOCK', 'BACK_IN_STOCK', 'LOW_STOCK')),
        salable_qty TEXT CHECK (salable_qty IS NULL OR typeof(salable_qty) = 'text'),
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (INITIAL, ORDERS, CANCELLED_SPELLING, CHANGE_LOG,
                                           FACTS, STOCK_EVENTS)

#: The schema version this code writes and expects.
SCHEMA_VERSION = len(MIGRATIONS)

CREATE_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY CHECK (version > 0),
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""



def migrate(s: Session, name: str) -> None:
    """Bring the database to :data:`SCHEMA_VERSION` in one IMMEDIATE transaction.

    Applies every missing step in order and records it in ``schema_version``; rolls back on
    any error. Raises :class:`SchemaError` when the database is newer than this code. A
    database already at this version is only read: opening it never waits for another
    process's write lock (a long import must not stop an export or a worker's start).
    """
    if _applied_version(s) == SCHEMA_VERSION:
        return
    # IMMEDIATE: two processes opening a new file at once do not both apply the same step
    # (the second waits for the first, then sees the new version).
    s.run("BEGIN IMMEDIATE")
    try:
        s.run(CREATE_VERSION_TABLE)
        current = int(s.run("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])
        if current > SCHEMA_VERSION:
            raise SchemaError(f"{name} has schema version {current}; this gateway knows "
                              f"versions up to {SCHEMA_VERSION}")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                s.run(statement)
            s.run("INSERT INTO schema_version (version) VALUES (?)", (version,))
        s.run("COMMIT")
    except BaseException:
        if s.conn.in_transaction:
            s.run("ROLLBACK")
        raise


def _applied_version(s: Session) -> int | None:
    """The schema version recorded in the file, by a plain read; None when not recorded."""
    exists = s.run("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                   "'schema_version'")
    if not exists:
        return None
    return int(s.run("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])


#: Tables emptied by a replacing import, children before parents (foreign keys).
DATA_TABLES: tuple[str, ...] = (
    "orders",
    "stock_facts",
    "reservations",
    "source_items",
    "stock_source_links",
    "stock_channels",
    "products",
    "stocks",
    "sources",
    "global_config",
)

# -- statements against this schema (kept beside the DDL they depend on) -------------------
# SKU lists are bound as ONE JSON array parameter read with json_each(?): the statement text
# and count stay the same for 1 or 100 000 SKUs, and SQLite's bound-variable limit never hits.

DATA_VERSION = "SELECT data_version FROM meta WHERE id = 1"
BUMP_VERSION = "UPDATE meta SET data_version = data_version + 1 WHERE id = 1"

SELECT_GLOBAL_CONFIG = "SELECT name, value FROM global_config ORDER BY name"
SELECT_SOURCES = """SELECT code, name, enabled, latitude, longitude, country, postcode
    FROM sources ORDER BY code"""
SELECT_STOCKS = "SELECT id, name, config FROM stocks ORDER BY id"
SELECT_CHANNELS = "SELECT stock_id, channel FROM stock_channels ORDER BY stock_id, channel"
SELECT_LINKS = """SELECT stock_id, source_code, priority FROM stock_source_links
    ORDER BY stock_id, priority, source_code"""
SELECT_PRODUCTS = "SELECT sku, name, config FROM products ORDER BY sku"
SELECT_SOURCE_ITEMS = """SELECT sku, source_code, quantity, status, config FROM source_items
    ORDER BY sku, source_code"""
SELECT_RESERVATIONS = "SELECT sku, stock_id, quantity, metadata FROM reservations ORDER BY id"

# Everything a storefront request reads, in ONE statement (one thread hop, one snapshot): the
# data version, then products, source items and the reservation totals of the requested stock,
# tagged by kind. ?1 is the JSON array of SKUs, ?2 the stock id.
SKU_SNAPSHOT = """
    SELECT 'v', NULL, NULL, data_version, NULL, NULL FROM meta WHERE id = 1
    UNION ALL
    SELECT 'p', sku, NULL, name, NULL, config FROM products
        WHERE sku IN (SELECT value FROM json_each(?1))
    UNION ALL
    SELECT 'i', sku, source_code, quantity, status, config FROM source_items
        WHERE sku IN (SELECT value FROM json_each(?1))
    UNION ALL
    SELECT 't', sku, NULL, reserved, NULL, NULL FROM stock_facts
        WHERE stock_id = ?2 AND sku IN (SELECT value FROM json_each(?1))
    ORDER BY 1, 2, 3"""
# Products and every source item of them, tagged like SKU_SNAPSHOT (?1: JSON array of SKUs).
PRODUCT_VIEWS = """
    SELECT 'p', sku, NULL, name, NULL, config FROM products
        WHERE sku IN (SELECT value FROM json_each(?1))
    UNION ALL
    SELECT 'i', sku, source_code, quantity, status, config FROM source_items
        WHERE sku IN (SELECT value FROM json_each(?1))
    ORDER BY 1, 2, 3"""
KNOWN_SKUS = "SELECT sku FROM products WHERE sku IN (SELECT value FROM json_each(?))"
# SKUs in order after ?1 (NULL: from the first), at most ?2 (a negative LIMIT has none).
LIST_SKUS = "SELECT sku FROM products WHERE ?1 IS NULL OR sku > ?1 ORDER BY sku LIMIT ?2"
SELECT_SOURCE_CODES = "SELECT code FROM sources"

INSERT_GLOBAL_CONFIG = "INSERT INTO global_config (name, value) VALUES (?, ?)"
UPSERT_SOURCE = """INSERT INTO sources
        (code, name, enabled, latitude, longitude, country, postcode)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (code) DO UPDATE SET name = excluded.name, enabled = excluded.enabled,
        latitude = excluded.latitude, longitude = excluded.longitude,
        country = excluded.country, postcode = excluded.postcode"""
UPSERT_STOCK = """INSERT INTO stocks (id, name, config) VALUES (?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config"""
DELETE_CHANNELS_OF_STOCKS = """DELETE FROM stock_channels
    WHERE stock_id IN (SELECT value FROM json_each(?))"""
DELETE_LINKS_OF_STOCKS = """DELETE FROM stock_source_links
    WHERE stock_id IN (SELECT value FROM json_each(?))"""
# A channel belongs to exactly one stock: listing it under another stock moves it.
UPSERT_CHANNEL = """INSERT INTO stock_channels (channel, stock_id) VALUES (?, ?)
    ON CONFLICT (channel) DO UPDATE SET stock_id = excluded.stock_id"""
INSERT_LINK = """INSERT INTO stock_source_links (stock_id, source_code, priority)
    VALUES (?, ?, ?)"""
UPSERT_PRODUCT = """INSERT INTO products (sku, name, config) VALUES (?, ?, ?)
    ON CONFLICT (sku) DO UPDATE SET name = excluded.name, config = excluded.config"""
UPSERT_SOURCE_ITEM = """INSERT INTO source_items (sku, source_code, quantity, status, config)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (sku, source_code) DO UPDATE SET quantity = excluded.quantity,
        status = excluded.status, config = excluded.config"""
INSERT_RESERVATION = """INSERT INTO reservations (sku, stock_id, quantity, metadata)
    VALUES (?, ?, ?, ?)"""
# Keys are a JSON array of [sku, stock_id] pairs; the join probes the primary key per pair.
TOTALS_FOR_KEYS = """SELECT t.sku, t.stock_id, t.reserved
    FROM json_each(?) AS k
    JOIN stock_facts AS t
      ON t.sku = json_extract(k.value, '$[0]') AND t.stock_id = json_extract(k.value, '$[1]')"""
# A pair first met through a reservation gets a placeholder row (known = 0) until its facts
# are computed (at the same commit when its product is written in the transaction).
UPSERT_TOTAL = """INSERT INTO stock_facts
        (sku, stock_id, known, assigned, in_stock, physical, reserved, floor, sellable, rules)
    VALUES (?, ?, 0, 0, 0, '0', ?, NULL, 0, '{}')
    ON CONFLICT (stock_id, sku) DO UPDATE SET reserved = excluded.reserved"""
# Facts recomputed through the domain: everything but ``reserved``.
UPSERT_FACTS = """INSERT INTO stock_facts
        (sku, stock_id, known, assigned, in_stock, physical, reserved, floor, sellable, rules)
    VALUES (?, ?, 1, ?, ?, ?, '0', ?, ?, ?)
    ON CONFLICT (stock_id, sku) DO UPDATE SET known = 1, assigned = excluded.assigned,
        in_stock = excluded.in_stock, physical = excluded.physical, floor = excluded.floor,
        sellable = excluded.sellable, rules = excluded.rules"""
# Rows of products that are gone (deleted, or a stock that no longer exists) stop answering but
# keep their reservation total: reservations are history.
FORGET_FACTS = """UPDATE stock_facts SET known = 0
    WHERE known = 1 AND sku IN (SELECT value FROM json_each(?))
      AND NOT EXISTS (SELECT 1 FROM products AS p WHERE p.sku = stock_facts.sku)"""
FORGET_STOCKS = """UPDATE stock_facts SET known = 0
    WHERE known = 1 AND stock_id NOT IN (SELECT id FROM stocks)"""
# The facts of known pairs, of some SKUs (?1: JSON array) or all: what stock events compare.
FACTS_OF_SKUS = """SELECT sku, stock_id, assigned, in_stock, physical, reserved, rules
    FROM stock_facts WHERE known = 1 AND sku IN (SELECT value FROM json_each(?))"""
ALL_FACTS = """SELECT sku, stock_id, assigned, in_stock, physical, reserved, rules
    FROM stock_facts WHERE known = 1"""
INSERT_STOCK_EVENT = """INSERT INTO stock_events (sku, stock_id, kind, salable_qty)
    VALUES (?, ?, ?, ?)"""
STOCK_EVENT_SEQUENCE = "SELECT COALESCE(MAX(seq), 0) FROM stock_events"
STOCK_EVENTS_SINCE = """SELECT seq, sku, stock_id, kind, salable_qty FROM stock_events
    WHERE seq > ? ORDER BY seq LIMIT ?"""
PRUNE_STOCK_EVENTS = "DELETE FROM stock_events WHERE seq <= ?"
FACTS_VERSION = "SELECT facts_version FROM meta WHERE id = 1"
SET_FACTS_VERSION = "UPDATE meta SET facts_version = ? WHERE id = 1"
LIST_ALL_SKUS = "SELECT sku FROM products ORDER BY sku"
# A storefront read from facts: the data version (the row whose sku is NULL), then the facts
# of the requested, known SKUs in the stock. ?1: JSON array of SKUs, ?2: stock id.
FACTS_FOR_SKUS = """
    SELECT NULL, data_version, NULL, NULL, NULL, NULL FROM meta WHERE id = 1
    UNION ALL
    SELECT sku, assigned, in_stock, physical, reserved, rules FROM stock_facts
        WHERE stock_id = ?2 AND known = 1 AND sku IN (SELECT value FROM json_each(?1))"""

SELECT_ORDER = """SELECT order_id, channel, stock_id, customer_group, status, request_key,
    document FROM orders WHERE order_id = ?"""
INSERT_ORDER = """INSERT INTO orders
    (order_id, channel, stock_id, customer_group, status, request_key, document)
    VALUES (?, ?, ?, ?, ?, ?, ?)"""
UPDATE_ORDER = """UPDATE orders SET channel = ?, stock_id = ?, customer_group = ?, status = ?,
    request_key = ?, document = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE order_id = ?"""
RESERVATIONS_OF_ORDER = """SELECT sku, stock_id, quantity, metadata FROM reservations
    WHERE order_id = ? ORDER BY id"""
UPDATE_SOURCE_ITEM_QTY = """UPDATE source_items SET quantity = ?, status = ?
    WHERE sku = ? AND source_code = ?"""
# Candidates only: the float SUM is refined with exact Decimals before anything is deleted.
ZERO_SUM_ORDERS = """SELECT order_id, sku, stock_id FROM reservations
    WHERE order_id IS NOT NULL GROUP BY order_id, sku, stock_id
    HAVING abs(sum(CAST(quantity AS REAL))) < 0.00005"""
RESERVATIONS_OF_KEYS = """SELECT r.id, r.order_id, r.sku, r.stock_id, r.quantity
    FROM json_each(?) AS k JOIN reservations AS r
      ON r.order_id = json_extract(k.value, '$[0]') AND r.sku = json_extract(k.value, '$[1]')
     AND r.stock_id = json_extract(k.value, '$[2]')"""
DELETE_RESERVATIONS = "DELETE FROM reservations WHERE id IN (SELECT value FROM json_each(?))"
LOW_STOCK_CANDIDATES = """SELECT i.sku, i.source_code, i.quantity, i.status, i.config,
        p.name, p.config
    FROM source_items AS i JOIN products AS p ON p.sku = i.sku
    JOIN sources AS s ON s.code = i.source_code AND s.enabled = 1
    WHERE i.status = 'in_stock' AND CAST(i.quantity AS REAL) > 0
      AND (? IS NULL OR i.source_code = ?)
    ORDER BY i.source_code, i.sku"""
DELETE_PRODUCT = "DELETE FROM products WHERE sku = ? RETURNING sku"

INSERT_CHANGE = "INSERT INTO changes (sku, stock_id) VALUES (?, ?)"
LAST_CHANGE = "SELECT last_insert_rowid()"
CHANGE_SEQUENCE = "SELECT COALESCE(MAX(seq), 0) FROM changes"
CHANGE_BOUNDS = "SELECT MIN(seq), COALESCE(MAX(seq), 0) FROM changes"
CHANGES_SINCE = "SELECT seq, sku, stock_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"
PRUNE_CHANGES = "DELETE FROM changes WHERE seq <= ?"
