"""`newsflow bench`: how fast each part of the pipeline is, measured in one run on the local stack.

- `textgen`, `corpus`: a deterministic corpus of realistic news items (seeded; no external data).
- `normalizer`, `services`, `e2e`, `extraction`: the measurements.
- `runner`: runs them in order on fresh, uniquely named topics, groups and indices, and cleans up.
- `report`: the printed table, the bottleneck verdict and the JSON.

Nothing in the pure core imports this package.
"""
