"""Equations on the development data: accuracy per subtype, statuses, unanswerable rows, speed.

    python benchmarks/bench_equation.py [--csv PATH] [--generated N] [--seed S]

Solves and traces every equation row in one process and grades with the grader's own comparison
(reasonlab.grader.verify). "Unanswerable" rows are those whose gold answer uses a character
that appears nowhere in the prompt (a digit symbol never shown): no solver can write them.
``--generated N`` also measures generator -> solver agreement on N generated deducible puzzles;
``--cross-validate`` the accuracy with priors learned on the other half of the rows (the shipped
priors are learned on all of dev.csv, so the main table is in-sample for them).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from reasonlab.grader import extract, verify
from reasonlab.puzzles.families.equation import FAMILY, learn_priors
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.types import Status

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def unanswerable(instance, prompt: str, gold: str) -> bool:
    """A symbolic row whose gold answer uses a symbol that the prompt never shows."""
    return not instance.numeric and bool(set(gold) - set(prompt.split("\n", 1)[1]))


def bench_dev(path: Path) -> None:
    puzzles = [p for p in read_puzzles(path).puzzles if FAMILY.matches(p.prompt)]
    hits: dict[str, list[bool]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    unwritable: Counter = Counter()
    seconds: list[float] = []
    trace_chars: dict[str, list[int]] = defaultdict(list)
    start = time.perf_counter()
    FAMILY.prepare()
    prepare_seconds = time.perf_counter() - start
    cpu0 = time.process_time()
    for puzzle in puzzles:
        start = time.perf_counter()
        instance = FAMILY.parse(puzzle.prompt)
        solution = FAMILY.solve(instance)
        seconds.append(time.perf_counter() - start)
        subtype = FAMILY.subtype(instance)
        ok = solution.answer is not None and verify(puzzle.answer, solution.answer)
        hits[subtype].append(ok)
        statuses[subtype][f"{solution.status.value}{'+' if ok else '-'}"] += 1
        unwritable[subtype] += unanswerable(instance, puzzle.prompt, puzzle.answer)
        if ok:
            text = FAMILY.trace(instance, solution)
            if text is not None:
                if FAMILY.replay(instance, text) != extract(text) or not verify(puzzle.answer, extract(text)):
                    raise SystemExit(f"trace of {puzzle.id} does not replay to its answer")
                trace_chars[subtype].append(len(text))
    cpu = time.process_time() - cpu0
    print(f"{path.name}: {len(puzzles)} equation puzzles")
    print(
        f"{'subtype':16} {'rows':>5} {'correct':>8} {'accuracy':>8} {'unanswerable':>12}  statuses (+ right, - wrong)"
    )
    for subtype in sorted(hits):
        h = hits[subtype]
        status_text = ", ".join(f"{k} {v}" for k, v in sorted(statuses[subtype].items()))
        print(
            f"{subtype:16} {len(h):5d} {sum(h):8d} {sum(h) / len(h):8.4f} {unwritable[subtype]:12d}  {status_text}"
        )
    total = sum(sum(h) for h in hits.values())
    print(f"all equations: {total}/{len(puzzles)} = {total / len(puzzles):.4f}")
    for subtype, chars in sorted(trace_chars.items()):
        ordered = sorted(chars)
        print(
            f"proven traces {subtype}: {len(chars)}, characters median {statistics.median(chars):.0f}, "
            f"p95 {ordered[int(0.95 * (len(ordered) - 1))]}, max {ordered[-1]}"
        )
    print(
        f"seconds per puzzle: median {statistics.median(seconds):.4f}, mean {statistics.mean(seconds):.4f}, "
        f"max {max(seconds):.3f}; total {sum(seconds):.1f} s, CPU (with traces) {cpu:.1f} s; "
        f"signature index built once per process in {prepare_seconds:.2f} s"
    )


def bench_generated(count: int, seed: int) -> None:
    rng = random.Random(seed)
    for subtype in ("numeric-deduce", "symbolic-deduce"):
        solved = agreed = right = 0
        for _ in range(count):
            puzzle = FAMILY.generate(rng, subtype=subtype)
            solution = FAMILY.solve(FAMILY.parse(puzzle.prompt))
            ok = solution.answer is not None and verify(puzzle.answer, solution.answer)
            right += ok
            if solution.status is Status.SOLVED:
                solved += 1
                agreed += ok
        print(
            f"generated {subtype}: {count} puzzles, solver right on {right} ({right / count:.3f}); "
            f"unambiguous {solved}, of which the generator's answer {agreed} ({agreed / max(solved, 1):.4f})"
        )


def cross_validate(path: Path) -> None:
    """Priors learned on one half of the rows (split by a hash of the id), scored on the other half."""
    puzzles = [p for p in read_puzzles(path).puzzles if FAMILY.matches(p.prompt)]

    def fold(puzzle) -> int:
        return int(hashlib.sha256(puzzle.id.encode()).hexdigest(), 16) % 2

    hits: dict[str, list[bool]] = defaultdict(list)
    for held_out in (0, 1):
        priors = learn_priors(p for p in puzzles if fold(p) != held_out)
        for puzzle in (p for p in puzzles if fold(p) == held_out):
            instance = FAMILY.parse(puzzle.prompt)
            answer = FAMILY.solve(instance, priors).answer
            hits[FAMILY.subtype(instance)].append(answer is not None and verify(puzzle.answer, answer))
    print("2-fold cross-validation of the priors (learned on one half, scored on the other):")
    for subtype, h in sorted(hits.items()):
        print(f"  {subtype:16} {sum(h):4d}/{len(h):4d} = {sum(h) / len(h):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--generated", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cross-validate", action="store_true", help="out-of-sample accuracy of the priors")
    args = parser.parse_args()
    bench_dev(args.csv)
    if args.generated:
        bench_generated(args.generated, args.seed)
    if args.cross_validate:
        cross_validate(args.csv)


if __name__ == "__main__":
    main()
