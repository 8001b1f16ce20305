"""The runtime's only doorway to libc: constants, ctypes bindings and the `Syscalls` seam."""
