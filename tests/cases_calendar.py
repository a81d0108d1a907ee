"""Harness rows for the calendar layers (see tests/cases.py)."""

CASES = []
