"""The `ripple` client commands, one module per command group, registered by `ripple.cli.main`.

`apply` (apply, delete -f), `resources` (get, describe, delete), `broker`, `trigger` and
`event`; `common` holds what they share. Each module's `register(commands, parents)` adds
its parsers with a `handler(args, api) -> int`.
"""
