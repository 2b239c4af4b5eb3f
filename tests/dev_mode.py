"""Loaded before anything else (`-p tests.dev_mode` in pyproject.toml), so before pytest-django reads
the settings: the suite runs in development mode, and the processes it starts inherit the flag.
Without ABM_DEV the settings are production's; tests/test_settings.py starts processes without it."""

import os

os.environ["ABM_DEV"] = "1"
