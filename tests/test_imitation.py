"""Imitation metrics: teacher-forced scores against hand-computed log-probabilities, the per-trace metrics
and their step kinds, and `reasonlab eval` on SFT records."""

from __future__ import annotations

import math
import re

import pytest

from reasonlab.inference.base import TokenScore
from reasonlab.prompting import reference_continuation
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.runs.imitation import LOW_LOGPROB, group_imitation, line_classifier, trace_imitation
from reasonlab.scoring.rows import EvalRow


def test_trace_imitation_counts_low_tokens_first_divergence_and_step_kinds():
    reference = "a = 1\nb = 2\ndone"
    # tokens: "a", " = 1", "\n", "b", " = 2", "\n", "done"
    spans = [(0, 1), (1, 5), (5, 6), (6, 7), (7, 11), (11, 12), (12, 16)]
    logprobs = [-0.1, -0.2, -0.01, -0.9, -2.0, -0.05, -0.3]
    agrees = [True, True, True, False, False, True, True]
    tokens = [
        TokenScore(s, e, lp, ok, "?" if not ok else reference[s:e])
        for (s, e), lp, ok in zip(spans, logprobs, agrees, strict=True)
    ]
    assign = StepKind("assign", re.compile(r"(?P<name>\w) = (?P<value>\d)"), "names a value")
    result = trace_imitation(tokens, reference, line_classifier([assign]))
    assert result["tokens"] == 7
    assert result["min_logprob"] == -2.0 and result["min_token"] == " = 2"
    assert result["low_tokens"] == sum(lp < math.log(0.5) for lp in logprobs) == 2
    assert result["agreement"] == pytest.approx(5 / 7)
    first = result["first_divergence"]
    assert (first["position"], first["line"], first["step_kind"]) == (3, 1, "assign")
    assert first["before"] == "a = 1\n" and first["expected"] == "b" and first["predicted"] == "?"
    # "\n" after a line belongs to that line; "done" matches no kind.
    assert result["by_step_kind"]["assign"]["tokens"] == 6
    assert result["by_step_kind"]["other"] == {"tokens": 1, "agree": 1, "low_tokens": 0, "min_logprob": -0.3}
    rows = [
        EvalRow("r0", "wonderland", "puzzles", "1", "1", True, imitation=result, perfect=False),
        EvalRow(
            "r1",
            "wonderland",
            "puzzles",
            "1",
            "1",
            True,
            imitation={**result, "first_divergence": None},
            perfect=True,
        ),
    ]
    summary = group_imitation(rows)
    assert summary["perfect_trace_rate"] == 0.5 and summary["teacher_forced_perfect_rate"] == 0.5
    assert summary["median_first_divergence"] == 3
    assert summary["by_step_kind"]["assign"]["agreement"] == pytest.approx(4 / 6)
    assert math.isclose(LOW_LOGPROB, -0.693147, abs_tol=1e-6)
    assert reference_continuation("<think>\nx\n</think>\nok") == "x\n</think>\nok"


def test_hf_teacher_forcing_matches_hand_computed_log_probs(tiny_model_dir):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from reasonlab.inference.base import GenerationSettings, Request
    from reasonlab.inference.hf import HfBackend
    from reasonlab.inference.prompts import prompt_ids
    from reasonlab.prompting import grader_messages

    requests = [
        Request("short", grader_messages("Write 7.")),
        Request("long", grader_messages("In Alice's Wonderland, 12 becomes XII. Now write 31.")),
    ]
    references = ["the number is 7\n</think>\n\\boxed{7}", "XXXI\n</think>\nThe answer is \\boxed{XXXI}."]
    settings = GenerationSettings()
    backend = HfBackend(tiny_model_dir, device="cpu", max_batch_size=2)
    scores = {s.id: s for s in backend.score_references(requests, references, settings)}

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    for request, reference in zip(requests, references, strict=True):
        prompt = prompt_ids(tokenizer, request, enable_thinking=True)
        target = tokenizer(reference, add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([prompt + target]), use_cache=False).logits[0]
        expected = []
        for offset, token in enumerate(target):  # one token at a time, by hand
            row = logits[len(prompt) - 1 + offset].double()
            log_z = torch.logsumexp(row, dim=0)
            expected.append((float(row[token] - log_z), int(row.argmax()) == token))
        got = scores[request.id].tokens
        assert len(got) == len(target)
        for score, (logprob, agrees) in zip(got, expected, strict=True):
            assert score.logprob == pytest.approx(logprob, abs=1e-4)
            assert score.agrees == agrees
        assert "".join(reference[t.start : t.end] for t in got) == reference


def test_eval_on_sft_records_reports_imitation(tmp_path, tiny_model_dir):
    pytest.importorskip("torch")
    from reasonlab.runs.evaluate import load_eval_config, run_eval
    from reasonlab.synth.generate import Mixture, iter_traced
    from reasonlab.synth.records import sft_record, write_records

    records = []
    for traced in iter_traced(3, Mixture.resolve({"numeral": 1, "unit": 1}), workers=1):
        if traced.trace is not None:
            records.append(sft_record(traced))
        if len(records) == 6:
            break
    path = tmp_path / "records.jsonl"
    write_records(records, path)
    config = load_eval_config(
        None,
        [
            f"data.path={path}",
            f"backend.model={tiny_model_dir}",
            "generation.max_tokens=24",
        ],
    )
    result = run_eval(config, tmp_path / "run")
    imitation = result.metrics["imitation"]
    assert imitation["overall"]["teacher_forced_rows"] == 6
    assert imitation["overall"]["perfect_trace_rate"] == 0.0  # 24 tokens cannot hold a whole trace
    assert set(imitation["by_family"]) == {r["family"] for r in records}
    assert 0.0 <= imitation["overall"]["token_agreement"] <= 1.0
    assert imitation["overall"]["median_min_logprob"] < 0
    lines = (tmp_path / "run" / "imitation.jsonl").read_text().splitlines()
    assert len(lines) == 6
    card = result.metrics["scorecard"]
    for family, group in card["by_family"].items():
        assert group["solver_ceiling"] == 1.0  # numeral and unit: the solvers answer every row
        assert group["gap"] == pytest.approx(1.0 - group["accuracy"])
        assert group["token_agreement"] == imitation["by_family"][family]["token_agreement"]
    assert card["overall"]["leaderboard_spread"]["draw_rows"] == 250
    wrong = [f for f in card["failures"] if f.get("divergence")]
    assert wrong and all(f["divergence"]["expected"] for f in wrong)
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Scorecard" in page and "<mark class='expected'>" in page
    # A rerun reuses the stored scores and completions.
    again = run_eval(config, tmp_path / "run")
    assert again.generated_rows == 0 and again.metrics["imitation"] == imitation


def test_leaderboard_spread_matches_the_binomial_sd():
    from reasonlab.runs.scorecard import leaderboard_spread

    correct = [True] * 800 + [False] * 200
    spread = leaderboard_spread(correct, size=250, draws=4000, seed=1)
    assert spread["mean"] == pytest.approx(0.8, abs=0.005)
    assert spread["sd"] == pytest.approx(math.sqrt(0.8 * 0.2 / 250), rel=0.1)
    assert spread["ci95"][0] < 0.8 < spread["ci95"][1]
