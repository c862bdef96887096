"""MoE routing statistics: which experts the routers of a Nemotron-H model choose, for which tokens.

Forward hooks on the routers (transformers' ``NemotronHTopkRouter``: not a Linear layer, its output is the
tuple (logits, top-k weights, top-k expert ids)) record each token's top-k experts in every MoE layer,
teacher-forced on the rows' text: the grader's prompt for puzzles (CSV), the whole conversation for SFT
records. The counts are aggregated per layer and

- per family (the records' ``family``, else the puzzle classifier's);
- per token class (:data:`TOKEN_CLASSES`), from the characters each token covers;
- per trace step kind, for records whose family has a registered ``stepwise`` tracer: each line of the
  assistant turn that fullmatches one of the tracer's step kinds lends that kind to the tokens on it.

With an adapter, the same tokens also go through the adapted model, and the drift is the top-k Jaccard
similarity of each token's two expert sets, per layer. :mod:`reasonlab.analysis.experts_metrics` turns
the counts into loads, entropies, divergences and target suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from reasonlab.prompting import grader_messages, render_chat
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.trace_style import StepKind, get_tracer

UNKNOWN_FAMILY = "unknown"
TOKEN_CLASSES = ("space", "letters", "digits", "binary", "glyphs", "punctuation", "markup", "think")
# Applied in order over a text's characters, each overwriting the ones before where it matches.
_CLASS_PATTERNS = (
    ("letters", re.compile(r"[A-Za-z]")),
    ("digits", re.compile(r"\d")),
    ("binary", re.compile(r"(?<![0-9A-Za-z])[01]{8}(?![0-9A-Za-z])")),  # the bit puzzles' 8-bit words
    ("markup", re.compile(r"<\|[a-z_]+\|>")),  # chat template tokens
    ("think", re.compile(r"</?think>")),
)
_WORD = re.compile(r"\S+")
_SYMBOL = re.compile(r"[^A-Za-z0-9\s]")
_LAYER = re.compile(r"layers\.(\d+)\.")
_CLASS_ID = {name: i for i, name in enumerate(TOKEN_CLASSES)}

StepKinds = Callable[[str], Sequence[StepKind]]


class ExpertsError(ValueError):
    pass


def char_classes(text: str) -> bytearray:
    """The token class id of every character. A symbol is a Wonderland glyph when its word has no letter
    (``%|*"|``, ``=``, ``->``), punctuation when it does (``Alice's``, ``examples:``)."""
    labels = bytearray(len(text))  # 0: space
    for word in _WORD.finditer(text):
        kind = _CLASS_ID["punctuation" if re.search("[A-Za-z]", word.group()) else "glyphs"]
        for symbol in _SYMBOL.finditer(word.group()):
            labels[word.start() + symbol.start()] = kind
    for name, pattern in _CLASS_PATTERNS:
        for match in pattern.finditer(text):
            labels[match.start() : match.end()] = bytes([_CLASS_ID[name]]) * (match.end() - match.start())
    return labels


def token_classes(text: str, offsets: Iterable[tuple[int, int]]) -> list[int]:
    """Each token's class: the class of the first non-space character it covers (space if none)."""
    labels = char_classes(text)
    classes = []
    for start, end in offsets:
        span = labels[start:end]
        classes.append(next((c for c in span if c), 0))
    return classes


def stepwise_step_kinds(family: str) -> Sequence[StepKind]:
    """The step kinds of the family's stepwise tracer; none while no such tracer is registered."""
    try:
        return get_tracer(family, "stepwise").step_kinds
    except (KeyError, ModuleNotFoundError):
        return ()


@dataclass(frozen=True)
class RoutedText:
    """One row as the model reads it, with the character spans of its trace steps."""

    id: str
    family: str
    text: str
    steps: tuple[tuple[int, int, str], ...] = ()  # (start, end, "family/step kind")


def _family(prompt: str) -> str:
    try:
        return classify(prompt).family
    except ValueError:
        return UNKNOWN_FAMILY


def step_spans(
    text: str, start: int, family: str, kinds: Sequence[StepKind]
) -> tuple[tuple[int, int, str], ...]:
    """Spans of the lines of ``text[start:]`` that fullmatch one of ``kinds`` (stripped, as the audit reads)."""
    if not kinds:
        return ()
    spans = []
    position = start
    for line in text[start:].splitlines(keepends=True):
        stripped = line.strip()
        kind = next((k for k in kinds if stripped and k.pattern.fullmatch(stripped)), None)
        if kind is not None:
            spans.append((position, position + len(line), f"{family}/{kind.name}"))
        position += len(line)
    return tuple(spans)


def load_rows(path: str | Path, *, limit: int | None = None, step_kinds: StepKinds = stepwise_step_kinds):
    """Puzzles (CSV: id,prompt,answer) or SFT records (JSONL/Parquet with messages) as routed texts."""
    path = Path(path)
    rows: list[RoutedText] = []
    if path.suffix == ".csv":
        from reasonlab.puzzles.io import read_puzzles

        for puzzle in read_puzzles(path).puzzles[:limit]:
            text = render_chat(grader_messages(puzzle.prompt))
            rows.append(RoutedText(puzzle.id, _family(puzzle.prompt), text))
        return rows
    from reasonlab.synth.records import read_records

    for number, record in enumerate(read_records(path)[:limit], 1):
        messages = record.get("messages")
        if not messages or messages[-1].get("role") != "assistant":
            raise ExpertsError(f"{path}, record {number}: needs messages ending in the assistant's turn")
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        family = record.get("family") or _family(user)
        text = render_chat(messages, add_generation_prompt=False)
        answer_start = text.rfind(messages[-1]["content"])
        steps = step_spans(text, answer_start, family, step_kinds(family)) if answer_start >= 0 else ()
        rows.append(RoutedText(str(record.get("id", number)), family, text, steps))
    return rows


class RouterRecorder:
    """Forward hooks on every Nemotron-H router: the last call's (top-k expert ids, weights) per layer."""

    def __init__(self, model: torch.nn.Module):
        from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHTopkRouter

        self.routers = {
            int(_LAYER.search(name).group(1)): module
            for name, module in model.named_modules()
            if isinstance(module, NemotronHTopkRouter)
        }
        if not self.routers:
            raise ExpertsError(f"{type(model).__name__} has no Nemotron-H MoE router (NemotronHTopkRouter)")
        self.layers = sorted(self.routers)
        first = self.routers[self.layers[0]]
        self.experts, self.top_k = first.num_experts, first.top_k
        self.outputs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._handles: list = []

    def _hook(self, layer: int):
        def record(module, args, output):
            _, weights, indices = output
            self.outputs[layer] = (indices.detach(), weights.detach())

        return record

    def __enter__(self) -> RouterRecorder:
        self._handles = [
            router.register_forward_hook(self._hook(layer)) for layer, router in self.routers.items()
        ]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def take(self, mask: torch.Tensor) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        """The recorded (expert ids, weights) of the tokens where ``mask`` is 1, in row order, on the CPU."""
        outputs, self.outputs = self.outputs, {}
        real = mask.flatten().bool()
        return {
            layer: (indices.cpu()[real], weights.cpu()[real]) for layer, (indices, weights) in outputs.items()
        }


@dataclass
class RoutingCounts:
    """Slot counts per (layer, group, expert) for each grouping, with the tokens counted per group."""

    model: str
    layers: list[int]
    experts: int
    top_k: int
    groups: dict[str, list[str]]  # axis -> group names: family, token_class, step_kind
    slots: dict[str, torch.Tensor] = field(default_factory=dict)  # axis -> (layers, groups, experts)
    weights: dict[str, torch.Tensor] = field(default_factory=dict)  # summed router weights, same shape
    tokens: dict[str, torch.Tensor] = field(default_factory=dict)  # axis -> (groups,)
    coactivation: torch.Tensor | None = None  # (layers, experts, experts): tokens that chose both
    drift: torch.Tensor | None = None  # (layers, families): summed top-k Jaccard, base vs adapter
    rows: int = 0

    def __post_init__(self):
        shape = (len(self.layers), self.experts)
        for axis, names in self.groups.items():
            self.slots[axis] = torch.zeros(shape[0], len(names), shape[1], dtype=torch.float64)
            self.weights[axis] = torch.zeros_like(self.slots[axis])
            self.tokens[axis] = torch.zeros(len(names), dtype=torch.float64)
        self.coactivation = torch.zeros(shape[0], self.experts, self.experts, dtype=torch.float64)

    def add(
        self, outputs: dict[int, tuple[torch.Tensor, torch.Tensor]], labels: dict[str, torch.Tensor]
    ) -> None:
        """Count one batch: ``outputs`` restricted to real tokens; ``labels[axis]`` the group id of each
        token, -1 for none (a token outside every trace step)."""
        for axis, ids in labels.items():
            self.tokens[axis] += torch.bincount(ids[ids >= 0], minlength=len(self.groups[axis]))
        for position, layer in enumerate(self.layers):
            indices, weights = outputs[layer]
            for axis, ids in labels.items():
                chosen = ids >= 0
                # One bin per (group, expert): a token's k choices land in its group's row.
                bins = (ids[chosen, None] * self.experts + indices[chosen]).flatten()
                size = len(self.groups[axis]) * self.experts
                self.slots[axis][position] += torch.bincount(bins, minlength=size).view(-1, self.experts)
                chosen_weights = weights[chosen].flatten().to(torch.float64)
                self.weights[axis][position] += torch.bincount(bins, chosen_weights, minlength=size).view(
                    -1, self.experts
                )
            onehot = torch.zeros(len(indices), self.experts).scatter_(1, indices, 1.0)
            self.coactivation[position] += (onehot.T @ onehot).to(torch.float64)

    def add_drift(self, base: dict, adapted: dict, families: torch.Tensor) -> None:
        if self.drift is None:
            self.drift = torch.zeros(len(self.layers), len(self.groups["family"]), dtype=torch.float64)
        for position, layer in enumerate(self.layers):
            a = torch.zeros(len(families), self.experts).scatter_(1, base[layer][0], 1.0)
            b = torch.zeros_like(a).scatter_(1, adapted[layer][0], 1.0)
            shared = (a * b).sum(1)
            jaccard = shared / (2 * self.top_k - shared)
            self.drift[position].index_add_(0, families, jaccard.to(torch.float64))


def _step_ids(row: RoutedText, offsets, step_index: dict[str, int]) -> list[int]:
    ids = []
    spans = iter(row.steps)
    span = next(spans, None)
    for start, end in offsets:
        while span is not None and span[1] <= start:
            span = next(spans, None)
        inside = span is not None and start >= span[0] and end <= span[1] and end > start
        ids.append(step_index[span[2]] if inside else -1)
    return ids


def group_names(rows: Sequence[RoutedText]) -> dict[str, list[str]]:
    """The groups the counts are kept for: families, token classes and (when any row has them) step kinds."""
    groups = {"family": sorted({r.family for r in rows}), "token_class": list(TOKEN_CLASSES)}
    steps = sorted({kind for r in rows for *_, kind in r.steps})
    if steps:
        groups["step_kind"] = steps
    return groups


@dataclass(frozen=True)
class Batch:
    ids: torch.Tensor  # (rows, width), right-padded
    mask: torch.Tensor  # 1 for real tokens
    labels: dict[str, torch.Tensor]  # axis -> each real token's group id (-1: none), in row order
    rows: int


def batches(
    tokenizer, rows: Sequence[RoutedText], groups: dict[str, list[str]], size: int
) -> Iterator[Batch]:
    """``rows`` tokenized, labelled and padded, ``size`` rows at a time, shortest first (little padding)."""
    encoded = tokenizer([r.text for r in rows], return_offsets_mapping=True, add_special_tokens=False)
    input_ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    family_index = {f: i for i, f in enumerate(groups["family"])}
    step_index = {s: i for i, s in enumerate(groups.get("step_kind", ()))}
    order = sorted(range(len(rows)), key=lambda i: len(input_ids[i]))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for begin in range(0, len(order), size):
        chunk = order[begin : begin + size]
        ids, mask = _padded([input_ids[i] for i in chunk], pad)
        labels = {
            "family": [[family_index[rows[i].family]] * len(input_ids[i]) for i in chunk],
            "token_class": [token_classes(rows[i].text, offsets[i]) for i in chunk],
        }
        if step_index:
            labels["step_kind"] = [_step_ids(rows[i], offsets[i], step_index) for i in chunk]
        real = mask.flatten().bool()
        flat = {axis: _padded(values, -1)[0].flatten()[real] for axis, values in labels.items()}
        yield Batch(ids, mask, flat, len(chunk))


def route(
    model,
    tokenizer,
    rows: Sequence[RoutedText],
    *,
    batch_size: int = 32,
    adapter: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    name: str = "",
) -> RoutingCounts:
    """Teacher-force ``rows`` through ``model`` and count the routers' choices (and the drift under
    ``adapter``, a PEFT adapter directory, which PEFT loads into ``model`` in place)."""
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    recorder = RouterRecorder(model)
    groups = group_names(rows)
    counts = RoutingCounts(name, recorder.layers, recorder.experts, recorder.top_k, groups)
    with recorder, torch.inference_mode():
        for batch in batches(tokenizer, rows, groups, batch_size):
            if adapter is not None:
                with model.disable_adapter():
                    base = routed(model, recorder, batch)
                counts.add_drift(base, routed(model, recorder, batch), batch.labels["family"])
            else:
                base = routed(model, recorder, batch)
            counts.add(base, batch.labels)
            counts.rows += batch.rows
            if progress:
                progress(batch.rows)
    return counts


def _padded(sequences: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (values, mask): a causal model's real tokens never see the pads after them."""
    width = max(map(len, sequences))
    values = torch.full((len(sequences), width), pad, dtype=torch.long)
    mask = torch.zeros_like(values)
    for row, sequence in enumerate(sequences):
        values[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
        mask[row, : len(sequence)] = 1
    return values, mask


def forward(model, batch: Batch) -> None:
    """The batch through the model, without the logits nobody reads (only the last position's)."""
    device = model.device
    model(
        input_ids=batch.ids.to(device),
        attention_mask=batch.mask.to(device),
        use_cache=False,
        logits_to_keep=1,
    )


def routed(model, recorder: RouterRecorder, batch: Batch) -> dict:
    """One forward pass; each MoE layer's (expert ids, weights) of the real tokens."""
    forward(model, batch)
    return recorder.take(batch.mask)
