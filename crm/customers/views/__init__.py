"""Pages of the customers module: companies and contacts (lists, 360 pages, forms, bulk actions)."""
