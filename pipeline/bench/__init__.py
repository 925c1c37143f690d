"""`newsflow bench`: how fast each part of the pipeline is, measured in one run on the local stack.

- `textgen`, `corpus`: a deterministic corpus of realistic news items (seeded; no external data).
- `normalizer`, `services`, `e2e`, `extraction`: the measurements (`procs`: worker processes, CPU, RSS).
- `resources`: the run's uniquely named topics, groups and indices, and their removal.
- `runner`: runs the measurements in order; `report`: the table, the bottleneck verdict and the JSON;
  `command`: the CLI entry point.

Nothing in the pure core, the adapters or the workers imports this package (an import-linter contract).
"""
