"""The runtime's only doorway to C: constants, the libc and libseccomp bindings (on `ffi`, a
slice of ctypes) and the `Syscalls` seam."""
