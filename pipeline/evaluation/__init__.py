"""Measuring what newsflow returns: `newsflow eval search` (ranking quality on judged queries).

`judgments` reads a judgment file (pure), `metrics` scores one ranking against it (pure), `corpus`
turns a folder of posts into the Articles the pipeline would index, and `search_eval` runs the judged
queries through the read API's own search against a real index and reports the figures.
"""
