"""Back office (token): configuration and catalog writes at every level, and what each sets."""
