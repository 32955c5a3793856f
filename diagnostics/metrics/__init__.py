"""`/metrics` in the Prometheus text format, computed from the database at scrape time: web, worker and beat
are separate processes, and in-process counters would each see only their own share."""
