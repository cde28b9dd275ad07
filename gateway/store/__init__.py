"""Persistence behind one Protocol. All SQL, transactions and locking live in this package."""

from gateway.store.protocol import Store

__all__ = ["Store"]
