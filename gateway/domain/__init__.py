"""Pure inventory rules: standard library only, no I/O."""
