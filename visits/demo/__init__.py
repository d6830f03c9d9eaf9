"""Fictional demo data for the run command and the screenshots: `manage.py seed_demo` loads it."""
