"""The `ripple` client commands, one module per command group, registered by `ripple.cli.main`.

`apply` (apply, delete -f), `resources` (get, describe, delete), `broker`, `trigger`,
`channel`, `subscription`, `source` (with `git_sources`: github, gitlab), `flows`
(sequence, parallel), `event`, `waiting` (`ripple wait` and every `--wait`),
`completion` and `dlq` (Ripple's dead-letter store); `common` holds what they share. Each
module's `register(commands, parents)` adds its parsers with a `handler(args, api) -> int`.
"""
