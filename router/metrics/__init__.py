"""Record stage: live estimates, the per-request tracker, Prometheus and the
SQLite audit store."""
