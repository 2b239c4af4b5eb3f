"""Loaded before anything else (`-p tests.dev_mode` in pyproject.toml), so before pytest-django reads
the settings: the suite runs in development mode, and the processes it starts inherit the flag.
Without ABM_DEV the settings are production's; tests/test_settings.py starts processes without it."""

import os

os.environ["ABM_DEV"] = "1"
# Kept figures stay in each process: a shared cache would outlive the rows a test rolls back.
os.environ["ABM_FIGURES_CACHE"] = "memory"
