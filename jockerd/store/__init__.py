"""Daemon-side records on disk, written atomically."""
