"""Sanitizer throughput: the ``lead.created`` sample through its compiled policy.

    python -m bench.sanitize [--seconds 2]

One core, one process. The compiled policy and the reference walker run in the
same process, interleaved, and the best of several rounds of each is kept (the
machine is shared; the best round is the least disturbed one). Both must produce
the same output before anything is timed.

The compiled policy takes the event's validated Struct (what ingest holds after
decoding it); the reference walks the same data as JSON builtins. Both apply the
same masks, so the full-policy ratio is bounded by the masks' own cost (2 e-mails,
2 phones and 1 hash in this sample); the "structure" ratio runs the same paths
with every operation turned into ``keep`` and isolates walking and dispatch.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import msgspec

from bench.sanitize.reference import reference_sanitize
from hub.events.catalog import EVENT_TYPES
from hub.sanitize.compiler import compile_rules
from hub.sanitize.ops import DROP, KEEP, Op, Pseudonymizer
from hub.sanitize.policy import rules_text
from hub.sanitize.registry import default_policies
from hub.sanitize.shapes import shape_of

TARGET_RATE = 150_000
TARGET_RATIO = 5.0


def _rate(fn: Any, seconds: float) -> float:
    """Events per second of ``fn()`` over about ``seconds``, in batches of 1000."""
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(1000):
            fn()
        n += 1000
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and contender")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    event = EVENT_TYPES["lead.created"]
    # What ingest holds after validating an event: the Struct (the compiled
    # policy's input) and its JSON form (what the reference walks).
    typed = msgspec.convert(event.sample, event.data_type)
    data = msgspec.to_builtins(typed)
    policy = default_policies().compiled("lead.created")
    assert policy is not None
    key = bytes(range(32))
    pz = Pseudonymizer(key)
    rules = rules_text(policy.rules)

    compiled_out = msgspec.to_builtins(policy.sanitize(typed, pz))
    reference_out = reference_sanitize(data, rules, key)
    assert compiled_out == reference_out, (compiled_out, reference_out)

    keep_all = {p: Op(KEEP) if op.name != DROP else op for p, op in policy.rules.items()}
    structure = compile_rules(keep_all, shape_of(event.data_type)).sanitize
    keep_rules = rules_text(keep_all)
    assert msgspec.to_builtins(structure(typed, pz)) == reference_sanitize(data, keep_rules, key)

    sanitize = policy.sanitize
    contenders = {
        "compiled": lambda: sanitize(typed, pz),
        "reference": lambda: reference_sanitize(data, rules, key),
        "compiled_structure": lambda: structure(typed, pz),
        "reference_structure": lambda: reference_sanitize(data, keep_rules, key),
    }
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            best[name] = max(best[name], _rate(fn, args.seconds))
    ratio = best["compiled"] / best["reference"]
    structure_ratio = best["compiled_structure"] / best["reference_structure"]
    ok = best["compiled"] >= TARGET_RATE and ratio >= TARGET_RATIO
    print(
        f"sanitize lead.created: compiled {best['compiled']:,.0f} events/s "
        f"(target {TARGET_RATE:,}), reference {best['reference']:,.0f} events/s, "
        f"ratio {ratio:.2f}x (target {TARGET_RATIO:.0f}x); structure only (every op keep): "
        f"{best['compiled_structure']:,.0f} vs {best['reference_structure']:,.0f} events/s, "
        f"ratio {structure_ratio:.2f}x -> {'PASS' if ok else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
