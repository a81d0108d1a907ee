"""Every Python example in the documentation runs, on the backend KERAS_BACKEND names.

The pages are `docs/**/*.md` and `README.md`. Each ```` ```python ```` block of
a page runs in order, in one namespace per page (so a later block may use what
an earlier one defined), in a fresh temporary working directory. A failing
block fails the test of its page, with a traceback pointing at the page's own
line numbers.

Blocks with another info string (```` ```bash ````, ```` ```text ````,
```` ```mermaid ````) are not run. A Python block that truly cannot run here
(none do today) is marked by the line `<!-- docs-test: skip -->` right above
its fence; see `docs/writing-docs.md`.
"""

import pathlib
import re
import textwrap

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
SKIP_MARK = "<!-- docs-test: skip -->"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")


def python_blocks(text):
    """Returns `(line, code)` for each runnable ```python block; `line` is 1-based."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        language = info.split()[0].lstrip(".{").rstrip("}") if info else ""
        if language == "python" and previous != SKIP_MARK:
            blocks.append((start + 1, textwrap.dedent("\n".join(lines[start:end]))))
        i = end + 1
    return blocks


def test_the_collector_runs_python_blocks_only_and_honours_the_skip_mark():
    text = "\n".join(
        [
            "# Page",
            "```python",
            "a = 1",
            "```",
            "```bash",
            "echo no",
            "```",
            SKIP_MARK,
            "```python",
            "raise SystemExit",
            "```",
            "!!! note",
            "    ```python",
            "    b = a + 1",
            "    ```",
            "```pycon",
            ">>> 1",
            "```",
        ]
    )
    assert python_blocks(text) == [(3, "a = 1"), (14, "b = a + 1")]


def test_every_layer_page_has_examples():
    for page in sorted((ROOT / "docs" / "layers").glob("*.md")):
        assert len(python_blocks(page.read_text(encoding="utf-8"))) >= 4, page.name


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{page.name} has no Python examples")
    monkeypatch.chdir(tmp_path)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    namespace = {"__name__": "__docs__"}
    for line, code in blocks:
        # Pad with newlines so tracebacks give the page's own line numbers.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)
