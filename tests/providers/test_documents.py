"""Sniffing and text extraction of uploaded documents (server/providers/documents.py)."""

from __future__ import annotations

import pytest

from server.domain.errors import InvalidArgument
from server.providers import documents
from tests.documents import PNG, docx_file, pdf, zip_file


def reason_of(data: bytes) -> str:
    with pytest.raises(InvalidArgument) as err:
        documents.extract(data)
    return err.value.reason


def test_pdf_text_is_extracted() -> None:
    found = documents.extract(pdf("Senior Backend Engineer (Python)"))
    assert found.media_type == documents.PDF
    assert "Senior Backend Engineer (Python)" in found.text


def test_docx_text_is_extracted() -> None:
    found = documents.extract(docx_file("Data Scientist", "Pandas, SQL and statistics."))
    assert found.media_type == documents.DOCX
    assert found.text == "Data Scientist\nPandas, SQL and statistics."


def test_utf8_text_is_taken_as_is() -> None:
    found = documents.extract("\ufeffIngénieur logiciel — 東京\n".encode())
    assert found == documents.ExtractedDocument(documents.TEXT, "Ingénieur logiciel — 東京")


def test_type_comes_from_the_content_not_the_name() -> None:
    assert reason_of(PNG) == "UNSUPPORTED_FILE_TYPE"
    assert reason_of(b"plain\x00text with a NUL") == "UNSUPPORTED_FILE_TYPE"
    assert reason_of("latin-1 café".encode("latin-1")) == "UNSUPPORTED_FILE_TYPE"
    # A zip that is not a Word document (an xlsx, say).
    assert reason_of(zip_file({"xl/workbook.xml": b"<workbook/>"})) == "UNSUPPORTED_FILE_TYPE"


def test_damaged_files_are_unreadable() -> None:
    whole = pdf("Truncated")
    assert reason_of(whole[:40]) == "UNREADABLE_FILE"
    assert reason_of(b"%PDF-1.7\n" + b"garbage " * 100) == "UNREADABLE_FILE"
    assert reason_of(zip_file({"word/document.xml": b"<not-xml"})) == "UNREADABLE_FILE"
    assert reason_of(b"   \n") == "UNREADABLE_FILE"  # no text at all


def test_encrypted_pdf_is_unreadable() -> None:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf("Secret job"))))
    writer.encrypt("owner-and-user")
    out = io.BytesIO()
    writer.write(out)
    assert reason_of(out.getvalue()) == "UNREADABLE_FILE"


def test_zip_bombs_are_refused_before_inflating() -> None:
    bomb = zip_file({"word/document.xml": b"<w/>", "big.bin": b"\x00" * (65 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    assert reason_of(bomb) == "UNREADABLE_FILE"
    many = zip_file({"word/document.xml": b"<w/>",
                     **{f"f{i}.xml": b"" for i in range(documents.MAX_ZIP_ENTRIES + 1)}})
    assert reason_of(many) == "UNREADABLE_FILE"


def test_text_is_capped() -> None:
    found = documents.extract(("word " * 100_000).encode())
    assert len(found.text) == documents.MAX_TEXT_CHARS


async def test_reader_runs_off_the_loop() -> None:
    found = await documents.DocumentReader().read(b"Hello")
    assert found.text == "Hello"
