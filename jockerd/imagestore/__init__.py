"""The OCI image store: blobs, references, layers and snapshots. Knows nothing of containers or HTTP."""
