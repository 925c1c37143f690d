"""Article pages behind summary-only items: when to fetch one, how to fetch politely, how to fold it into the item."""
