"""Token counts under a named tokenizer, and the grader's generation budget.

Every figure this module produces carries the tokenizer's name: lengths differ between tokenizers,
and the only one that matters in the end (Nemotron-3's) may not be at hand. Three sources:

- any Hugging Face tokenizer by path (a ``tokenizer.json`` or a directory with one, or anything
  ``AutoTokenizer`` loads offline);
- ``"tekken"``: the 131k-vocabulary tokenizer shipped inside the ``mistral-common`` wheel, converted
  once to a Hugging Face tokenizer and cached, for realistic figures without a model hub;
- :func:`train_byte_bpe`: a tiny byte-level BPE trained locally in seconds, for tests.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reasonlab.grader import MAX_TOKENS

#: The grader's ``max_tokens``: what the model may generate, thinking included.
TEKKEN = "tekken"
_TEKKEN_FILE = "tekken_240911.json"
#: ``reasonlab synth`` counts about one row in this many exactly, for its length table.
SYNTH_STATS_EVERY = 8
#: Tokenizer specs of a budget besides a path and ``tekken``: tekken when installed, and no budget.
AUTO_TOKENIZER, NO_TOKENIZER = "auto", "none"


@dataclass(frozen=True)
class TokenCounter:
    name: str
    tokenizer: object  # a ``tokenizers.Tokenizer``
    #: Every token spans at least one byte of the text, so a text's UTF-8 length bounds its token
    #: count (see :func:`is_byte_bounded`).
    byte_bounded: bool = False

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        # Counting needs no character offsets, which the fast variant skips (same ids, ~1.5x faster).
        return [len(e.ids) for e in self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)]

    def surely_within(self, texts: Sequence[str], budget: int) -> bool:
        """True when ``texts`` together certainly take at most ``budget`` tokens, without encoding them
        (False means "count them": only byte-bounded tokenizers give a bound)."""
        return self.byte_bounded and sum(len(text.encode()) for text in texts) <= budget


def is_byte_bounded(tokenizer) -> bool:
    """Whether no token of ``tokenizer`` (a ``tokenizers.Tokenizer``) can cover less than one byte of
    the input: a byte-level BPE (tekken, GPT-2 style, Nemotron-3's) with no normalizer that could grow the
    text and no prefix space added to it. Then ``len(text.encode())`` bounds the count; for any other
    tokenizer every text is counted."""
    if tokenizer.normalizer is not None or tokenizer.pre_tokenizer is None:
        return False
    if json.loads(tokenizer.model.__getstate__()).get("type") != "BPE":
        return False
    byte_levels = list(
        _pre_tokenizers_of_type(json.loads(tokenizer.pre_tokenizer.__getstate__()), "ByteLevel")
    )
    return bool(byte_levels) and not any(p.get("add_prefix_space") for p in byte_levels)


def _pre_tokenizers_of_type(state: dict, kind: str) -> Iterable[dict]:
    if state.get("type") == kind:
        yield state
    for inner in state.get("pretokenizers") or ():
        yield from _pre_tokenizers_of_type(inner, kind)


@dataclass(frozen=True)
class TokenBudget:
    """The budget a row's chat turns must fit together: ``budget`` tokens under ``tokenizer`` (a
    :func:`load_counter` spec), the prompt's tokens included.

    Every row is held to the budget. A row is encoded when its byte length cannot prove that it fits,
    and when it is one of the rows sampled for statistics: about one in ``stats_every``, chosen by id,
    so that the sample does not depend on the order or the number of workers. ``stats_every=1``
    counts every row.
    """

    tokenizer: str
    budget: int = MAX_TOKENS
    stats_every: int = 1

    def sampled(self, row_id: str) -> bool:
        return self.stats_every <= 1 or zlib.crc32(row_id.encode()) % self.stats_every == 0


@cache
def token_budget(
    spec: str, budget: int, stats_every: int = 1, on_missing: Callable[[str], None] = lambda why: None
) -> TokenBudget | None:
    """The budget rows will be held to, its tokenizer loaded here, once, so that a bad spec fails before
    any work (``ValueError`` naming it). None for ``none``, and for ``auto`` without tekken (after telling
    ``on_missing`` why)."""
    if spec == NO_TOKENIZER:
        return None
    if spec == AUTO_TOKENIZER:
        try:
            load_counter(TEKKEN)
        except RuntimeError as exc:
            on_missing(f"no token counts, so no budget check: {exc}")
            return None
        return TokenBudget(TEKKEN, budget, stats_every)
    try:
        load_counter(spec)
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        raise ValueError(f"cannot load tokenizer {spec!r}: {exc}") from None
    return TokenBudget(spec, budget, stats_every)


def cached_counter(spec: str) -> TokenCounter:
    """One :func:`load_counter` per process (worker processes count tokens next to the tracing)."""
    return load_counter(spec)


def load_counter(spec: str | Path) -> TokenCounter:
    """A counter for ``spec``: ``"tekken"`` or a path to a Hugging Face tokenizer."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise RuntimeError(
            f"token counts need the tokenizers package: pip install 'reasonlab[synth]' ({exc})"
        ) from exc

    if str(spec) == TEKKEN:
        return _counter(
            "tekken (mistral-common 131k, converted)", Tokenizer.from_file(str(tekken_tokenizer_file()))
        )
    path = Path(spec)
    file = path / "tokenizer.json" if path.is_dir() else path
    if file.is_file() and file.suffix == ".json":
        return _counter(str(path), Tokenizer.from_file(str(file)))
    if not path.exists():
        raise FileNotFoundError(
            f"no tokenizer at {path} (give a tokenizer.json, a directory with one, or {TEKKEN!r})"
        )
    from transformers import AutoTokenizer

    return _counter(str(path), AutoTokenizer.from_pretrained(str(path)).backend_tokenizer)


def _counter(name: str, tokenizer) -> TokenCounter:
    return TokenCounter(name, tokenizer, is_byte_bounded(tokenizer))


def _cache_dir() -> Path:
    return Path(os.environ.get("REASONLAB_CACHE", Path.home() / ".cache" / "reasonlab"))


def tekken_tokenizer_file(cache_dir: Path | None = None) -> Path:
    """``tokenizer.json`` of mistral-common's tekken tokenizer, converted offline on first use."""
    target = (cache_dir or _cache_dir()) / "tekken" / "tokenizer.json"
    if target.is_file():
        return target
    try:
        import mistral_common
        from transformers.integrations.mistral import convert_tekken_tokenizer
    except ImportError as exc:
        raise RuntimeError(
            f"the tekken tokenizer needs mistral-common and transformers ({exc}): pip install 'reasonlab[synth]'"
        ) from exc

    source = Path(mistral_common.__file__).parent / "data" / _TEKKEN_FILE
    tokenizer = convert_tekken_tokenizer(str(source), chat_template="")
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.backend_tokenizer.save(str(target))
    return target


def train_byte_bpe(
    texts: Iterable[str], vocab_size: int = 1000, name: str = "byte-bpe (test)"
) -> TokenCounter:
    """A byte-level BPE trained on ``texts`` in a few seconds: realistic splitting, tiny vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer)
    return _counter(name, tokenizer)
