"""Apollo Federation v2: the gateway as a subgraph contributing ``Product.availability``."""
