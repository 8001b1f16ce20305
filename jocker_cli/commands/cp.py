"""`jocker cp`: docker cp over the archive endpoints (HEAD/GET/PUT /containers/{id}/archive).

The copy rules are the docker CLI's (cli/command/container/cp.go over go-archive's CopyTo and
PrepareArchiveCopy): the daemon only stats, tars and untars into a directory; which directory,
and under which name the entries land, is decided here from the stat of both ends. A trailing
`/.` copies a directory's contents, a trailing `/` asserts a directory. Like docker, the summary
(`Successfully copied 2.05kB to DEST`, the tar's bytes) goes to stderr only when stdout is a
terminal, unless -q; files extracted here are owned by the invoking user.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import sys
import tarfile

from jocker_cli.client import CliError

USAGE = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tjocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
ARGS = (2, 2)
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_TYPE = 0x8F280000  # Go's os.ModeType: dir, symlink, pipe, socket, device, char device, irregular
HELP_EXTRA = """
Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout."""


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--archive", action="store_true", help="Archive mode (copy all uid/gid information)"
    )
    parser.add_argument("-L", "--follow-link", action="store_true", help="Always follow symlinks in SRC_PATH")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=None,
        help="Suppress progress output during copy. Progress output is automatically suppressed if no "
        "terminal is attached",
    )


# -- docker's path rules ------------------------------------------------------------------------


def split_arg(arg: str) -> tuple[str, str]:
    """splitCpArg: `CONTAINER:PATH`, unless the argument is a local absolute or ./ path."""
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


def preserve_trailing(cleaned: str, original: str) -> str:
    """go-archive's PreserveTrailingDotOrSeparator."""
    if os.path.basename(cleaned) != "." and (original == "." or original.endswith("/.")):
        cleaned = cleaned.rstrip("/") + "/."
    if not cleaned.endswith("/") and original.endswith("/"):
        cleaned += "/"
    return cleaned


def split_dir_entry(path: str) -> tuple[str, str]:
    """go-archive's SplitPathDirEntry: (parent, base) of a cleaned path, `.` kept as the base."""
    cleaned = os.path.normpath(path)
    if path.endswith("/.") or path == ".":
        cleaned += "/."
    return os.path.dirname(cleaned) or ".", os.path.basename(cleaned) or cleaned


def asserts_directory(path: str) -> bool:
    return path.endswith("/") or path.endswith("/.") or path == "."


def rebase(name: str, old: str, new: str) -> str:
    """go-archive's RebaseArchiveEntries: the first component `old` becomes `new`."""
    first, sep, rest = name.partition("/")
    if first != old:
        return name
    return new + sep + rest if rest or sep else new


# -- client helpers -----------------------------------------------------------------------------


def stat_path(client, container: str, path: str) -> dict | None:
    response = client.request("HEAD", f"/containers/{container}/archive", params={"path": path}, ok=(404,))
    response.read()
    if response.status == 404:
        return None
    return json.loads(base64.b64decode(response.headers.get("x-docker-container-path-stat", "") or b"e30="))


class _Counting(io.RawIOBase):
    """The GET body as a file for tarfile, counting bytes (the summary's size)."""

    def __init__(self, chunks) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._buffer = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        n = min(len(buffer), len(self._buffer))
        buffer[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        self.count += n
        return n


class _Untar(tarfile.TarFile):
    def chown(self, tarinfo, targetpath, numeric_owner) -> None:  # type: ignore[override]
        """docker extracts with NoLchown: the files belong to whoever runs the copy."""


def summary(size: int, dest: str) -> None:
    from jocker_cli.output import human_size

    sys.stderr.write(f"Successfully copied {human_size(size, 3)} to {dest}\n")


# -- from the container --------------------------------------------------------------------------


def copy_from_container(client, container: str, src: str, dst: str, *, follow: bool, quiet: bool) -> None:
    if dst != "-":
        dst = preserve_trailing(os.path.abspath(dst), dst)
        parent = os.path.dirname(dst.rstrip("/").removesuffix("/.")) or "/"
        if not os.path.isdir(parent):
            raise CliError(f'invalid output path: directory "{parent}" does not exist')
    rebase_name = ""
    if follow:
        found = stat_path(client, container, src)
        if found and found["mode"] & GO_MODE_SYMLINK:
            target = found["linkTarget"]
            if not target.startswith("/"):
                target = os.path.join(split_dir_entry(src)[0], target)
            _, src_base = split_dir_entry(src)
            if src.endswith("/.") or src.endswith("/") or src_base == ".":
                src_base = ""
            src, rebase_name = target, src_base or ""
    response = client.request("GET", f"/containers/{container}/archive", params={"path": src})
    header = response.headers.get("x-docker-container-path-stat", "")
    found = json.loads(base64.b64decode(header)) if header else {"mode": 0}
    if dst == "-":
        out = sys.stdout.buffer
        for chunk in response.iter_chunks(1 << 20):
            out.write(chunk)
        out.flush()
        return
    body = _Counting(response.iter_chunks(1 << 20))
    _, src_base = split_dir_entry(src)  # the entries' first name (a followed link's target's)
    extract_to(
        body, bool(found["mode"] & GO_MODE_DIR), src, dst, rebase_from=src_base, first=rebase_name or src_base
    )
    if not quiet:
        summary(body.count, dst)


def extract_to(body, src_is_dir: bool, src: str, dst: str, *, rebase_from: str, first: str) -> None:
    """go-archive's CopyTo: where the entries land locally, and under which first name."""
    try:
        st = os.stat(dst)
        exists, is_dir = True, stat.S_ISDIR(st.st_mode)
    except FileNotFoundError:
        exists, is_dir = False, False
    if exists and is_dir:
        target_dir, new_first = dst, first
        if src_is_dir and asserts_directory(src) and src.endswith("."):
            new_first = "."
    elif exists:
        if src_is_dir:
            raise CliError("cannot copy directory")
        target_dir, new_first = os.path.dirname(dst.rstrip("/")), os.path.basename(dst.rstrip("/"))
    else:
        if asserts_directory(dst) and not src_is_dir:
            raise CliError("no such directory")
        target_dir, new_first = os.path.dirname(dst.rstrip("/").removesuffix("/.")), split_dir_entry(dst)[1]
    with _Untar.open(fileobj=body, mode="r|") as tar:
        for member in tar:
            member.name = rebase(member.name, rebase_from, new_first)
            if member.islnk():
                member.linkname = rebase(member.linkname, rebase_from, new_first)
            check_inside(member, target_dir)
            tar.extract(member, target_dir, **_NO_FILTER)


# tarfile's own filters (3.11.4+) refuse absolute symlinks, which docker cp copies as they are;
# check_inside applies go-archive's rules instead, on every Python.
_NO_FILTER = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}


def check_inside(member: tarfile.TarInfo, target_dir: str) -> None:
    """go-archive's breakout checks, plus one against links planted by earlier entries: the
    entry, its hard link's target and its symlink's target (an absolute one taken as relative
    to the destination, as Go's filepath.Join does) stay in `target_dir`, and the entry's
    parent, symlinks resolved, is still inside."""
    root = os.path.realpath(target_dir)

    def inside(path: str) -> bool:
        return path == root or path.startswith(root.rstrip("/") + "/")

    path = os.path.normpath(os.path.join(root, member.name.lstrip("/")))
    if not inside(path) or (path != root and not inside(os.path.realpath(os.path.dirname(path)))):
        raise CliError(f"invalid path in archive: {member.name!r} is outside of {target_dir!r}")
    if member.islnk():
        linked = os.path.normpath(os.path.join(root, member.linkname.lstrip("/")))
        if not inside(linked):
            raise CliError(f"invalid hardlink {member.name!r} -> {member.linkname!r}")
    elif member.issym():
        linked = os.path.normpath(os.path.join(os.path.dirname(path), member.linkname))
        if not member.linkname.startswith("/") and not inside(linked):
            raise CliError(f"invalid symlink {member.name!r} -> {member.linkname!r}")


# -- into the container ------------------------------------------------------------------------


def _go_header(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Go's FileInfoHeader: whole-second mtimes (a float would cost a PAX record), no names."""
    info.mtime = int(info.mtime)
    info.uname = info.gname = ""
    return info


def _local_tar(path: str, base: str) -> bytes:
    """go-archive's TarResource of a local path: entries named from its base name, owners kept."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        source = path.removesuffix("/.").rstrip("/") or "/"
        tar.add(source, arcname=base, recursive=True, filter=_go_header)
    data = out.getvalue()
    # Go's writer ends with two zero blocks, not a 10 KiB record.
    end = len(data)
    while end >= 512 and data[end - 512 : end] == bytes(512):
        end -= 512
    return data[:end] + bytes(1024)


def _check_source(path: str) -> None:
    """ResolveHostSourcePath's errors: EvalSymlinks of the parent names its first missing
    component, then the Lstat of the path itself."""
    parent = os.path.dirname(path)
    parts = [p for p in parent.split("/") if p]
    for depth in range(1, len(parts) + 1):
        prefix = "/" + "/".join(parts[:depth])
        if not os.path.lexists(prefix):
            raise CliError(f"lstat {prefix}: no such file or directory")
    if not os.path.lexists(path):
        raise CliError(f"lstat {path}: no such file or directory")


def copy_to_container(
    client, container: str, src: str, dst: str, *, follow: bool, archive: bool, quiet: bool
):
    dst_path, dst_exists, dst_is_dir = dst, False, False
    found = stat_path(client, container, dst)
    if found is not None and found["mode"] & GO_MODE_SYMLINK:
        target = found["linkTarget"]
        if not target.startswith("/"):
            target = os.path.join(split_dir_entry(dst)[0], target)
        dst_path = target
        found = stat_path(client, container, target)
    if found is not None:
        mode = found["mode"]
        if mode & GO_MODE_TYPE and not mode & GO_MODE_DIR:
            raise CliError(
                f'destination "{container}:{dst}" must be a directory or a regular file: '
                f"{'got a symbolic link' if mode & GO_MODE_SYMLINK else 'got an irregular file'}"
            )
        dst_exists, dst_is_dir = True, bool(mode & GO_MODE_DIR)
    params = {"path": dst_path, "noOverwriteDirNonDir": "true"}
    if archive:
        params["copyUIDGID"] = "true"
    if src == "-":
        if not dst_is_dir:
            raise CliError(f'destination "{container}:{dst}" must be a directory')
        client.request("PUT", f"/containers/{container}/archive", params=params, data=iter(
            lambda: sys.stdin.buffer.read(1 << 20), b"")).read()  # fmt: skip
        return
    src = preserve_trailing(os.path.abspath(src), src)
    real = src.removesuffix("/.").rstrip("/") or "/"
    if follow:
        real = os.path.realpath(real)
    _check_source(real)
    src_st = os.stat(real) if follow else os.lstat(real)
    src_is_dir = stat.S_ISDIR(src_st.st_mode)
    _, src_base = split_dir_entry(src)
    if src.endswith("/.") and src_is_dir:
        src_base = "."
    data = _local_tar(src, src_base)
    # go-archive's PrepareArchiveCopy.
    if dst_exists and dst_is_dir:
        dst_dir = dst_path
    elif dst_exists:
        if src_is_dir:
            raise CliError("cannot copy directory")
        dst_dir, dst_base = split_dir_entry(dst_path)
        data = _rebased(data, src_base, dst_base)
    else:
        if asserts_directory(dst_path) and not src_is_dir:
            raise CliError("no such directory")
        dst_dir, dst_base = split_dir_entry(dst_path)
        data = _rebased(data, src_base, dst_base)
    params["path"] = dst_dir
    client.request("PUT", f"/containers/{container}/archive", params=params, data=data).read()
    if not quiet:
        summary(len(data), f"{container}:{dst_path}")


def _rebased(data: bytes, old: str, new: str) -> bytes:
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(data)) as source,
        tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in source:
            member.name = rebase(member.name, old, new)
            if member.islnk():
                member.linkname = rebase(member.linkname, old, new)
            tar.addfile(member, source.extractfile(member) if member.isreg() else None)
    raw = out.getvalue()
    end = len(raw)
    while end >= 512 and raw[end - 512 : end] == bytes(512):
        end -= 512
    return raw[:end] + bytes(1024)


def run(args, client) -> int:
    source, destination = args.positionals
    if not source:
        raise CliError("source can not be empty")
    if not destination:
        raise CliError("destination can not be empty")
    quiet = args.quiet if args.quiet is not None else not sys.stdout.isatty()
    src_container, src_path = split_arg(source)
    dst_container, dst_path = split_arg(destination)
    if src_container and dst_container:
        raise CliError("copying between containers is not supported")
    if src_container:
        copy_from_container(client, src_container, src_path, dst_path, follow=args.follow_link, quiet=quiet)
    elif dst_container:
        copy_to_container(
            client,
            dst_container,
            src_path,
            dst_path,
            follow=args.follow_link,
            archive=args.archive,
            quiet=quiet,
        )
    else:
        raise CliError("must specify at least one container source")
    return 0
