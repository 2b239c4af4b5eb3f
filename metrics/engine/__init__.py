"""The metrics engine: engagement, journey stages, attribution and the dashboards' rollups.

Read it in the order a run goes:

- ``params``: every setting the computation needs, read once (``EngineParams``);
- ``loading``: the database into DataFrames;
- ``compute``: pure pandas/numpy, frames and params in, frames out, no Django;
- ``writing``: the frames back into their tables (binary COPY on PostgreSQL);
- ``runner``: one run end to end, in one write transaction (``recompute_all``).

This package's ``__init__`` imports nothing, so ``metrics.engine.compute`` imports without Django.
"""
