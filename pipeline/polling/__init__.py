"""Source types as plugins: one module per `type:` of the sources file, each exposing `list_items`.

`pipeline.poll` looks a source's type up in its one table (`LISTERS`) and does the rest the same way
for every type: push what is new or changed, dead-letter what was rejected, save the state once Kafka
acknowledged. A new type is one module here (its `list_items` and tests), one line in that table, and
its fields in the sources file (`pipeline.sources.catalog`).
"""
