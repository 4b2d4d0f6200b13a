"""Model identity: model id = keccak256 of the canonical weight bytes.

The canonical weight bytes of a set of named tensors are, for each tensor in sorted name order:

    uint32 LE  length of the name in bytes, then the UTF-8 name
    uint8      dtype code (1 float32, 2 int64, 3 float16, 4 bfloat16, 5 int32, 6 uint8, 7 bool)
    uint8      ndim, then uint64 LE per dimension
    raw        the elements in C order, little-endian

preceded once by the magic b"NSW1". The same weights give the same id whatever file format or
key order they were stored in; a single changed bit gives another id.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import torch
from eth_utils import keccak

MAGIC = b"NSW1"
_CODES = {
    torch.float32: 1,
    torch.int64: 2,
    torch.float16: 3,
    torch.bfloat16: 4,
    torch.int32: 5,
    torch.uint8: 6,
    torch.bool: 7,
}


def canonical_weight_bytes(tensors: Mapping[str, torch.Tensor]) -> bytes:
    """The canonical byte string of a state dict."""
    parts = [MAGIC]
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        encoded = name.encode()
        parts.append(struct.pack("<I", len(encoded)) + encoded)
        parts.append(struct.pack("<BB", _CODES[tensor.dtype], tensor.dim()))
        parts.append(struct.pack(f"<{tensor.dim()}Q", *tensor.shape))
        raw = tensor.view(torch.int16) if tensor.dtype == torch.bfloat16 else tensor
        parts.append(raw.numpy().astype(raw.numpy().dtype.newbyteorder("<"), copy=False).tobytes())
    return b"".join(parts)


def model_id(tensors: Mapping[str, torch.Tensor]) -> bytes:
    """keccak256 of the canonical weight bytes: the id the registry holds."""
    return keccak(canonical_weight_bytes(tensors))
