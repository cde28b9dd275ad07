"""Storefront (public): availability and cart validation."""
