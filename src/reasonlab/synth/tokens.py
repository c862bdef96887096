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

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The grader's ``max_tokens``: what the model may generate, thinking included.
GENERATION_BUDGET = 7680
TEKKEN = "tekken"
_TEKKEN_FILE = "tekken_240911.json"


@dataclass(frozen=True)
class TokenCounter:
    name: str
    tokenizer: object  # a ``tokenizers.Tokenizer``

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        # Counting needs no character offsets, which the fast variant skips (same ids, ~1.5x faster).
        return [len(e.ids) for e in self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)]


def trace_budget(prompt_tokens: int, budget: int = GENERATION_BUDGET) -> int:
    """Tokens the assistant turn may use: the budget minus the prompt's tokens."""
    return budget - prompt_tokens


@cache
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
        return TokenCounter(
            "tekken (mistral-common 131k, converted)", Tokenizer.from_file(str(tekken_tokenizer_file()))
        )
    path = Path(spec)
    file = path / "tokenizer.json" if path.is_dir() else path
    if file.is_file() and file.suffix == ".json":
        return TokenCounter(str(path), Tokenizer.from_file(str(file)))
    if not path.exists():
        raise FileNotFoundError(
            f"no tokenizer at {path} (give a tokenizer.json, a directory with one, or {TEKKEN!r})"
        )
    from transformers import AutoTokenizer

    return TokenCounter(str(path), AutoTokenizer.from_pretrained(str(path)).backend_tokenizer)


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
    return TokenCounter(name, tokenizer)
