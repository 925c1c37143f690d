"""Pure normalization: HTML to text, Chinese text folding, dates, URLs, ids, language.

Nothing here does I/O (beyond reading read-only data shipped inside installed packages) or
imports an adapter; every function takes plain values and returns plain values.
"""
