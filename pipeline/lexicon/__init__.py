"""What editors call things: finance aliases and abbreviations, and ticker forms, for query expansion.

`aliases` reads the maintained list `finance_aliases.txt` and finds its names in a query; `tickers`
recognizes stock codes in the forms editors type and the forms news prints. Pure: no I/O but reading
the bundled data file once.
"""
