"""Wire types only: Docker Engine API and OCI spec models. No I/O, no behaviour."""
