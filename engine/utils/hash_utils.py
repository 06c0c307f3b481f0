"""The hash functions behind Keras's ``Hashing`` and ``HashedCrossing``, in NumPy, bit for bit.

Keras hashes with TensorFlow's kernels, which TensorFlow-free code cannot call:

- ``tf.strings.to_hash_bucket_fast``: ``Fingerprint64(s) % num_bins``, where ``Fingerprint64`` is
  Google FarmHash's fingerprint (``farmhash::Fingerprint64``, the "na" variant of ``Hash64``);
- ``tf.strings.to_hash_bucket_strong``: ``SipHash-2-4(key, s) % num_bins`` (HighwayHash's SipHash,
  keyed by two 64-bit words);
- ``tf.sparse.cross_hashed`` (the ``SparseCross`` kernel with ``hashed_output=True``): starting from
  the key ``0xDECAFCAFFE``, ``FingerprintCat64`` folds in each feature, an integer feature as its own
  64-bit value and a string feature as its ``Fingerprint64``; then ``% num_bins``.

Keras's ``Hashing`` hashes an integer as its decimal string (``tf.as_string``), so
:func:`hash_decimal` does the same. Every function works on whole arrays: strings of one length are
hashed together as rows of a byte matrix, with NumPy's wrapping uint64 arithmetic as C's.
"""
from __future__ import annotations

import numpy as np

__all__ = ["fingerprint64", "fingerprint64_many", "siphash64", "siphash64_many", "fingerprint_cat64",
           "decimal_bytes", "hash_decimal", "cross_hash", "CROSS_HASH_KEY"]

_U = np.uint64
# Some primes between 2^63 and 2^64 (FarmHash's k0, k1, k2).
_K0 = _U(0xC3A5C85C97CB3127)
_K1 = _U(0xB492B66FBE98F273)
_K2 = _U(0x9AE16A3B2F90404F)
_KMUL = _U(0xC6A4A7935BD1E995)  # FingerprintCat64's multiplier
# tf.sparse.cross_hashed's default hash_key (tensorflow/python/ops/sparse_ops.py).
CROSS_HASH_KEY = 0xDECAFCAFFE


def _rot(v, s):
    """Rotate right by ``s`` (1..63) bits, as FarmHash's ``Rotate64``."""
    return (v >> _U(s)) | (v << _U(64 - s))


def _rotl(v, s):
    return (v << _U(s)) | (v >> _U(64 - s))


def _shift_mix(v):
    return v ^ (v >> _U(47))


def _fetch64(rows, offset):
    """The little-endian uint64 at byte ``offset`` of each row."""
    return np.ascontiguousarray(rows[:, offset:offset + 8]).view("<u8")[:, 0].astype(_U)


def _fetch32(rows, offset):
    return np.ascontiguousarray(rows[:, offset:offset + 4]).view("<u4")[:, 0].astype(_U)


def _hash_len16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> _U(47)
    b = (v ^ a) * mul
    b ^= b >> _U(47)
    return b * mul


def _weak_hash_len32_with_seeds(rows, offset, a, b):
    w, x, y, z = (_fetch64(rows, offset + 8 * i) for i in range(4))
    a = a + w
    b = _rot(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rot(a, 44)
    return a + z, b + c


def _farmhash_na(rows, n):
    """FarmHash's ``farmhashna::Hash64`` of each row's first ``n`` bytes (``rows``: uint8, (m, >= n))."""
    m = rows.shape[0]
    length = _U(n)
    if n <= 16:
        if n >= 8:
            mul = _K2 + length * _U(2)
            a = _fetch64(rows, 0) + _K2
            b = _fetch64(rows, n - 8)
            c = _rot(b, 37) * mul + a
            d = (_rot(a, 25) + b) * mul
            return _hash_len16(c, d, mul)
        if n >= 4:
            mul = _K2 + length * _U(2)
            a = _fetch32(rows, 0)
            return _hash_len16(length + (a << _U(3)), _fetch32(rows, n - 4), mul)
        if n > 0:
            a = rows[:, 0].astype(_U)
            b = rows[:, n >> 1].astype(_U)
            c = rows[:, n - 1].astype(_U)
            y = a + (b << _U(8))  # fits in the uint32 the C code uses
            z = length + (c << _U(2))
            return _shift_mix(y * _K2 ^ z * _K0) * _K2
        return np.full(m, _K2, dtype=_U)
    if n <= 32:
        mul = _K2 + length * _U(2)
        a = _fetch64(rows, 0) * _K1
        b = _fetch64(rows, 8)
        c = _fetch64(rows, n - 8) * mul
        d = _fetch64(rows, n - 16) * _K2
        return _hash_len16(_rot(a + b, 43) + _rot(c, 30) + d, a + _rot(b + _K2, 18) + c, mul)
    if n <= 64:
        mul = _K2 + length * _U(2)
        a = _fetch64(rows, 0) * _K2
        b = _fetch64(rows, 8)
        c = _fetch64(rows, n - 8) * mul
        d = _fetch64(rows, n - 16) * _K2
        y = _rot(a + b, 43) + _rot(c, 30) + d
        z = _hash_len16(y, a + _rot(b + _K2, 18) + c, mul)
        e = _fetch64(rows, 16) * mul
        f = _fetch64(rows, 24)
        g = (y + _fetch64(rows, n - 32)) * mul
        h = (z + _fetch64(rows, n - 24)) * mul
        return _hash_len16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)
    # Over 64 bytes: 64-byte blocks through a 56-byte state, then the last 64 bytes.
    seed = _U(81)
    x = np.full(m, seed, dtype=_U)
    y = np.full(m, seed * _K1 + _U(113), dtype=_U)
    z = _shift_mix(y * _K2 + _U(113)) * _K2
    v0 = v1 = w0 = w1 = np.zeros(m, dtype=_U)
    x = x * _K2 + _fetch64(rows, 0)
    end = ((n - 1) // 64) * 64
    last64 = n - 64
    for s in range(0, end, 64):
        x = _rot(x + y + v0 + _fetch64(rows, s + 8), 37) * _K1
        y = _rot(y + v1 + _fetch64(rows, s + 48), 42) * _K1
        x = x ^ w1
        y = y + v0 + _fetch64(rows, s + 40)
        z = _rot(z + w0, 33) * _K1
        v0, v1 = _weak_hash_len32_with_seeds(rows, s, v1 * _K1, x + w0)
        w0, w1 = _weak_hash_len32_with_seeds(rows, s + 32, z + w1, y + _fetch64(rows, s + 16))
        z, x = x, z
    mul = _K1 + ((z & _U(0xFF)) << _U(1))
    s = last64
    w0 = w0 + _U((n - 1) & 63)
    v0 = v0 + w0
    w0 = w0 + v0
    x = _rot(x + y + v0 + _fetch64(rows, s + 8), 37) * mul
    y = _rot(y + v1 + _fetch64(rows, s + 48), 42) * mul
    x = x ^ (w1 * _U(9))
    y = y + v0 * _U(9) + _fetch64(rows, s + 40)
    z = _rot(z + w0, 33) * mul
    v0, v1 = _weak_hash_len32_with_seeds(rows, s, v1 * mul, x + w0)
    w0, w1 = _weak_hash_len32_with_seeds(rows, s + 32, z + w1, y + _fetch64(rows, s + 16))
    z, x = x, z
    return _hash_len16(_hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z, _hash_len16(v1, w1, mul) + x, mul)


def _sip_round(v0, v1, v2, v3):
    v0 = v0 + v1
    v2 = v2 + v3
    v1 = _rotl(v1, 13)
    v3 = _rotl(v3, 16)
    v1 = v1 ^ v0
    v3 = v3 ^ v2
    v0 = _rotl(v0, 32)
    v2 = v2 + v1
    v0 = v0 + v3
    v1 = _rotl(v1, 17)
    v3 = _rotl(v3, 21)
    v1 = v1 ^ v2
    v3 = v3 ^ v0
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def _siphash24(rows, n, k0, k1):
    """SipHash-2-4 (HighwayHash's ``SipHash``) of each row's first ``n`` bytes, keyed by ``(k0, k1)``."""
    m = rows.shape[0]
    k0, k1 = _U(k0), _U(k1)
    v0 = np.full(m, _U(0x736F6D6570736575) ^ k0, dtype=_U)
    v1 = np.full(m, _U(0x646F72616E646F6D) ^ k1, dtype=_U)
    v2 = np.full(m, _U(0x6C7967656E657261) ^ k0, dtype=_U)
    v3 = np.full(m, _U(0x7465646279746573) ^ k1, dtype=_U)
    full = n - n % 8
    last = np.zeros((m, 8), dtype=np.uint8)  # the remaining bytes, then the length's low byte
    last[:, :n - full] = rows[:, full:n]
    last[:, 7] = n & 0xFF
    blocks = [_fetch64(rows, i) for i in range(0, full, 8)] + [_fetch64(last, 0)]
    for packet in blocks:
        v3 = v3 ^ packet
        v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
        v0 = v0 ^ packet
    v2 = v2 ^ _U(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def _as_bytes(s):
    if isinstance(s, str):
        return s.encode("utf-8")
    if isinstance(s, (bytes, bytearray, memoryview)):
        return bytes(s)
    raise TypeError(f"Expected str or bytes to hash, received {type(s).__name__}: {s!r:.80}")


def _by_length(strings, fn):
    """``fn(rows, n)`` on the strings of each length together; a uint64 array in the strings' order."""
    data = [_as_bytes(s) for s in strings]
    out = np.zeros(len(data), dtype=_U)
    lengths = np.array([len(d) for d in data], dtype=np.int64)
    for n in np.unique(lengths):
        idx = np.flatnonzero(lengths == n)
        rows = np.frombuffer(b"".join(data[i] for i in idx), dtype=np.uint8).reshape(len(idx), int(n))
        out[idx] = fn(rows, int(n))
    return out


def _key(salt):
    """``(k0, k1)`` as TensorFlow reads the two int64 attribute values: their two's-complement bits."""
    try:
        k0, k1 = (int(v) for v in salt)
    except (TypeError, ValueError):
        raise ValueError(f"A SipHash key is two integers. Received: {salt!r}") from None
    for v in (k0, k1):
        if not -2**63 <= v < 2**63:
            raise ValueError(f"Each SipHash key integer must fit in a signed 64-bit integer (as TensorFlow's "
                             f"int attribute). Received: {salt!r}")
    return k0 & 0xFFFFFFFFFFFFFFFF, k1 & 0xFFFFFFFFFFFFFFFF


def fingerprint64_many(strings):
    """FarmHash ``Fingerprint64`` of each str (UTF-8) or bytes: a uint64 array."""
    with np.errstate(over="ignore"):
        return _by_length(strings, _farmhash_na)


def fingerprint64(s):
    """FarmHash ``Fingerprint64`` of one str (UTF-8) or bytes, as a Python int (TensorFlow's
    ``tf.fingerprint``-family hash, and pyfarmhash's ``farmhash.fingerprint64``)."""
    return int(fingerprint64_many([s])[0])


def siphash64_many(strings, key):
    """SipHash-2-4 of each str (UTF-8) or bytes with ``key`` (two integers): a uint64 array."""
    k0, k1 = _key(key)
    with np.errstate(over="ignore"):
        return _by_length(strings, lambda rows, n: _siphash24(rows, n, k0, k1))


def siphash64(s, key):
    """SipHash-2-4 of one str or bytes with ``key`` (two integers), as TensorFlow's ``StrongKeyedHash``."""
    return int(siphash64_many([s], key)[0])


def _u64(x):
    """A uint64 array of ``x``: signed integers as their two's-complement bits."""
    if isinstance(x, np.ndarray) and x.dtype == _U:
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind in "iub":
        return x.astype(np.int64).view(_U) if x.dtype.kind == "i" else x.astype(_U)
    arr = np.asarray(x, dtype=object)
    return np.vectorize(lambda v: int(v) & 0xFFFFFFFFFFFFFFFF, otypes=[_U])(arr) if arr.size else arr.astype(_U)


def fingerprint_cat64(fp1, fp2):
    """TensorFlow's ``FingerprintCat64``: combines two 64-bit fingerprints (arrays or ints; negative
    ints as their two's-complement bits). Returns a uint64 array, or an int for two scalars."""
    scalar = np.ndim(fp1) == 0 and np.ndim(fp2) == 0
    a, b = np.atleast_1d(_u64(fp1)), np.atleast_1d(_u64(fp2))
    with np.errstate(over="ignore"):
        result = a ^ _KMUL
        result = result ^ (_shift_mix(b * _KMUL) * _KMUL)
        result = result * _KMUL
        result = _shift_mix(result) * _KMUL
        result = _shift_mix(result)
    return int(result[0]) if scalar else result


def decimal_bytes(values):
    """The decimal strings of int64 ``values`` (what ``tf.as_string`` writes): a uint8 matrix with one
    zero-padded row per value, and each row's length."""
    values = np.asarray(values, dtype=np.int64).ravel()
    text = values.astype("S20")  # "-9223372036854775808" is the longest: 20 bytes
    rows = np.frombuffer(text.tobytes(), dtype=np.uint8).reshape(len(values), 20)
    return rows, (rows != 0).sum(axis=1)


def hash_decimal(values, salt=None):
    """The 64-bit hash of each int64's decimal string: FarmHash ``Fingerprint64``, or SipHash-2-4 keyed
    by ``salt`` (two integers). Returns a uint64 array of ``values``' shape. Each distinct value is
    hashed once."""
    values = np.asarray(values, dtype=np.int64)
    unique, inverse = np.unique(values.ravel(), return_inverse=True)
    rows, lengths = decimal_bytes(unique)
    hashes = np.zeros(len(unique), dtype=_U)
    key = None if salt is None else _key(salt)
    with np.errstate(over="ignore"):
        for n in np.unique(lengths):
            idx = np.flatnonzero(lengths == n)
            group = rows[idx]
            hashes[idx] = _farmhash_na(group, int(n)) if key is None else _siphash24(group, int(n), *key)
    return hashes[inverse].reshape(values.shape)


def cross_hash(columns, key=CROSS_HASH_KEY):
    """``tf.sparse.cross_hashed`` of dense features, one value per row: ``FingerprintCat64`` folded
    over the columns in order, starting from ``key``. An integer column takes part as its 64-bit value
    (two's complement); pass a string column through :func:`fingerprint64_many` first. Returns uint64."""
    shape = np.shape(columns[0])
    columns = [np.atleast_1d(_u64(np.asarray(c))) for c in columns]
    out = np.full(columns[0].size, _U(key & 0xFFFFFFFFFFFFFFFF), dtype=_U)
    for c in columns:
        out = fingerprint_cat64(out, c.ravel())
    return out.reshape(shape)
