"""The quickstart's figure over seeds, thread counts and CPU kernels: held-out accuracy, spread, minutes.

    python benchmarks/bench_quickstart.py --seeds 0 1 2 3 4 --threads 1 2 --kernels avx2 default
    python benchmarks/bench_quickstart.py --seeds 0 --repeat 2     # bit-level reproducibility of a seed

Each run is ``reasonlab run seed=S --out OUT/<kernel>-t<threads>/seed-S[-rR]`` in its own process, since
``OMP_NUM_THREADS`` and ``ATEN_CPU_CAPABILITY`` (``avx2``; ``default``: whatever the CPU has, AVX-512 here)
are read when torch starts. A run directory that already holds ``experiment.json`` is read, not run again,
so the matrix can be run a few runs at a time. The load average is recorded around every run, as the
timings of a shared machine mean little without it.

Target: >= 90% held-out accuracy on every run; the same seed on the same kernel gives identical weights
and completions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from reasonlab.jsonl import read_jsonl
from reasonlab.runs.experiment import SUMMARY_FILE

TARGET = 0.90
# Files whose bytes must repeat exactly for a seed on a kernel: trained weights and both evaluations.
REPRODUCED = (
    "train/full/model/model.safetensors",
    "train/lora/adapter/adapter_model.safetensors",
    "eval/baseline/completions.jsonl",
    "eval/trained/completions.jsonl",
)


@dataclass(frozen=True)
class Run:
    kernel: str
    threads: int
    seed: int
    repeat: int

    @property
    def name(self) -> str:
        suffix = f"-r{self.repeat}" if self.repeat else ""
        return f"{self.kernel}-t{self.threads}/seed-{self.seed}{suffix}"


def run_environment(kernel: str, threads: int) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env.pop("ATEN_CPU_CAPABILITY", None)
    if kernel != "default":
        env["ATEN_CPU_CAPABILITY"] = kernel
    return env


def kernel_in_use(kernel: str) -> str:
    """What torch dispatches to under this setting, as torch itself reports it."""
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    env = run_environment(kernel, 1)
    return subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True
    ).stdout.strip()


def run_once(run: Run, out: Path, extra: list[str]) -> dict:
    directory = out / run.name
    summary = directory / SUMMARY_FILE
    load_before = os.getloadavg()
    if not summary.is_file():
        env = run_environment(run.kernel, run.threads)
        command = [
            sys.executable,
            "-m",
            "reasonlab",
            "run",
            f"seed={run.seed}",
            *extra,
            "--out",
            str(directory),
        ]
        directory.parent.mkdir(parents=True, exist_ok=True)
        with open(directory.parent / f"{directory.name}.log", "w") as log:
            subprocess.run(command, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
        loads = {"load_before": load_before, "load_after": os.getloadavg()}
        (directory / "bench-load.json").write_text(json.dumps(loads))
    result = json.loads(summary.read_text())
    load_file = directory / "bench-load.json"
    result.update(json.loads(load_file.read_text()) if load_file.is_file() else {})
    result["fingerprint"] = {name: digest(directory / name) for name in REPRODUCED}
    return result


def digest(path: Path) -> str | None:
    """Weights byte for byte; completions as (id, text) pairs, as their records also hold timings."""
    if not path.is_file():
        return None
    if path.suffix == ".jsonl":
        pairs = sorted((row["id"], row["completion"]) for _, row in read_jsonl(path))
        return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--kernels", nargs="+", default=["default"], help="avx2, avx512 or default")
    parser.add_argument("--repeat", type=int, default=1, help="Runs per setting (2: check reproducibility).")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-quickstart"))
    parser.add_argument(
        "--report", action="store_true", help="Only tabulate the runs already done; run nothing."
    )
    parser.add_argument("overrides", nargs="*", help="key=value overrides passed to reasonlab run")
    args = parser.parse_args()
    runs = [
        Run(kernel, threads, seed, repeat)
        for kernel in args.kernels
        for threads in args.threads
        for seed in args.seeds
        for repeat in range(args.repeat)
    ]
    results: dict[Run, dict] = {}
    for run in runs:
        if args.report and not (args.out / run.name / SUMMARY_FILE).is_file():
            continue
        results[run] = result = run_once(run, args.out, args.overrides)
        print(
            f"{run.name}: untrained {result['accuracy_before']:.0%} -> trained {result['accuracy_after']:.0%}, "
            f"{result['seconds'] / 60:.1f} min, load {fmt_load(result.get('load_before'))} -> "
            f"{fmt_load(result.get('load_after'))}",
            flush=True,
        )
    for kernel in args.kernels:
        print(f"kernel {kernel}: torch uses {kernel_in_use(kernel)}")
    print_table(results, args.seeds)
    print_reproducibility(results)
    trained = [r["accuracy_after"] for run, r in results.items() if run.repeat == 0]
    print(
        f"all {len(trained)} settings x seeds: median {statistics.median(trained):.0%}, min {min(trained):.0%}, "
        f"max {max(trained):.0%}; {sum(a >= TARGET for a in trained)}/{len(trained)} at >= {TARGET:.0%}"
    )


def fmt_load(load) -> str:
    return "?" if load is None else f"{load[0]:.1f}"


def print_table(results: dict[Run, dict], seeds: list[int]) -> None:
    settings = sorted({(run.kernel, run.threads) for run in results})
    print()
    print(
        "| kernel | threads | "
        + " | ".join(f"seed {s}" for s in seeds)
        + " | median | min | max | minutes | load |"
    )
    print("|---|---|" + "---|" * len(seeds) + "---|---|---|---|---|")
    for kernel, threads in settings:
        mine = {
            run.seed: r
            for run, r in results.items()
            if (run.kernel, run.threads, run.repeat) == (kernel, threads, 0)
        }
        accuracies = [r["accuracy_after"] for r in mine.values()]
        minutes = statistics.median(r["seconds"] / 60 for r in mine.values())
        loads = [r["load_before"][0] for r in mine.values() if "load_before" in r]
        load = f"{statistics.median(loads):.1f}" if loads else "?"
        cells = " | ".join(f"{mine[s]['accuracy_after']:.0%}" if s in mine else "" for s in seeds)
        print(
            f"| {kernel} | {threads} | {cells} | {statistics.median(accuracies):.0%} | {min(accuracies):.0%} | "
            f"{max(accuracies):.0%} | {minutes:.1f} | {load} |"
        )
    print()


def print_reproducibility(results: dict[Run, dict]) -> None:
    """Same seed, same kernel: every repeat and every thread count against the first run."""
    groups: dict[tuple[str, int], list[tuple[Run, dict]]] = {}
    for run, result in results.items():
        groups.setdefault((run.kernel, run.seed), []).append((run, result))
    for _setting, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        (first, reference), *others = members
        for run, result in others:
            differ = [n for n in REPRODUCED if result["fingerprint"][n] != reference["fingerprint"][n]]
            verdict = "identical" if not differ else "differ in " + ", ".join(differ)
            print(f"{run.name} vs {first.name}: {verdict}")


if __name__ == "__main__":
    main()
