"""The runtime driver: the daemon-side seam to running containers (DESIGN §4 driver/).

`oci_runtime.OciRuntime` is the one place the daemon runs an OCI runtime executable
(jocker-runtime, runc or crun); it talks to it through argv only (DESIGN §5.2).
"""
