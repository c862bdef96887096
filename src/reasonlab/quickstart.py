"""The embedded default: the whole loop, tiny, on CPU, in a few minutes.

1. synthesise puzzles of one easy family (Roman numerals) with proven traces (``reasonlab.synth``), and a
   held-out set from another seed with no prompt in common;
2. evaluate the untrained tiny model on the held-out set through the eval harness (hf backend);
3. train it: every weight first (it starts from random), then a LoRA on top, both through ``run_sft``;
4. evaluate the trained model with its adapter the same way;
5. pack the adapter into submission.zip and check it against the tiny model's own architecture.

The default ``trace: places`` is a thought the tiny model can execute line by line (:func:`place_trace`):
restate the query as the prompt words it (``the number 61``), one line per decimal place (``60 = LX``,
``1 = I``), then the numeral. Each line is a copy of text just above or a lookup in a 9 x 3 table, and
restating the query in the prompt's own tokens lets the model find it by matching them. A thought that
converts at once (``trace: restate``, ``61 -> LXI``) reached only 21-25% on seed 0: the model converted
well but often the wrong number, and whether it learned the copy hung on CPU kernels. The loss is on the thought and answer only (``completion_only_loss: true``), so every step
trains the skill that is measured. ``trace: answer`` leaves the thought empty; ``trace: full`` uses the
synthesised step-by-step trace (longer sequences, slower on CPU). The default model is the tiny
llama-style one (0.14M parameters), which learns this in minutes on CPU; ``model.name_or_path:
tiny:nemotron-h`` runs the same loop on a tiny Nemotron-H (Mamba layers are several times slower on CPU,
and without rotary attention it needs more steps).

Each stage writes into its own subdirectory and is skipped when its output is already there, so an
interrupted quickstart continues where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from reasonlab.training.config import LoraSpec, ModelSpec, SFTConfig, SFTSpec, Strict, TrackingSpec


class QuickstartConfig(Strict):
    name: str = "quickstart"
    output_root: str = "runs"
    seed: int = 0
    family: str = Field(
        "numeral", description="An easy family; trace: places and restate need the numeral family's query."
    )
    train_puzzles: int = Field(3000, ge=1)
    eval_puzzles: int = Field(100, ge=1)
    trace: Literal["places", "restate", "answer", "full"] = "places"
    model: ModelSpec = ModelSpec(name_or_path="tiny:llama")
    full_training: SFTSpec = SFTSpec(
        max_steps=400,
        batch_size=16,
        learning_rate=3e-3,
        lr_scheduler="constant_with_warmup",
        warmup_ratio=0.05,
        max_length=512,
        completion_only_loss=True,
        logging_steps=20,
        save_steps=100,
    )
    lora: LoraSpec = LoraSpec(r=8, alpha=16, targets=["q_proj", "k_proj", "v_proj", "o_proj"])
    lora_training: SFTSpec = SFTSpec(
        max_steps=30, batch_size=16, learning_rate=1e-3, max_length=512, logging_steps=10, save_steps=30
    )
    max_new_tokens: int = Field(64, ge=1, description="Generation budget of the two evaluations.")
    tracking: TrackingSpec = TrackingSpec(mlflow=False)


def load_quickstart_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> QuickstartConfig:
    """The defaults, then ``path``, then ``key=value`` overrides, merged field by field: an override of
    ``full_training.max_steps`` keeps the rest of the default ``full_training``."""
    from reasonlab.runs.config import load_config

    return load_config(QuickstartConfig, path, overrides, defaults=QuickstartConfig().model_dump())


@dataclass(frozen=True)
class QuickstartResult:
    run_dir: Path
    accuracy_before: float
    accuracy_after: float
    submission: Path
    seconds: float

    @property
    def gain(self) -> float:
        return self.accuracy_after - self.accuracy_before


def place_trace(number: int) -> str:
    """The query restated, one line per decimal place, then the numeral.

    61 -> "the number 61 / 60 = LX / 1 = I / LXI". The first line repeats the prompt's own words and
    tokens (``the number 61``), so the model finds the query by matching them; each place line copies a
    digit from the line above and looks its part up in a table of 9 digits x 3 places; the last line
    joins the parts. A zero place keeps its line (``0 = -``), so the shape depends only on the number of
    digits.
    """
    from reasonlab.puzzles.families.numeral import to_roman

    digits = str(number)
    lines = [f"the number {digits}"]
    parts = []
    for index, digit in enumerate(digits):
        value = digit + "0" * (len(digits) - 1 - index)
        part = to_roman(int(value)) if digit != "0" else ""
        lines.append(f"{value} = {part or '-'}")
        parts.append(part)
    lines.append("".join(parts))
    return "\n".join(lines)


def thought(config: QuickstartConfig, traced) -> str:
    if config.trace == "full":
        return traced.trace
    if config.trace == "answer":
        return ""
    from reasonlab.puzzles.families import get_family

    query = get_family(traced.family).parse(traced.puzzle.prompt).query
    if config.trace == "places":
        return place_trace(query)
    return f"{query} -> {traced.traced_answer}"


def make_data(config: QuickstartConfig, directory: Path) -> tuple[Path, Path]:
    """train.jsonl (SFT records) and heldout.csv (id,prompt,answer), seeded, no shared prompt."""
    from reasonlab.puzzles.types import Puzzle
    from reasonlab.synth.generate import Mixture, iter_traced
    from reasonlab.synth.records import assistant_text, sft_record, write_puzzles_csv, write_records

    train_path, heldout_path = directory / "train.jsonl", directory / "heldout.csv"
    if train_path.is_file() and heldout_path.is_file():
        return train_path, heldout_path
    mixture = Mixture.resolve({config.family: 1.0})
    records, seen = [], set()
    for traced in iter_traced(config.seed, mixture, workers=1):
        if len(records) == config.train_puzzles:
            break
        if traced.trace is None:
            continue
        record = sft_record(traced)
        record["messages"][-1]["content"] = assistant_text(thought(config, traced), traced.traced_answer)
        records.append(record)
        seen.add(traced.puzzle.prompt)
    heldout: list[Puzzle] = []
    for traced in iter_traced(config.seed + 1_000_003, mixture, workers=1, traced=False):
        if len(heldout) == config.eval_puzzles:
            break
        if traced.puzzle.prompt not in seen:
            heldout.append(traced.puzzle)
            seen.add(traced.puzzle.prompt)
    directory.mkdir(parents=True, exist_ok=True)
    write_records(records, train_path)
    write_puzzles_csv(heldout, heldout_path)
    return train_path, heldout_path


def evaluate(config: QuickstartConfig, model: str, adapter: str | None, heldout: Path, out: Path) -> float:
    from reasonlab.inference.factory import BackendConfig
    from reasonlab.runs.evaluate import DataConfig, EvalConfig, GenerationConfig, run_eval

    eval_config = EvalConfig(
        seed=config.seed,
        data=DataConfig(path=str(heldout)),
        backend=BackendConfig(kind="hf", model=model, adapter=adapter, max_batch_size=config.eval_puzzles),
        generation=GenerationConfig(max_tokens=config.max_new_tokens),
        report=False,
    )
    return float(run_eval(eval_config, out).metrics["overall"]["accuracy"])


def sft_stage(
    config: QuickstartConfig, model: str, lora: LoraSpec, train: SFTSpec, data: Path, out: Path
) -> Path:
    """Train through the one SFT code path; reuse the stage's output if it is already there."""
    from reasonlab.training.base import ADAPTER, MODEL
    from reasonlab.training.sft import run_sft

    done = out / (ADAPTER if lora.enabled else MODEL)
    if (done / ("adapter_config.json" if lora.enabled else "config.json")).is_file():
        return done
    sft_config = SFTConfig(
        name=out.name,
        output_root=config.output_root,
        seed=config.seed,
        model=config.model.model_copy(update={"name_or_path": model}),
        lora=lora,
        data={"train": [str(data)]},
        train=train,
        tracking=config.tracking,
    )
    return run_sft(sft_config, out, resume=(out / "checkpoints").is_dir()).output


def run_quickstart(
    config: QuickstartConfig, run_dir: Path, on_stage: Callable[[str], None] = lambda stage: None
) -> QuickstartResult:
    from reasonlab.submission.architecture import load_architecture
    from reasonlab.submission.pack import pack_adapter
    from reasonlab.training.modeling import resolve_model_path

    start = time.perf_counter()
    run_dir = Path(run_dir)
    on_stage(f"synthesising {config.train_puzzles} + {config.eval_puzzles} {config.family} puzzles")
    train_data, heldout = make_data(config, run_dir / "data")
    base = resolve_model_path(config.model.name_or_path, config.seed)
    on_stage("evaluating the untrained model")
    before = evaluate(config, base, None, heldout, run_dir / "eval-before")
    on_stage("training every weight of the tiny model")
    trained = sft_stage(
        config, base, LoraSpec(enabled=False), config.full_training, train_data, run_dir / "sft-full"
    )
    on_stage("training a LoRA adapter on top")
    adapter = sft_stage(
        config, str(trained), config.lora, config.lora_training, train_data, run_dir / "sft-lora"
    )
    on_stage("evaluating the trained model with its adapter")
    after = evaluate(config, str(trained), str(adapter), heldout, run_dir / "eval-after")
    on_stage("packing and checking submission.zip")
    packed = pack_adapter(adapter, run_dir / "submission.zip", load_architecture(trained))
    result = QuickstartResult(run_dir, before, after, packed.path, time.perf_counter() - start)
    (run_dir / "quickstart.json").write_text(
        json.dumps(
            {
                "accuracy_before": before,
                "accuracy_after": after,
                "gain": result.gain,
                "heldout_puzzles": config.eval_puzzles,
                "submission": str(packed.path),
                "seconds": round(result.seconds, 1),
            },
            indent=2,
        )
    )
    return result
