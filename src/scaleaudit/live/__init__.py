"""Live checks: read-only probes of a running PostgreSQL and Redis, and their join with the code."""
