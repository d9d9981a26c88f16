#!/usr/bin/env python3
"""Independent reference implementation of commitment layout v1 (docs/COMMITMENT.md).

Writes commitment_vectors.json; the Rust test `commitment_test_vectors` checks the Rust
implementation against it. Only the Python standard library is used.
"""
import hashlib
import json
import struct


def lp(b: bytes) -> bytes:
    return struct.pack("<I", len(b)) + b


def ids(xs) -> bytes:
    return struct.pack("<I", len(xs)) + b"".join(struct.pack("<I", x) for x in xs)


DTYPES = {"f32": 0, "f16": 1, "bf16": 2}
FINISH = {"eos": 0, "max_tokens": 1}


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def preimage(v) -> bytes:
    return b"".join([
        lp(b"cinder.commitment.v1"),
        bytes.fromhex(v["job_key"]),
        bytes.fromhex(v["provider_key"]),
        bytes.fromhex(v["model_id"]),
        lp(v["engine_id"].encode()),
        struct.pack("<I", v["engine_version"]),
        bytes([DTYPES[v["dtype"]]]),
        struct.pack("<I", v["max_tokens"]),
        struct.pack("<I", f32_bits(v["temperature"])),
        struct.pack("<I", v["top_k"]),
        struct.pack("<I", f32_bits(v["top_p"])),
        struct.pack("<Q", v["seed"]),
        ids(v["prompt_token_ids"]),
        ids(v["output_token_ids"]),
        bytes([FINISH[v["finish_reason"]]]),
    ])


def output_hash(xs) -> str:
    return hashlib.sha256(lp(b"cinder.output.v1") + ids(xs)).hexdigest()


cases = [
    dict(name="greedy-minimal", job_key="00" * 32, provider_key="00" * 32, model_id="00" * 32,
         engine_id="cinder-inference", engine_version=1, dtype="f32", max_tokens=1,
         temperature=0.0, top_k=0, top_p=1.0, seed=0, prompt_token_ids=[1],
         output_token_ids=[2], finish_reason="eos"),
    dict(name="sampled-f16", job_key="11" * 32, provider_key="22" * 32,
         model_id=hashlib.sha256(b"model").hexdigest(), engine_id="cinder-inference",
         engine_version=1, dtype="f16", max_tokens=64, temperature=0.7, top_k=40, top_p=0.95,
         seed=0xDEADBEEFCAFEF00D, prompt_token_ids=[151659, 750, 912, 151661, 151660],
         output_token_ids=list(range(100, 164)), finish_reason="max_tokens"),
    dict(name="bf16-empty-output-keys-differ", job_key="ab" * 32,
         provider_key=bytes(range(32)).hex(), model_id="ff" * 32, engine_id="cinder-inference",
         engine_version=1, dtype="bf16", max_tokens=4096, temperature=1.5, top_k=1,
         top_p=0.5, seed=18446744073709551615, prompt_token_ids=list(range(300)),
         output_token_ids=[], finish_reason="max_tokens"),
]
for c in cases:
    c["temperature_bits"] = "%08x" % f32_bits(c["temperature"])
    c["top_p_bits"] = "%08x" % f32_bits(c["top_p"])
    p = preimage(c)
    c["preimage_len"] = len(p)
    c["commitment"] = hashlib.sha256(p).hexdigest()
    c["output_hash"] = output_hash(c["output_token_ids"])

with open("commitment_vectors.json", "w") as f:
    json.dump({"layout": "cinder.commitment.v1", "output_hash_layout": "cinder.output.v1",
               "vectors": cases}, f, indent=2, sort_keys=True)
    f.write("\n")
