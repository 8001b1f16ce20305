"""jocker-runtime: an OCI runtime with runc's command line (see docs/runtime.md).

Import discipline: this package runs once per container operation, so it imports only the
stdlib, and of it only cheap modules on the common paths (no `typing`, `re`, `json`, `enum`
outside `state`, `socket`, `subprocess`, `argparse`); see `fastjson` and `cli` for why.
"""

# The runtime-spec version this runtime implements (state's ociVersion, features' maximum).
OCI_VERSION = "1.2.0"
