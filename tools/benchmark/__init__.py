"""Figures of the whole stack under load: ``bench`` (with its simulated customers and agents
in ``bench_sim`` and its pure statistics in ``bench_stats``) and ``chaos`` (kill each
process once under a light load)."""
