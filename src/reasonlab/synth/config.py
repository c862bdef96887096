"""``reasonlab synth``'s settings as one validated config: YAML, ``key=value`` overrides or the options.

    reasonlab synth synth.yaml n=5000 mix.bit=0.3 knobs.gravity.n_examples=5
    reasonlab synth --n 5000 --out train.jsonl --mix bit=0.3,gravity=1 --knob gravity.n_examples=5

Both forms fill :class:`SynthConfig` through :func:`reasonlab.runs.config.load_config`; an option given
on the command line wins over the file and the overrides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, NonNegativeFloat, field_validator

from reasonlab.grader import MAX_TOKENS
from reasonlab.puzzles.families import family_names
from reasonlab.puzzles.trace_style import DEFAULT_STYLE, trace_styles
from reasonlab.synth.generate import check_knob
from reasonlab.synth.records import PUZZLE_FORMATS, RECORD_FORMATS
from reasonlab.synth.tokens import AUTO_TOKENIZER, SYNTH_STATS_EVERY


def _known_family(name: str) -> str:
    if name not in family_names():  # the built-ins and plugins' families
        raise ValueError(f"no family {name!r}; families: {', '.join(family_names())}")
    return name


def _known_families(mix: dict[str, float] | None) -> dict[str, float] | None:
    for name in mix or {}:
        _known_family(name)
    return mix


def _known_knobs(knobs: dict[str, dict[str, int | float]]) -> dict[str, dict[str, int | float]]:
    for family, settings in knobs.items():
        for knob in settings:
            check_knob(_known_family(family), knob)
    return knobs


#: Family weights of a mixture (None: every family alike), each family known (built-in or a plugin's).
FamilyMix = Annotated[dict[str, NonNegativeFloat] | None, AfterValidator(_known_families)]
#: Generator settings by family, each knob one its family's generator takes.
FamilyKnobs = Annotated[dict[str, dict[str, int | float]], AfterValidator(_known_knobs)]


class TracingSettings(BaseModel):
    """What ``synth`` and ``traces`` share: how traces are made and held to the token budget."""

    model_config = ConfigDict(extra="forbid")

    style: str = Field(DEFAULT_STYLE, description="Trace style: stepwise, compact or a plugin's.")
    workers: int = Field(0, ge=0, description="Worker processes (0: every core).")
    tokenizer: str = Field(
        AUTO_TOKENIZER,
        description="Tokenizer for the budget: a Hugging Face path, 'tekken', 'auto' (tekken if installed) or 'none'.",
    )
    budget: int = Field(MAX_TOKENS, ge=1, description="Generation budget in tokens.")
    timeout_per_puzzle: float = Field(5.0, gt=0, description="Seconds before a puzzle is given up.")

    @field_validator("style")
    @classmethod
    def _known_style(cls, style: str) -> str:
        if style not in trace_styles():  # a plugin may add a style
            raise ValueError(f"must be one of {', '.join(trace_styles())}, not {style!r}")
        return style


class TracesConfig(TracingSettings):
    """``reasonlab traces``: SFT records for the labelled rows of ``input`` with a proven trace."""

    input: Path = Field(description="Labelled competition CSV (id,prompt,answer).")
    out: Path = Field(description="FILE.jsonl or FILE.parquet of SFT records.")

    @field_validator("out")
    @classmethod
    def _records_format(cls, out: Path) -> Path:
        if out.suffix not in RECORD_FORMATS:
            raise ValueError(f"must end in {' or '.join(RECORD_FORMATS)}, not {out.name!r}")
        return out


class SynthConfig(TracingSettings):
    """``reasonlab synth``: generated puzzles, each with a proven trace for SFT outputs."""

    n: int = Field(ge=1, description="How many rows to write.")
    out: Path = Field(
        description="FILE.csv (puzzles: id,prompt,answer) or FILE.jsonl / FILE.parquet (SFT records)."
    )
    seed: int = Field(0, description="Same seed, same rows, whatever the number of workers or machines.")
    mix: FamilyMix = Field(
        None, description="Family weights, e.g. {bit: 0.3, gravity: 1} (default: every family alike)."
    )
    knobs: FamilyKnobs = Field(
        {}, description="Generator settings by family, e.g. {gravity: {n_examples: 5}}."
    )
    drills: int = Field(0, ge=0, description="Drill records written before the traces (SFT outputs).")
    ray: str | None = Field(
        None,
        description="Fan the chunks out over Ray instead of local processes: 'local', 'auto' or ray://host:port.",
    )
    stats_every: int = Field(SYNTH_STATS_EVERY, ge=1, description="Count the tokens of about one row in N.")
    avoid: list[Path] | None = Field(
        None, description="CSVs whose prompts are never emitted (default: the development set, if present)."
    )
    verify_with_solver: bool = Field(
        False,
        description="Compact style: keep a puzzle only when the solver's vote is the generator's answer.",
    )

    @field_validator("out")
    @classmethod
    def _known_format(cls, out: Path) -> Path:
        if out.suffix not in RECORD_FORMATS + PUZZLE_FORMATS:
            raise ValueError(f"must end in {', '.join(RECORD_FORMATS + PUZZLE_FORMATS)}, not {out.name!r}")
        return out

    @property
    def records(self) -> bool:
        """SFT records (traced, proven) rather than bare puzzles."""
        return self.out.suffix in RECORD_FORMATS


def mix_overrides(text: str) -> list[str]:
    """``--mix bit=0.3,gravity=1`` as the overrides ``mix.bit=0.3 mix.gravity=1``."""
    return [f"mix.{item.strip()}" for item in text.split(",") if item.strip()]


def knob_overrides(items: list[str]) -> list[str]:
    """``--knob gravity.n_examples=5`` as the override ``knobs.gravity.n_examples=5``."""
    return [f"knobs.{item.strip()}" for item in items]
