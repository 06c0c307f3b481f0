"""``get_file``: a file from a URL, downloaded once into the cache and checked against its hash (Keras's)."""
from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.parse
import warnings
import zipfile

from engine import datasets
from engine.utils import io_utils


class OfflineError(OSError):
    """A file that is not in the cache while downloads are turned off."""


def _keras_home():
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def resolve_hasher(algorithm, file_hash=None):
    """``"sha256"`` or ``"md5"``; ``"auto"`` picks sha256 for a 64-hex-digit hash, else md5 (as Keras)."""
    if algorithm == "sha256":
        return "sha256"
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return "sha256"
    if algorithm in ("auto", "md5"):
        return "md5"
    raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5'. Received: hash_algorithm={algorithm!r}")


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file (``"sha256"`` or ``"md5"``)."""
    h = hashlib.new(resolve_hasher(algorithm))
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file's hash is ``file_hash``."""
    return hash_file(fpath, resolve_hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def _inside(root, path):
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(os.path.join(root, path))]) == root


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar or zip archive into ``path``; members that would land outside it (``../``,
    absolute paths, links out) are refused. Returns whether an archive of the given format was found."""
    formats = {"auto": ["tar", "zip"], "tar": ["tar"], "zip": ["zip"], None: []}.get(archive_format, archive_format)
    if isinstance(formats, str):
        formats = [formats]
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                for member in archive.getmembers():
                    if not _inside(path, member.name) or member.isdev() or (
                            (member.issym() or member.islnk()) and not _inside(
                                path, os.path.join(os.path.dirname(member.name), member.linkname))):
                        raise ValueError(f"{file_path}: the archive member {member.name!r} would be written "
                                         "outside the extraction folder; nothing is extracted from it.")
                os.makedirs(path, exist_ok=True)
                archive.extractall(path, filter="data") if hasattr(tarfile, "data_filter") else archive.extractall(path)
            return True
        if fmt == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                for name in archive.namelist():
                    if not _inside(path, name):
                        raise ValueError(f"{file_path}: the archive member {name!r} would be written outside the "
                                         "extraction folder; nothing is extracted from it.")
                os.makedirs(path, exist_ok=True)
                archive.extractall(path)
            return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False):
    """Downloads ``origin`` into ``cache_dir/cache_subdir`` (``~/.keras/datasets``, the cache Keras uses)
    unless it is there already with the right hash, and returns its path (the extracted folder's with
    ``extract``).

    The bytes go to a temporary file that replaces the target only once the transfer is complete and
    the hash matches. With ``VISUALKERAS_OFFLINE=1`` nothing is downloaded: a file missing from the
    cache raises ``OfflineError`` saying where to put it.

    Args:
        fname: the file's name in the cache (taken from ``origin`` when None); not a path.
        origin: the URL.
        untar: Keras 2's ``extract=True, archive_format="tar"``.
        md5_hash: Keras 2's ``file_hash=..., hash_algorithm="md5"``.
        file_hash: the expected sha256 or md5 hex digest; unchecked when None.
        cache_subdir: the folder under ``cache_dir``.
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: extract the archive (tar or zip) and return the folder.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or a list of them.
        cache_dir: the cache's root (``$KERAS_HOME`` or ``~/.keras`` when None).
        force_download: download even if the file is in the cache.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = resolve_hasher(hash_algorithm, file_hash)
    datadir = os.path.join(os.path.expanduser(cache_dir) if cache_dir else _keras_home(), cache_subdir)
    given = fname
    fname = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                         "Please specify the `fname` argument.")
    if os.sep in fname or (os.altsep and os.altsep in fname) or fname in (".", ".."):
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify the file's parent "
                         f"directory, use the `cache_dir` argument. Received: fname={fname}")
    if extract or untar:  # Keras's names for the archive and the folder
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[:fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, f"{fname}_archive")
    else:
        target = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, algorithm):
        io_utils.print_msg(f"A local file was found, but it seems to be incomplete or outdated because the "
                           f"{algorithm} file hash does not match the original value of {file_hash} so we will "
                           "re-download the data.")
        download = True
    if download:
        if datasets.offline():
            raise OfflineError(
                f"{fname} is not in the cache ({target}) and downloads are turned off "
                f"({datasets.OFFLINE_ENV}=1). Download {origin} on a computer with a network and copy it to "
                f"{target}, or unset {datasets.OFFLINE_ENV}.")
        os.makedirs(datadir, exist_ok=True)
        sha256 = file_hash if file_hash is not None and algorithm == "sha256" else None
        try:
            datasets.fetch(origin, target, sha256)
        except datasets.ChecksumError as e:
            raise ValueError(f"Incomplete or corrupted file detected. {e}") from None
        except datasets.DownloadError as e:
            raise datasets.DownloadError(
                f"Could not download {fname}: {e}. Check the network connection (or a proxy), or download "
                f"{origin} yourself and copy it to {target}.") from None
        if file_hash is not None and algorithm == "md5" and not validate_file(target, file_hash, "md5"):
            os.remove(target)
            raise ValueError(f"Incomplete or corrupted file detected. The md5 file hash does not match the "
                             f"provided value of {file_hash}.")
    if extract or untar:
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return target
