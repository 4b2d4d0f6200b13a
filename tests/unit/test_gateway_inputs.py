"""The gateway hosts inputs too long for calldata under their hash, and nothing else."""

import pytest
from eth_utils import keccak

from node.client import UriInput
from node.gateway.inputs import InputHost


def test_inputs_over_the_inline_limit_are_hosted_under_their_hash_and_the_rest_stay_inline(tmp_path):
    host = InputHost(tmp_path, "http://gateway.example:8080/", inline_max=8)
    short, long = b"12345678", b"a prompt longer than eight bytes"
    placed = host.place([short, long])
    digest = "0x" + keccak(long).hex()
    assert placed == [short, UriInput(f"http://gateway.example:8080/v1/inputs/{digest}", long)]
    assert host.get(digest) == long
    assert host.place([long]) == placed[1:]  # The same bytes, the same address: stored once.
    assert [p.name for p in tmp_path.iterdir()] == [digest]


def test_hosted_inputs_outlive_the_gateway_that_stored_them(tmp_path):
    digest = "0x" + keccak(b"x" * 100).hex()
    InputHost(tmp_path, "http://127.0.0.1:1", inline_max=0).place([b"x" * 100])
    assert InputHost(tmp_path, "http://127.0.0.1:2", inline_max=0).get(digest) == b"x" * 100


@pytest.mark.parametrize("digest", ["0x12", "../../etc/passwd", "0x" + "A" * 64, "0x" + "0" * 63 + "/"])
def test_a_lookup_by_anything_but_a_hash_is_refused(tmp_path, digest):
    with pytest.raises(ValueError, match="is not a keccak-256 hash"):
        InputHost(tmp_path, "http://127.0.0.1:1", inline_max=0).get(digest)


def test_an_unknown_hash_finds_nothing(tmp_path):
    assert InputHost(tmp_path, "http://127.0.0.1:1", inline_max=0).get("0x" + "0" * 64) is None
