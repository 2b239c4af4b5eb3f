"""What the metrics engine tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent by every recompute inside its write transaction, after this run's rollups and stage
# changes are written, with ``now`` (the instant computed as of, a datetime) and ``run`` (the
# abm.Job, or None). Goals measure their progress on it (goals/apps.py); a receiver that
# raises rolls the run back, so the figures and goal progress stay in step.
metrics_recomputed = Signal()
