"""Writing files so that a crash, a kill or a planted file never leaves a half-written or hijacked one.

``atomic_write(path, write)`` is the one way the engine and the app replace a file: ``write`` fills a
temporary file, which then takes ``path``'s place in one ``os.replace``. A reader sees the old file or
the new one, never a mix, whatever happens in between.

- The temporary gets a unique name and is created exclusively in the target's folder (``mkstemp``:
  ``O_CREAT | O_EXCL | O_NOFOLLOW``), so a planted ``<out>.tmp`` or a symlink under a guessed name is
  never followed or overwritten; it is deleted on every failure, ``KeyboardInterrupt`` included.
- An existing target keeps its permission bits; a new file gets the usual ``0o666 & ~umask`` (not
  ``mkstemp``'s 0600).
- A target that is a symlink stays a symlink: the file it points to is replaced.
- A read-only target, or one that is not a regular file (a folder, a FIFO, a device), is refused with
  an ``OSError`` saying so, before anything is written.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile

TEMP_SUFFIX = ".tmp"

# The most bytes a data file may unpack to (a .npz's arrays, a gzip'd IDX file), checked before the
# memory is taken; ``VISUALKERAS_MAX_DATA_BYTES`` changes it.
MAX_DATA_BYTES = 4 << 30
MAX_DATA_BYTES_ENV = "VISUALKERAS_MAX_DATA_BYTES"


def max_data_bytes() -> int:
    """``$VISUALKERAS_MAX_DATA_BYTES`` when it is a whole number, else ``MAX_DATA_BYTES`` (4 GiB)."""
    env = os.environ.get(MAX_DATA_BYTES_ENV)
    try:
        return int(env) if env else MAX_DATA_BYTES
    except ValueError:
        return MAX_DATA_BYTES


def _umask():
    try:  # Linux: read it without changing it (os.umask is process-wide and racy under threads)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def resolve_target(path) -> str:
    """The file that writing ``path`` replaces: ``path`` made absolute, through any symlinks.

    Raises:
        OSError: the target exists and is not a regular file, or is read-only.
    """
    path = os.path.abspath(os.fspath(path))
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(st.st_mode):
        folder = stat.S_ISDIR(st.st_mode)
        what = "a folder" if folder else "not a regular file (a pipe or a device)"
        raise OSError(errno.EISDIR if folder else errno.EINVAL, f"{path} is {what}; it is not overwritten", path)
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, f"{path} is read-only; make it writable or choose another name", path)
    return target


def atomic_write(path, write):
    """Replace ``path`` by what ``write(tmp_path)`` writes to a new temporary file beside it.

    Args:
        path: the file to write (created or replaced; a symlink's target is replaced).
        write: called with the temporary file's path (it exists, empty); it may truncate and rewrite
            it, or delete and recreate it.

    Returns:
        The path of the file written (the symlink's target when ``path`` is a symlink).

    Raises:
        OSError: the target is read-only or not a regular file, or writing failed; nothing is left.
    """
    target = resolve_target(path)
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    try:
        write(tmp)
        # The writer may have replaced the file: open it again without following a link, check it is
        # still a regular file, then set the mode and flush it to disk before it takes the name.
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, f"the temporary file for {path} was replaced by something else", tmp)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:  # Windows
                os.chmod(tmp, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
    return target


def _fsync_folder(folder):
    # So that the rename itself survives a power cut; not possible (nor needed) everywhere.
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes):
    """``atomic_write`` of ``data``."""
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    return atomic_write(path, write)


def atomic_write_text(path, text: str, encoding="utf-8"):
    """``atomic_write`` of ``text`` (``\\n`` line ends on every platform)."""
    return atomic_write_bytes(path, text.encode(encoding))


# ---------------------------------------------------------------------------------------------- reading
def open_regular(path, max_bytes=None):
    """``path`` opened for reading (binary), only when it is a regular file of at most ``max_bytes``.

    A FIFO, a device or a folder is refused at once: the file is opened without blocking and checked
    on the open descriptor, so a named pipe called ``model.json`` cannot hang the caller.

    Raises:
        OSError: missing, unreadable, not a regular file, or too large; ``strerror`` says which.
    """
    path = os.fspath(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file (a pipe or a device)", path)
        if max_bytes is not None and st.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"the file is {st.st_size:,} bytes, over the limit of {max_bytes:,}", path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_file(path) -> str:
    """The hex SHA-256 of the file at ``path``, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_regular(path, max_bytes=None) -> bytes:
    """The bytes of regular file ``path`` (see ``open_regular``); never more than ``max_bytes``."""
    with open_regular(path, max_bytes) as f:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
        raise OSError(errno.EFBIG, f"the file is over the limit of {max_bytes:,} bytes", os.fspath(path))
    return data
