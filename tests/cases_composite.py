"""Harness rows for the composite layers (see tests/cases.py)."""

CASES = []
