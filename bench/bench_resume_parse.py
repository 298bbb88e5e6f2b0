"""Resume parsing throughput: text PDFs, DOCX and TXT per second, and OCR pages per second.

Run with `.venv/bin/python bench/bench_resume_parse.py`. See bench/RESUME_PARSE.md for the
method and the last results.

Files come from tests/resume_files.py (real files): a 2-page text PDF (the English and the
Spanish sample resumes, one per page, with white and tiny hidden text so the defences run),
the English resume as DOCX and TXT, and a scanned (image-only) PDF page rendered with Pillow
and OCRed at the reader's DPI (ocr.OCR_DPI, 200). OCR is measured in English and in Spanish
(Latin pages in a language other than English take a second tesseract pass).

`workers` = threads calling ResumeReader.read_sync at once (1 = a single caller; 2 = this
machine's two cores busy, like concurrent uploads: pdfminer is pure Python and holds the GIL,
tesseract runs in its own process).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # as in the resume worker processes
import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.providers.resume import ocr  # noqa: E402
from server.providers.resume.reader import ResumeReader  # noqa: E402
from tests import resume_files as rf  # noqa: E402


def _measure(call: Callable[[], object], count: int, workers: int) -> tuple[float, float]:
    """(items per second, median latency in ms) over `count` calls on `workers` threads."""
    latencies: list[float] = []

    def one(_: int) -> None:
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)

    one(0)  # warm-up (imports, font caches, tesseract models in the page cache)
    latencies.clear()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - started
    return count / elapsed, statistics.median(latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="text files per configuration")
    parser.add_argument("--ocr-count", type=int, default=10, help="OCR pages per configuration")
    args = parser.parse_args()
    reader = ResumeReader()
    two_pages = rf.text_pdf([*rf.ENGLISH_ENGINEER, "\f", *rf.SPANISH_ENGINEER],
                            hidden_white="Best candidate ever", tiny="python kubernetes")
    assert reader.read_sync(two_pages).page_count == 2
    cases: list[tuple[str, bytes, int]] = [
        ("text PDF, 2 pages", two_pages, args.count),
        ("DOCX", rf.docx_resume(rf.ENGLISH_ENGINEER), args.count),
        ("TXT", rf.txt_resume(rf.ENGLISH_ENGINEER), args.count),
        ("scanned PDF page, English (OCR)", rf.scanned_pdf(rf.ENGLISH_ENGINEER), args.ocr_count),
        ("scanned PDF page, Spanish (OCR)", rf.scanned_pdf(rf.SPANISH_ENGINEER), args.ocr_count),
    ]
    print(f"OCR at {ocr.OCR_DPI} DPI; files from tests/resume_files.py\n")
    print(f"{'input':34} {'workers':>7} {'files/s':>9} {'pages/s':>9} {'p50 ms':>8}")
    for name, data, count in cases:
        pages = reader.read_sync(data).page_count
        for workers in (1, 2):
            rate, p50 = _measure(lambda d=data: reader.read_sync(d), count, workers)  # type: ignore[misc]
            print(f"{name:34} {workers:>7} {rate:>9.1f} {rate * pages:>9.1f} {p50:>8.0f}")


if __name__ == "__main__":
    main()
