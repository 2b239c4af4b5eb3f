"""The engine's pure computation: DataFrames and ``EngineParams`` in, DataFrames out.

Nothing here (nor in the pure modules it uses: metrics/engagement.py, attribution.py, stages.py,
rollups.py, roi.py, lift.py, leads.py, touch_rules.py) imports Django, so the numbers can be
computed and tested by hand without a database or settings (tests/metrics/test_engine_purity.py).
"""
