"""Local AI scorer throughput: answers scored per second on this machine, warm cache.

Run with `.venv/bin/python bench/bench_ai_local.py`. See bench/AI_LOCAL.md for the method and
the last results.

Answers: the 36 correct answers of tests/providers/ai/answer_sets.json (12 languages x 3
questions, 54-106 words) and the same 36 followed by the partial answer (70-137 words): 72
realistic answers of 55-140 words. Each configuration runs in its own process, because OpenMP
reads OMP_NUM_THREADS once when the engine loads:

* omp = threads the e5 engine uses inside one call (1 or 2);
* workers = Python threads calling the scorer at once (1 or 2) - the provider runs every call
  in asyncio.to_thread, so concurrent interviews score in parallel like this.

Each process warms the cache (one pass: expected answers, question texts, anchors, concept
contexts), then scores all answers `--rounds` times and reports answers/s and the latency per
answer. It also checks that every timed result equals the warm-up result (the embedder is
called from several threads; the scores must not change).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "tests" / "providers" / "ai" / "answer_sets.json"
CONFIGS = ((1, 1), (2, 1), (1, 2), (2, 2))


def _items() -> list[Any]:
    sys.path.insert(0, str(ROOT))
    from server.domain.ai import AnswerToScore
    from server.domain.models import Difficulty, KeyConcept, Question, QuestionType

    data = json.loads(SETS.read_text("utf-8"))
    questions = {}
    for raw in data["questions"]:
        langs = list(raw["text"])
        questions[raw["id"]] = Question(
            id=raw["id"],
            type=QuestionType.TECHNICAL,
            difficulty=Difficulty(raw["difficulty"]),
            texts=dict(raw["text"]),
            expected_answer=raw["expected_answer"][langs[0]],
            expected_answers={lang: raw["expected_answer"][lang] for lang in langs[1:]},
            concepts=tuple(
                KeyConcept(c["name"], {k: tuple(v) for k, v in c["terms"].items()})
                for c in raw["concepts"]
            ),
        )
    items = []
    for answer in data["answers"]:
        question, lang = questions[answer["question"]], answer["language"]
        items.append(AnswerToScore(question, lang, answer["correct"]))
        items.append(AnswerToScore(question, lang, answer["correct"] + " " + answer["partial"]))
    return items


def run_one(omp: int, workers: int, rounds: int) -> dict[str, Any]:
    """One configuration, in this process (OMP_NUM_THREADS is already set by the parent)."""
    from server.providers.ai.embeddings import Embedder
    from server.providers.ai.scoring import Scorer
    from server.providers.ai.textmatch import length_units

    items = _items()
    scorer = Scorer(Embedder(num_threads=omp))
    started = time.perf_counter()
    warm = [scorer.score(item) for item in items]
    cold_s = time.perf_counter() - started
    latencies: list[float] = []

    def timed(item: Any) -> Any:
        t0 = time.perf_counter()
        result = scorer.score(item)
        latencies.append(time.perf_counter() - t0)
        return result

    work = items * rounds
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(timed, work))
    elapsed = time.perf_counter() - started
    same = all(r == warm[i % len(items)] for i, r in enumerate(results))
    words = [length_units(i.answer_text, i.language) for i in items]
    latencies.sort()
    return {
        "omp_threads": omp,
        "workers": workers,
        "answers": len(work),
        "words_min": min(words),
        "words_max": max(words),
        "cold_pass_answers_per_s": round(len(items) / cold_s, 1),
        "answers_per_s": round(len(work) / elapsed, 1),
        "latency_p50_ms": round(1000 * statistics.median(latencies), 1),
        "latency_p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
        "results_identical": same,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the answers")
    parser.add_argument(
        "--child", nargs=2, type=int, metavar=("OMP", "WORKERS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], args.child[1], args.rounds)))
        return 0
    rows = []
    load_before = os.getloadavg()[0]
    for omp, workers in CONFIGS:
        env = {**os.environ, "OMP_NUM_THREADS": str(omp)}
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--rounds",
                str(args.rounds),
                "--child",
                str(omp),
                str(workers),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print(
        f"cores: {os.cpu_count()}  answers: {rows[0]['answers']} per run "
        f"({rows[0]['words_min']:.0f}-{rows[0]['words_max']:.0f} words, 12 languages)"
    )
    header = (
        f"{'omp':>3} {'workers':>7} {'answers/s':>10} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'cold answers/s':>15} {'identical':>9}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['omp_threads']:>3} {r['workers']:>7} {r['answers_per_s']:>10} "
            f"{r['latency_p50_ms']:>7} {r['latency_p95_ms']:>7} "
            f"{r['cold_pass_answers_per_s']:>15} {r['results_identical']!s:>9}"
        )
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ai_local.json").write_text(json.dumps(rows, indent=1))
    return 0 if all(r["results_identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
