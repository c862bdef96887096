"""reasonlab experts: router hooks on a tiny Nemotron-H find a planted expert; a random router is balanced."""

from __future__ import annotations

import json
import re

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from typer.testing import CliRunner  # noqa: E402

from reasonlab.analysis.experts import (  # noqa: E402
    TOKEN_CLASSES,
    RouterRecorder,
    load_rows,
    route,
    token_classes,
)
from reasonlab.analysis.experts_metrics import suggest_targets, summarise  # noqa: E402
from reasonlab.cli.main import app  # noqa: E402
from reasonlab.prompting import grader_messages  # noqa: E402
from reasonlab.puzzles.trace_style import StepKind  # noqa: E402
from reasonlab.submission.architecture import Architecture  # noqa: E402

MOE_LAYER = 1  # the tiny Nemotron-H is ME*E


@pytest.fixture(scope="module")
def puzzles_csv(tmp_path_factory):
    """60 generated puzzles of every family, in the competition's CSV format."""
    from reasonlab.synth.generate import Mixture, generate_one
    from reasonlab.synth.records import write_puzzles_csv

    mixture = Mixture.resolve()
    path = tmp_path_factory.mktemp("puzzles") / "puzzles.csv"
    write_puzzles_csv((generate_one(0, i, mixture)[1] for i in range(60)), path)
    return path


@pytest.fixture(scope="module")
def rows(puzzles_csv):
    return load_rows(puzzles_csv)


@pytest.fixture()
def tiny(tiny_model_dir, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval(), tiny_tokenizer


def test_token_classes_follow_the_characters(tiny_tokenizer):
    text = "<think>\nIn Alice's Wonderland, 01011010 -> 7 and %|*\"| = 42\n</think>"
    encoded = tiny_tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    classes = token_classes(text, encoded["offset_mapping"])

    def classes_of(fragment: str) -> set[str]:
        """The classes of the tokens that cover ``fragment``'s characters."""
        begin = text.index(fragment)
        return {
            TOKEN_CLASSES[c]
            for (a, b), c in zip(encoded["offset_mapping"], classes, strict=True)
            if a < begin + len(fragment) and b > begin and text[a:b].strip()
        }

    assert classes_of("<think>") == classes_of("</think>") == {"think"}
    assert classes_of("Wonderland") == {"letters"}
    assert classes_of("01011010") == {"binary"}
    assert classes_of("42") == classes_of("7") == {"digits"}
    assert classes_of('%|*"|') == {"glyphs"}
    assert classes_of("'s") <= {"punctuation", "letters"}


def test_random_router_has_normalised_entropy_near_one(tiny, rows):
    model, tokenizer = tiny
    torch.manual_seed(0)
    for layer in RouterRecorder(model).routers.values():
        layer.weight.data.normal_(0, 1)
    summary = summarise(route(model, tokenizer, rows))
    assert summary["tokens"] > 5000
    assert min(summary["all"]["entropy"]) > 0.95
    assert sum(summary["all"]["load"][0]) == pytest.approx(1.0, abs=1e-4)


def router_inputs(model, tokenizer, rows, layer):
    """Each row's router inputs at ``layer`` (the hidden states the router scores), by family."""
    captured = []
    router = RouterRecorder(model).routers[layer]
    handle = router.register_forward_hook(
        lambda module, args, output: captured.append(args[0].reshape(-1, args[0].shape[-1]))
    )
    by_family: dict[str, list] = {}
    with torch.inference_mode():
        for row in rows:
            model(**tokenizer(row.text, return_tensors="pt", add_special_tokens=False), use_cache=False)
            by_family.setdefault(row.family, []).append(captured.pop())
    handle.remove()
    return {family: torch.cat(states) for family, states in by_family.items()}


def test_a_planted_family_expert_is_found(tiny, rows):
    model, tokenizer = tiny
    before = route(model, tokenizer, rows)
    family = "bit"
    usual = suggest_targets(before, [family], 1).experts[MOE_LAYER][0]
    planted = (usual + 2) % before.experts
    # Plant: expert `planted` scores the family's linear discriminant (LDA) of the router inputs, and its
    # correction bias sets the threshold that 5% of the other families' tokens pass.
    states = router_inputs(model, tokenizer, rows, MOE_LAYER)
    inside = states[family]
    outside = torch.cat([s for f, s in states.items() if f != family])
    centred = torch.cat([inside - inside.mean(0), outside - outside.mean(0)])
    covariance = torch.cov(centred.T) + 1e-3 * torch.eye(centred.shape[1])
    direction = torch.linalg.solve(covariance, inside.mean(0) - outside.mean(0))
    threshold = float(torch.quantile(outside @ direction, 0.95))
    scale = 20.0 / float((outside @ direction).std())
    router = RouterRecorder(model).routers[MOE_LAYER]
    with torch.no_grad():
        router.weight.zero_()
        router.weight[planted] = scale * direction
        router.e_score_correction_bias.zero_()
        router.e_score_correction_bias[planted] = 0.5 - torch.sigmoid(torch.tensor(scale * threshold))
    after = route(model, tokenizer, rows)
    suggestion = suggest_targets(after, [family], 1)
    assert suggestion.experts[MOE_LAYER] == [planted]
    summary = summarise(after)
    position = after.layers.index(MOE_LAYER)
    load = {f: g["load"][position][planted] for f, g in summary["groups"]["family"].items()}
    assert summary["groups"]["family"][family]["specificity"][position][planted] > 1.5
    assert all(load[family] > 2 * load[f] for f in load if f != family), load


def test_suggested_targets_are_modules_of_the_grader_layout(tiny, rows, tiny_model_dir):
    model, tokenizer = tiny
    counts = route(model, tokenizer, rows[:12])
    suggestion = suggest_targets(counts, counts.groups["family"][:2], 2)
    arch = Architecture.from_file(tiny_model_dir / "config.json")
    assert all(arch.lookup(m).shape is not None for m in suggestion.modules), suggestion.modules
    assert len(suggestion.modules) == 2 * 2 * len(counts.layers)
    pattern = re.compile(suggestion.targets)
    for layer, experts in suggestion.experts.items():
        for expert in range(counts.experts):
            name = f"backbone.layers.{layer}.mixer.experts.{expert}.up_proj"
            assert bool(pattern.fullmatch(name)) == (expert in experts)
    assert pattern.fullmatch("backbone.layers.2.mixer.q_proj")  # the preset's other parts are kept
    with pytest.raises(ValueError, match="no tokens of family"):
        suggest_targets(counts, ["chess"], 1)
    with pytest.raises(ValueError, match="unknown preset"):
        suggest_targets(counts, counts.groups["family"][:1], 1, preset="attention-ish")


def test_step_kinds_of_sft_records(tiny, tmp_path):
    model, tokenizer = tiny
    records = tmp_path / "sft.jsonl"
    assistant = "<think>\ncopy 5\nfree text\ncopy 17\n</think>\nThe answer is \\boxed{17}."
    records.write_text(
        json.dumps(
            {
                "id": "a",
                "family": "bit",
                "messages": [*grader_messages("Copy."), {"role": "assistant", "content": assistant}],
            }
        )
        + "\n"
    )
    kinds = (StepKind("copy", re.compile(r"copy (?P<c_value>\d+)"), "copies a value"),)
    rows = load_rows(records, step_kinds=lambda family: kinds)
    assert [kind for *_, kind in rows[0].steps] == ["bit/copy", "bit/copy"]
    counts = route(model, tokenizer, rows)
    assert counts.groups["step_kind"] == ["bit/copy"]
    assert 2 <= counts.tokens["step_kind"][0] < counts.tokens["family"][0]


def test_adapter_drift(tiny_model_dir, tiny_tokenizer, rows, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    def fresh():
        return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)

    few = rows[:8]
    for name, init in (("zero", True), ("random", False)):
        config = LoraConfig(r=4, target_modules=["in_proj", "q_proj"], init_lora_weights=init)
        get_peft_model(fresh(), config).save_pretrained(tmp_path / name)
    same = summarise(route(fresh(), tiny_tokenizer, few, adapter=tmp_path / "zero"))["drift"]
    assert same["topk_jaccard"] == [1.0, 1.0]  # an adapter that changes nothing moves no token
    changed = summarise(route(fresh(), tiny_tokenizer, few, adapter=tmp_path / "random"))["drift"]
    assert min(changed["topk_jaccard"]) < 0.99
    assert set(changed["by_family"]) == {r.family for r in few}


def test_cli_writes_json_and_report(tmp_path, puzzles_csv):
    out = tmp_path / "experts"
    result = CliRunner().invoke(
        app,
        [
            "experts",
            "tiny:nemotron-h",
            "--data",
            str(puzzles_csv),
            "--limit",
            "12",
            "--out",
            str(out),
            "--suggest-targets",
            "1",
            "--families",
            "cipher,equation",
            "--preset",
            "none",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "experts.json").read_text())
    assert summary["rows"] == 12 and summary["experts"] == 4 and summary["top_k"] == 2
    suggested = summary["suggested_targets"]
    assert suggested["lora"]["layout"] == "per-expert" and suggested["families"] == ["cipher", "equation"]
    assert "q_proj" not in suggested["lora"]["targets"]  # --preset none: the experts only
    page = (out / "report.html").read_text()
    assert page.count("data:image/svg+xml;base64,") == 3
    assert {p.name for p in out.glob("*.svg")} == {
        "family-load.svg",
        "family-pairs.svg",
        "token-class-load.svg",
    }
