"""mount(8)'s option words that are mount(2) flags, shared by everything that mounts: the
runtime (a spec's mounts), the shim (the rootfs) and the daemon's libc doorway (local volumes).

A leaf: no imports, so the runtime and the shim, which start on every `docker run`, pay for a
dict and nothing else. Words that are not here are the filesystem's own data (`size=64m`,
`lowerdir=...`) or, for the runtime, propagation settings.
"""

from __future__ import annotations

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_RELATIME = 0x200000
MS_I_VERSION = 0x800000
MS_STRICTATIME = 0x1000000
MS_LAZYTIME = 0x2000000

# word → (flag, whether the word sets it or clears it)
MOUNT_FLAGS = {
    "defaults": (0, True),
    "ro": (MS_RDONLY, True),
    "rw": (MS_RDONLY, False),
    "nosuid": (MS_NOSUID, True),
    "suid": (MS_NOSUID, False),
    "nodev": (MS_NODEV, True),
    "dev": (MS_NODEV, False),
    "noexec": (MS_NOEXEC, True),
    "exec": (MS_NOEXEC, False),
    "sync": (MS_SYNCHRONOUS, True),
    "async": (MS_SYNCHRONOUS, False),
    "dirsync": (MS_DIRSYNC, True),
    "remount": (MS_REMOUNT, True),
    "mand": (MS_MANDLOCK, True),
    "nomand": (MS_MANDLOCK, False),
    "atime": (MS_NOATIME, False),
    "noatime": (MS_NOATIME, True),
    "diratime": (MS_NODIRATIME, False),
    "nodiratime": (MS_NODIRATIME, True),
    "bind": (MS_BIND, True),
    "rbind": (MS_BIND | MS_REC, True),
    "relatime": (MS_RELATIME, True),
    "norelatime": (MS_RELATIME, False),
    "strictatime": (MS_STRICTATIME, True),
    "nostrictatime": (MS_STRICTATIME, False),
    "lazytime": (MS_LAZYTIME, True),
    "nolazytime": (MS_LAZYTIME, False),
    "silent": (MS_SILENT, True),
    "loud": (MS_SILENT, False),
    "iversion": (MS_I_VERSION, True),
    "noiversion": (MS_I_VERSION, False),
    "nosymfollow": (MS_NOSYMFOLLOW, True),
    "symfollow": (MS_NOSYMFOLLOW, False),
}


def split_mount_options(words: list[str]) -> tuple[int, list[str]]:
    """(mount flags, the remaining words: the filesystem's data), later words winning."""
    flags = 0
    data: list[str] = []
    for word in words:
        if word in MOUNT_FLAGS:
            flag, on = MOUNT_FLAGS[word]
            flags = flags | flag if on else flags & ~flag
        elif word:
            data.append(word)
    return flags, data


def parse_mount_options(options: str) -> tuple[int, str]:
    """A comma-separated option string (a local volume's `o=`) → (flags, data string)."""
    flags, data = split_mount_options(options.split(","))
    return flags, ",".join(data)
