"""The embedded default busybox image, built from the host's static busybox (build.py)."""
