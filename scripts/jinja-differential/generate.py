#!/usr/bin/env python3
"""
Differential corpus for src/jinja: renders every template below with real Jinja2 (3.1.6), set
up as dbt-core sets up its environment, and writes the outputs (or the error raised) to
test/jinja/differential/fixture.json. test/jinja/differential.test.ts renders the same
templates with our engine and compares; it needs no Python at run time.

Run by hand after changing the corpus:  python3 scripts/jinja-differential/generate.py

A held-out corpus (not committed): random templates only, with another seed and count, written
elsewhere, e.g.  python3 scripts/jinja-differential/generate.py --seed 7 --count 3000 --no-hand --out /tmp/h7.json
then compare with  node dist/scripts/jinja-differential/heldout.js /tmp/h7.json

dbt's environment (dbt_common/clients/jinja.py get_environment): a SandboxedEnvironment
subclass, extensions jinja2.ext.do and jinja2.ext.loopcontrols, dbt's text-mode as_* filters,
default Undefined when rendering (its capturing Undefined is used only while parsing).
"""
import argparse
import copy
import json
import random
import re
import sys
import warnings
from pathlib import Path

import jinja2
import jinja2.sandbox

from corpus import CONTEXT, hand_written
import randomgen
import randomwide

SEED = 20261203
RANDOM_COUNT = 400
# A sample of randomwide.py's wider templates too, with its own seed.
WIDE_SEED = 20261204
WIDE_COUNT = 250
OUT = Path(__file__).resolve().parents[2] / "test" / "jinja" / "differential" / "fixture.json"
# Values Jinja2 prints with a memory address cannot be reproduced; such templates are dropped.
ADDRESS = re.compile(r"0x[0-9a-f]{6,}", re.I)  # upper-cased by a filter too


def environment():
    env = jinja2.sandbox.SandboxedEnvironment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    for name in ("as_text", "as_bool", "as_native", "as_number"):
        env.filters[name] = lambda x: x
    return env


def render(env, src):
    # The kind of an error is when it happens: "syntax" while Jinja2 parses and compiles the
    # template (TemplateSyntaxError, unknown filters, Python's SyntaxError for a `break` outside
    # a loop), "runtime" while it renders.
    try:
        tpl = env.from_string(src)
    except Exception as e:
        return {"error": {"kind": "syntax", "type": type(e).__name__, "message": str(e)}}
    try:
        return {"out": tpl.render(copy.deepcopy(CONTEXT))}  # templates may mutate it
    except Exception as e:  # every error class is part of the expectation
        return {"error": {"kind": "runtime", "type": type(e).__name__, "message": str(e)}}


def arguments():
    ap = argparse.ArgumentParser(description="render the differential corpus with Jinja2")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the random templates")
    ap.add_argument("--count", type=int, default=RANDOM_COUNT, help="how many random templates")
    ap.add_argument("--wide", action="store_true", help="use randomwide.py's wider vocabulary")
    ap.add_argument("--no-hand", action="store_true", help="random templates only (a held-out corpus)")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the fixture")
    return ap.parse_args()


def main():
    if jinja2.__version__ != "3.1.6":
        sys.exit(f"expected Jinja2 3.1.6, found {jinja2.__version__}")
    args = arguments()
    warnings.simplefilter("ignore", SyntaxWarning)  # Python's own compile of Jinja2's code, e.g. `1[0]`
    sys.setrecursionlimit(1000)  # Python's default: where Jinja2's RecursionError comes from
    env = environment()
    cases = []
    dropped = 0
    rng = random.Random(args.seed)
    hand = [] if args.no_hand else [("h", s) for s in hand_written()]
    corpus = hand + [("r", s) for s in (randomwide if args.wide else randomgen).random_templates(rng, args.count)]
    if not args.no_hand:
        corpus += [("w", s) for s in randomwide.random_templates(random.Random(WIDE_SEED), WIDE_COUNT)]
    seen = set()
    for prefix, src in corpus:
        # JSON cannot carry an int past 2**53 into the JS side's context, so `big` is set inline.
        if re.search(r"\bbig\b", src):
            src = "{% set big = 9007199254740993 %}" + src
        if src in seen:
            continue
        seen.add(src)
        result = render(env, src)
        text = result.get("out") or result.get("error", {}).get("message", "")
        if ADDRESS.search(text):
            dropped += 1
            continue
        cases.append({"id": f"{prefix}{len(cases):04d}", "src": src, **result})
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "generator": "scripts/jinja-differential/generate.py",
        "jinja2": jinja2.__version__,
        "seed": args.seed,
        "context": CONTEXT,
        "cases": cases,
    }
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    hand = sum(1 for c in cases if c["id"][0] == "h")
    print(f"{len(cases)} cases ({hand} hand-written, {len(cases) - hand} random), {dropped} dropped for memory addresses -> {out}")


if __name__ == "__main__":
    main()
