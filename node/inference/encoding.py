"""The canonical output encoding, version 1, and the output hash.

An output is one tensor. Its bytes are:

    offset  size  field
    0       4     magic  b"NSO1" (Nightshift output, version 1)
    4       1     dtype  1 = float32, 2 = int64
    5       1     ndim   0..8
    6       4*n   dims   uint32 little-endian, one per dimension
    6+4n    ...   data   the elements in C order, little-endian

The output hash committed on chain is keccak256 of these bytes. The same tensor always encodes
to the same bytes; any change to the format gets a new magic.
"""

from __future__ import annotations

import math
import struct

import numpy as np
from eth_utils import keccak

from node.inference.errors import OutputDecodeError

MAGIC = b"NSO1"
_DTYPES: dict[int, np.dtype] = {1: np.dtype("<f4"), 2: np.dtype("<i8")}
_CODES: dict[np.dtype, int] = {np.dtype("float32"): 1, np.dtype("int64"): 2}
MAX_NDIM = 8


def encode_output(array: np.ndarray) -> bytes:
    """The canonical bytes of a float32 or int64 array."""
    dtype = np.dtype(array.dtype)
    if dtype not in _CODES:
        raise ValueError(f"unsupported output dtype {dtype}")
    if array.ndim > MAX_NDIM:
        raise ValueError(f"outputs have at most {MAX_NDIM} dimensions, got {array.ndim}")
    code = _CODES[dtype]
    header = MAGIC + struct.pack("<BB", code, array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()


def decode_output(data: bytes) -> np.ndarray:
    """The array encoded in `data`; raises `OutputDecodeError` if the bytes are not canonical."""
    if len(data) < 6 or data[:4] != MAGIC:
        raise OutputDecodeError("not a Nightshift v1 output (bad magic)")
    code, ndim = struct.unpack_from("<BB", data, 4)
    if code not in _DTYPES or ndim > MAX_NDIM:
        raise OutputDecodeError(f"bad dtype code {code} or ndim {ndim}")
    offset = 6 + 4 * ndim
    if len(data) < offset:
        raise OutputDecodeError("truncated header")
    shape = struct.unpack_from(f"<{ndim}I", data, 6)
    dtype = _DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a product of eight uint32s never wraps.
    if len(data) - offset != expected:
        raise OutputDecodeError(f"data is {len(data) - offset} bytes, shape {shape} needs {expected}")
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)


def output_hash(data: bytes) -> bytes:
    """keccak256 of the canonical output bytes: what a worker commits on chain."""
    return keccak(data)
