"""`scaleaudit fix`: codemods for what the scan found.

`writer` is the safe-writing layer (overlaps, re-parse, atomic writes, diffs)
shared by every language; one fixer per module; `api.run_fix` runs them.
"""
