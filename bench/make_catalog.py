"""Generate a benchmark catalog (availability-catalog/1 JSON).

N SKUs (``BENCH-00000`` ...) on 2 sources (``wh-a``, ``wh-b``) linked to one stock (id 1)
sold on channel ``web``. With the default ``--variety``, products, source items and the stock
carry a realistic mix of settings (backorders with a negative min_qty, pack sizes with qty
increments, decimal quantities, unmanaged stock, per-group minimums, safety stock,
out-of-stock items, low-stock levels) and some SKUs have open reservations, so every branch
of the availability rules is exercised. Deterministic for a given ``--seed``.

    .venv/bin/python bench/make_catalog.py --skus 1000 -o /tmp/bench-catalog.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

SOURCES = ("wh-a", "wh-b")
CHANNEL = "web"
STOCK_ID = 1


def sku_name(index: int) -> str:
    return f"BENCH-{index:05d}"


def _product_config(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.55:
        return {}  # "Use Config Settings" everywhere: the common case
    if roll < 0.65:
        return {"backorders": rng.choice(["allow", "allow_notify"]),
                "min_qty": rng.choice([0, -5, -20])}
    if roll < 0.73:
        return {"enable_qty_increments": True, "qty_increments": rng.choice([2, 6, 12]),
                "min_sale_qty": 1}
    if roll < 0.79:
        return {"is_qty_decimal": True, "is_decimal_divided": rng.random() < 0.5,
                "min_sale_qty": 0.5}
    if roll < 0.83:
        return {"manage_stock": False}
    if roll < 0.90:
        return {"min_sale_qty_by_group": {"wholesale": rng.choice([10, 24, 50])},
                "max_sale_qty": rng.choice([100, 500])}
    if roll < 0.95:
        return {"min_qty": rng.choice([2, 5])}  # safety stock
    return {"notify_stock_qty": rng.choice([5, 10])}


def _item_config(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.85:
        return {}
    if roll < 0.93:
        return {"notify_stock_qty": rng.choice([2, 4, 8])}
    return {"backorders": "allow_notify"}


def build_catalog(skus: int = 1000, *, seed: int = 1, variety: bool = True,
                  quantity: tuple[int, int] = (0, 200)) -> dict[str, Any]:
    """The catalog document; ``variety=False`` gives plain products (default settings) and
    in-stock items with quantities drawn from ``quantity`` (used by the order benchmark)."""
    rng = random.Random(seed)
    products: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    reservations: list[dict[str, Any]] = []
    low, high = quantity
    for index in range(skus):
        sku = sku_name(index)
        product: dict[str, Any] = {"sku": sku, "name": f"Bench product {index}"}
        config = _product_config(rng) if variety else {}
        if config:
            product["config"] = config
        products.append(product)
        # Most SKUs on both sources; some only on one.
        placed = SOURCES if not variety or rng.random() < 0.7 else (rng.choice(SOURCES),)
        for source in placed:
            qty: float = rng.randint(low, high)
            if config.get("is_qty_decimal"):
                qty += rng.choice([0, 0.25, 0.5])
            item: dict[str, Any] = {"sku": sku, "source": source, "quantity": qty,
                                    "status": "in_stock"}
            if variety and (qty == 0 or rng.random() < 0.08):
                item["status"] = "out_of_stock"
            item_config = _item_config(rng) if variety else {}
            if item_config:
                item["config"] = item_config
            items.append(item)
        if variety and rng.random() < 0.3:
            for n in range(rng.randint(1, 3)):
                reservations.append({
                    "sku": sku, "stock": STOCK_ID, "quantity": -rng.randint(1, 3),
                    "metadata": {"event_type": "order_placed",
                                 "order_id": f"seed-{index}-{n}"}})
    return {
        "format": "availability-catalog/1",
        "config": {"manage_stock": True, "backorders": "no", "min_qty": 0, "min_sale_qty": 1,
                   "min_sale_qty_by_group": {"wholesale": 5}, "max_sale_qty": 10000,
                   "notify_stock_qty": 3, "enable_qty_increments": False, "qty_increments": 1,
                   "stock_threshold_qty": 0, "auto_return": False},
        "sources": [
            {"code": "wh-a", "name": "Warehouse A", "enabled": True, "latitude": 48.85,
             "longitude": 2.35, "country": "FR", "postcode": "75001"},
            {"code": "wh-b", "name": "Warehouse B", "enabled": True, "latitude": 52.52,
             "longitude": 13.40, "country": "DE", "postcode": "10115"},
        ],
        "stocks": [{"id": STOCK_ID, "name": "Web stock", "channels": [CHANNEL],
                    "sources": [{"code": "wh-a", "priority": 1},
                                {"code": "wh-b", "priority": 2}],
                    "config": {"stock_threshold_qty": 5} if variety else {}}],
        "products": products,
        "source_items": items,
        "reservations": reservations,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=1000, help="number of SKUs (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--plain", action="store_true",
                        help="no config variety: default settings, all items in stock")
    parser.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    document = build_catalog(args.skus, seed=args.seed, variety=not args.plain)
    text = json.dumps(document, indent=1) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
        print(f"{args.output}: {len(document['products'])} products, "
              f"{len(document['source_items'])} source items, "
              f"{len(document['reservations'])} reservations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
