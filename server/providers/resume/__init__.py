"""Resume files → `ResumeDocument`: the text a human reader sees, with what was hidden
(white/tiny/off-page/invisible text, zero-width characters, instructions aimed at an AI,
keyword stuffing) removed and flagged. `reader.ResumeReader` is the entry point; `pdf`,
`docx_reader`, `ocr` and `hidden` hold the format readers and the text-level defences."""
