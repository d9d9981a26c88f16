#!/usr/bin/env python3
"""Independent reference implementation of token selection, engine version 1
(docs/COMMITMENT.md section 4): SplitMix64, greedy with lowest-id ties, temperature / top-k /
top-p sampling in binary64. Writes sampling_vectors.json, checked by the Rust test
`sampling_test_vectors`. Standard library only (math.exp stands in for musl's exp; both are
accurate to the last bit on these inputs).
"""
import json
import math
import struct

M = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed

    def next_u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)

    def next_f64(self):
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def select(logits, temperature, top_k, top_p, rng):
    finite = [(i, l) for i, l in enumerate(logits) if math.isfinite(l)]
    if temperature == 0.0:
        best = None
        for i, l in finite:
            if best is None or l > best[1]:
                best = (i, l)
        return best[0]
    t = f32(temperature)
    cand = sorted(((i, l / t) for i, l in finite), key=lambda c: (-c[1], c[0]))
    if top_k > 0:
        cand = cand[:top_k]
    x0 = cand[0][1]
    w = [math.exp(x - x0) for _, x in cand]
    kept = len(w)
    if f32(top_p) < 1.0:
        z = 0.0
        for v in w:
            z += v
        thr = f32(top_p) * z
        s = 0.0
        for j, v in enumerate(w):
            s += v
            if s >= thr:
                kept = j + 1
                break
    zk = 0.0
    for v in w[:kept]:
        zk += v
    r = rng.next_f64() * zk
    s = 0.0
    for j in range(kept):
        s += w[j]
        if r < s:
            return cand[j][0]
    return cand[kept - 1][0]


# Logits are f32 values; some exact ties on purpose.
logits = [f32(x) for x in [0.5, 2.25, -1.0, 2.25, 0.0, 1.75, -3.5, 1.0,
                           0.125, 2.0, -0.75, 1.5, 0.25, -2.0, 0.875, 1.25]]
cases = []
for name, temperature, top_k, top_p, seed in [
    ("greedy", 0.0, 0, 1.0, 0),
    ("t1", 1.0, 0, 1.0, 1),
    ("t0.7-k5", 0.7, 5, 1.0, 2),
    ("t1.3-p0.8", 1.3, 0, 0.8, 3),
    ("t0.9-k8-p0.95", 0.9, 8, 0.95, 0xDEADBEEF),
    ("t2-k1", 2.0, 1, 1.0, 4),
]:
    rng = SplitMix64(seed)
    ids = [select(logits, temperature, top_k, top_p, rng) for _ in range(32)]
    cases.append(dict(name=name, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                      expected_ids=ids))

with open("sampling_vectors.json", "w") as f:
    json.dump({"engine_version": 1,
               "logits_f32_bits": ["%08x" % struct.unpack("<I", struct.pack("<f", l))[0]
                                   for l in logits],
               "draws_per_case": 32, "cases": cases}, f, indent=1, sort_keys=True)
    f.write("\n")
