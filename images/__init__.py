"""Offline image recipes for jocker and its tests (see images/testimages.py)."""
