"""Canonical output encoding and model identity."""

import struct

import numpy as np
import pytest
import torch

from node.inference.encoding import MAGIC, decode_output, encode_output, output_hash
from node.inference.errors import OutputDecodeError
from node.inference.identity import canonical_weight_bytes, model_id


def test_encode_output_is_documented_layout_and_round_trips():
    array = np.array([[1.5, -2.0, 0.25]], dtype=np.float32)
    data = encode_output(array)
    assert data[:4] == b"NSO1"
    assert data[4:6] == bytes([1, 2])
    assert data[6:14] == (1).to_bytes(4, "little") + (3).to_bytes(4, "little")
    assert data[14:] == array.astype("<f4").tobytes()
    np.testing.assert_array_equal(decode_output(data), array)
    assert output_hash(data) == output_hash(encode_output(array.copy()))


def test_encode_output_int64_label():
    data = encode_output(np.array([7], dtype=np.int64))
    assert decode_output(data).tolist() == [7]
    assert data[4] == 2


@pytest.mark.parametrize("data", [b"", b"XXXX\x01\x01", b"NSO1\x09\x00", b"NSO1\x01\x01\x02\x00\x00\x00" + b"\x00" * 4])
def test_decode_output_rejects_malformed_bytes(data):
    with pytest.raises(OutputDecodeError):
        decode_output(data)


def test_encode_output_rejects_unsupported_dtype():
    with pytest.raises(ValueError, match="unsupported output dtype"):
        encode_output(np.array([1.0], dtype=np.float64))


def test_model_id_ignores_key_order_but_not_a_single_bit():
    a = {"w": torch.ones(2, 3), "b": torch.zeros(3)}
    b = {"b": torch.zeros(3), "w": torch.ones(2, 3)}
    assert model_id(a) == model_id(b)
    flipped = {"w": torch.ones(2, 3), "b": torch.zeros(3)}
    flipped["b"][1] = torch.finfo(torch.float32).tiny
    assert model_id(flipped) != model_id(a)
    assert canonical_weight_bytes(a).startswith(b"NSW1")


def test_decode_rejects_dimensions_whose_product_wraps_in_64_bits():
    wrapped = MAGIC + struct.pack("<BB", 1, 4) + struct.pack("<4I", *(1 << 16,) * 4)  # 2**64 elements.
    with pytest.raises(OutputDecodeError, match="needs 73786976294838206464"):
        decode_output(wrapped)
