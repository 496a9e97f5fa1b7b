"""Pure rules and contracts of a 12345 ticket: no I/O, no Temporal, importable everywhere
(workflows call it deterministically inside the sandbox)."""
