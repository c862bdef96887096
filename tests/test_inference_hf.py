"""The transformers backend on a real tiny Nemotron-H: dynamic batching changes speed, not answers."""

from __future__ import annotations

import pytest

from reasonlab.inference.base import FINISH_LENGTH, FINISH_STOP, GenerationSettings, generate_all
from reasonlab.inference.prompts import prompt_ids, puzzle_requests
from reasonlab.puzzles.types import Puzzle

PUZZLES = [
    Puzzle(
        f"p{i}", "In Alice's Wonderland, a secret rule applies. " + "Example 0101 -> 1010. " * (i % 5), "1"
    )
    for i in range(7)
]


@pytest.fixture(scope="module")
def backends(tiny_model_dir):
    from reasonlab.inference.hf import HfBackend

    return {
        "one-at-a-time": HfBackend(tiny_model_dir, device="cpu", max_batch_size=1, refill_tokens=None),
        "static": HfBackend(tiny_model_dir, device="cpu", max_batch_size=4, refill_tokens=None),
        "dynamic": HfBackend(tiny_model_dir, device="cpu", max_batch_size=3, refill_tokens=5),
    }


def test_batching_modes_give_identical_greedy_completions(backends):
    settings = GenerationSettings(max_tokens=12)
    requests = puzzle_requests(PUZZLES)
    results = {name: generate_all(b, requests, settings) for name, b in backends.items()}
    reference = results["one-at-a-time"]
    assert set(reference) == {p.id for p in PUZZLES}
    for name, result in results.items():
        assert {i: c.text for i, c in result.items()} == {i: c.text for i, c in reference.items()}, name
        assert {i: c.completion_tokens for i, c in result.items()} == {
            i: c.completion_tokens for i, c in reference.items()
        }


def test_counts_and_finish_reasons_are_consistent(backends, tiny_tokenizer):
    settings = GenerationSettings(max_tokens=10)
    requests = puzzle_requests(PUZZLES)
    for request in requests:
        completion = generate_all(backends["dynamic"], [request], settings)[request.id]
        assert completion.prompt_tokens == len(prompt_ids(tiny_tokenizer, request, enable_thinking=True))
        assert completion.finish_reason in (FINISH_STOP, FINISH_LENGTH)
        if completion.finish_reason == FINISH_LENGTH:
            assert completion.completion_tokens == 10
        else:
            assert completion.completion_tokens <= 10
        assert completion.seconds > 0


def test_completions_arrive_one_by_one(backends):
    stream = backends["dynamic"].generate(puzzle_requests(PUZZLES), GenerationSettings(max_tokens=6))
    first = next(stream)
    assert first.id in {p.id for p in PUZZLES}
    assert len(list(stream)) == len(PUZZLES) - 1


def test_peft_adapter_changes_the_completions_it_is_loaded_for(tiny_llama_adapter):
    from reasonlab.inference.hf import HfBackend
    from reasonlab.models.tiny import tiny_model

    base = tiny_model("llama")
    requests = puzzle_requests(PUZZLES[:3])
    settings = GenerationSettings(max_tokens=8)
    plain = generate_all(HfBackend(base, device="cpu"), requests, settings)
    adapted = generate_all(HfBackend(base, device="cpu", adapter=tiny_llama_adapter), requests, settings)
    again = generate_all(HfBackend(base, device="cpu", adapter=tiny_llama_adapter), requests, settings)
    assert {i: c.text for i, c in adapted.items()} == {i: c.text for i, c in again.items()}
    assert any(adapted[i].text != plain[i].text for i in plain)
