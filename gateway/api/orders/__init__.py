"""Back office (token): orders, source selection and the low-stock report."""
