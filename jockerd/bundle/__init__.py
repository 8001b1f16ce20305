"""The OCI bundle generator: pure functions from an image config and a create request to a spec.

generate_spec() = default_spec() → spec_from_image() → with_*() options; write_bundle() writes
config.json. Modules: defaults (Docker's defaults), seccomp_profile (the default seccomp profile
and the profile resolver), conversion (image-spec conversion.md), users (user and group
resolution), opts / resources / mounts (the HostConfig options), generate (the pipeline).
"""

from jockerd.bundle.generate import SpecSettings, generate_spec, host_settings, write_bundle

__all__ = ["SpecSettings", "generate_spec", "host_settings", "write_bundle"]
