"""A corpus of hostile transcripts, imported in every transcript format, and the checks that none of it acted.

Transcripts come from other tools, so their text is untrusted: every payload here is text a page must show as
text. Each one, had it been read as markup, would leave a trace a browser can see:

- script (``<script>``, ``onerror``/``onload``/``ontoggle`` handlers, an ``<iframe srcdoc>``, one hidden in a
  ``\\boxed{...}`` whose backticks close a code span) sets ``window.__pwned``, sets ``document.title`` to
  ``PWNED`` and logs ``PWNED`` to the console;
- every injected element carries a ``data-pwn`` attribute;
- Markdown and LaTeX (``**PWNBOLD**``, ``[PWNLINK](javascript:...)``, ``![PWNIMG](...)``,
  ``$\\href{javascript:...}{PWNHREF}$``, ``:red[PWNRED]``, a ``# PWNHEAD`` line) would put a marker word alone
  in an element of its own, a ``javascript:`` link or an image of ``pwn.png``.

The payloads go into questions, message contents, answers, references, agent and model names, run names, tags,
curation notes, annotators, label notes and step corrections, alongside a 200 KB line and zero-width and
right-to-left characters. ``build_hostile_store`` imports them through the du2023, maslab and transcripts
readers (the same problems in each, so Compare has runs to pair) and stores the rest through the library.
"""
from __future__ import annotations

import json
from pathlib import Path

from agentark.labels.corrections import Correction
from agentark.labels.human_labels import HumanLabel, store_batch
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.runs.curation import Mark, add_marks
from agentark.runs.formats import READERS, import_file
from agentark.runs.names import rename, set_tags
from agentark.store import Store

RUN = "window.__pwned=1;document.title='PWNED';console.log('PWNED')"
PAYLOADS = {
    "script": f"<script data-pwn=1>{RUN}</script>",
    "img": f'<img src=x data-pwn=1 onerror="{RUN}">',
    "svg": f'<svg data-pwn=1 onload="{RUN}"></svg>',
    # What made the viewer store an "exclude" mark with no click: markup that clicks the page's own buttons.
    "click": '<iframe data-pwn=1 srcdoc="<script>setInterval(() => parent.document.querySelectorAll(\'button\')'
             ".forEach(b => /xclude|Save|Apply|Import/.test(b.textContent) && b.click()), 300)</script>\"></iframe>",
    "details": f'<details data-pwn=1 open ontoggle="{RUN}">PWNDETAILS</details>',
    "iframe": '<iframe data-pwn=1 srcdoc="<script>parent.window.__pwned=1;parent.document.title=\'PWNED\'</script>">'
              "</iframe>",
    "boxed": '\\boxed{a`<iframe data-pwn=1 srcdoc="<script>parent.document.title=\'PWNED\'</script>">`=}',
    "link": "[PWNLINK](javascript:window.__pwned=1)",
    "image": "![PWNIMG](http://127.0.0.1:9/pwn.png)",
    "katex": "$\\href{javascript:window.__pwned=1}{PWNHREF}$ and $$\\href{javascript:alert(1)}{PWNHREF}$$",
    "markdown": "**PWNBOLD** _PWNEM_ :red[PWNRED] <b data-pwn=1>PWNB</b>\n# PWNHEAD\n    indented `code`",
    "invisible": "a\u200b\u200c\u200d\u2060b \u202eDESREVER\u202c \u2067isolated\u2069 \ufeffBOM",
}
ALL = "\n\n".join(PAYLOADS.values())
LONG = "L" * 200_000
# Words a payload's markup would isolate in an element of its own; as text they always sit among others.
MARKER_WORDS = ("PWNBOLD", "PWNEM", "PWNRED", "PWNB", "PWNA", "PWNHEAD", "PWNLINK", "PWNIMG", "PWNHREF", "PWNDETAILS")
# Short payloads for fields with a length limit (run names: 60 characters, tags: 30).
NAMES = ['<img src=x data-pwn=1 onerror="document.title=1">**PWNBOLD**', "<b>PWNB</b> <a href='javascript:1'>PWNA</a>",
         "[PWNLINK](javascript:alert(1))"]
TAGS = ["**PWNBOLD**", "<b data-pwn=1>PWNB</b>", "[PWNLINK](javascript:1)", "$\\href{javascript:1}{PWNHREF}$",
        "\u202eDESREVER"]
AGENTS = [PAYLOADS["click"], PAYLOADS["markdown"], PAYLOADS["boxed"]]
QUESTIONS = [f"What is 2+2? {PAYLOADS['script']} {PAYLOADS['katex']}", f"{PAYLOADS['boxed']} {PAYLOADS['link']}"]


def contents(i: int) -> str:
    """The i-th agent's message: every payload, and on the first agent a 200 KB line."""
    return ALL + (f"\n{LONG}\n" if i == 0 else "\n") + f"The answer is \\boxed{{4}}. {PAYLOADS['iframe']}"


def du2023_file(path: Path) -> Path:
    data = {q: [[[{"role": "user", "content": q}, {"role": "assistant", "content": contents(a)}] for a in range(3)],
                PAYLOADS["boxed"]] for q in QUESTIONS}
    path.write_text(json.dumps(data))
    return path


def maslab_file(path: Path) -> Path:
    rows = [{"query": q, "gt": PAYLOADS["boxed"],
             "response": "".join(f"===== Solution {a + 1} =====\n{contents(a)}\n" for a in range(2)),
             "token_stats": {PAYLOADS["img"]: {"num_llm_calls": 2, "prompt_tokens": 10, "completion_tokens": 20}}}
            for q in QUESTIONS]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def transcripts_file(path: Path) -> Path:
    records, seq = [], 0
    for p, q in enumerate(QUESTIONS):
        for rnd in (1, 2):
            for a, agent in enumerate(AGENTS):
                records.append({
                    "schema": "agentark.transcript/1", "run_id": "hostile-transcripts", "problem_id": f"q{p}",
                    "agent": agent, "round": rnd, "role": "solver", "seq": seq, "model": PAYLOADS["svg"],
                    "content": contents(a), "answer": PAYLOADS["boxed"] if a else "4", "is_correct": bool(a % 2),
                    "problem": {"question": q, "reference_answer": "4", "meta": {"note": PAYLOADS["script"]}},
                    "outcome": {"final_answer": PAYLOADS["boxed"], "is_correct": False, "consensus": 0.5},
                    "run": {"kind": "import", "method": PAYLOADS["markdown"][:40], "dataset": PAYLOADS["link"]},
                })
                seq += 1
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


FILES = {"du2023": du2023_file, "maslab": maslab_file, "transcripts": transcripts_file}


def build_hostile_store(store: Store, folder: Path) -> list[str]:
    """Import the corpus in every format, then name, tag, mark, label and correct with it; the run ids."""
    assert set(FILES) == set(READERS), "a transcript format without a hostile file"
    run_ids = []
    for fmt, write in FILES.items():
        path = write(folder / f"hostile-{fmt}.{'json' if fmt == 'du2023' else 'jsonl'}")
        run_id = None if fmt == "transcripts" else f"hostile-{fmt}"
        report = import_file(store, fmt, path, run_id=run_id, model=None if fmt == "maslab" else PAYLOADS["img"])
        assert report.imported and not report.rejected, (fmt, report.rejected)
        run_ids.append(run_id or "hostile-transcripts")
    for run_id, name in zip(run_ids, NAMES):
        rename(store, run_id, name)
        set_tags(store, run_id, TAGS)
    problems = store.df("SELECT DISTINCT run_id, problem_id FROM run_problems ORDER BY ALL")
    add_marks(store, [Mark(r.run_id, r.problem_id, "keep", note=ALL + LONG, annotator=PAYLOADS["img"])
                      for r in problems.itertuples()])
    segment_runs(store, run_ids, SegmentConfig())
    steps = store.df("SELECT step_id FROM steps ORDER BY step_id LIMIT 3")["step_id"].tolist()
    store_batch(store, [HumanLabel(s, -1, PAYLOADS["markdown"], note=PAYLOADS["iframe"]) for s in steps],
                [Correction(steps[0], ALL, PAYLOADS["img"], rest=PAYLOADS["boxed"])])
    return run_ids


def row_counts(store: Store) -> dict[str, int]:
    """Rows of every table of the store: a page that writes nothing leaves them all as they were."""
    tables = store.df("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")["table_name"]
    return {t: int(store.scalar(f'SELECT count(*) FROM "{t}"')) for t in sorted(tables)}


# Run in every frame: what a payload that acted would have left behind.
TRACES_JS = """(words) => {
  const els = [...document.querySelectorAll('*')];
  return {
    pwned: window.__pwned === 1,
    title: document.title,
    injected: document.querySelectorAll('[data-pwn]').length,
    js_links: [...document.querySelectorAll('a[href], [*|href]')].filter(
        a => /^\\s*javascript:/i.test(a.getAttribute('href') || a.getAttribute('xlink:href') || '')).length,
    images: document.querySelectorAll('img[src*="pwn.png"]').length,
    srcdoc: document.querySelectorAll('iframe[srcdoc*="PWNED"]').length,
    isolated: els.filter(e => words.includes((e.textContent || '').trim())).map(e => e.tagName + ':' + e.textContent.trim()),
  };
}"""
