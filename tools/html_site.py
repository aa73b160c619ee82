"""Render the course as a static HTML site to read without running anything.

    python tools/html_site.py                   # -> build/html/index.html
    python tools/html_site.py --out DIR

Every notebook (the course, the solutions, the gallery) is rendered with its
stored outputs by nbconvert's ``lab`` template, and the gallery's README too.
``index.html`` is the table of contents: each notebook with its sections.
Links between notebooks point to their pages: ``[text](other.ipynb)`` links,
and a notebook named in inline code (```03-fastapi-corsmiddleware```) becomes a
link to it. Each page gets a bar with the contents and the previous and next
notebook.

Every relative link of every page is checked: its target page must exist and,
for ``page.html#section``, have that anchor. A broken link fails the build
(exit status 1, one line per link). Links to other sites are not followed (no
network); the pages load nothing from a CDN.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUTPUT = ROOT / "build" / "html"

SECTIONS = [
    ("The course", "", "Read in order; each notebook ends with exercises (solutions below)."),
    ("Solutions", "solutions", "The course notebooks with every exercise solved and checked."),
    ("Gallery", "gallery", "Real reported FastAPI/Starlette CORS problems, reproduced."),
]

STYLE = """
<style>
.cors-lab-bar { font: 14px/1.5 system-ui, sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd;
  background: #f7f7f7; display: flex; gap: 1.5em; flex-wrap: wrap; position: sticky; top: 0; z-index: 10; }
.cors-lab-bar a { text-decoration: none; }
.cors-lab-toc { font: 16px/1.5 system-ui, sans-serif; max-width: 56em; margin: 2em auto; padding: 0 1em; }
.cors-lab-toc li ul { font-size: 14px; color: #555; }
.cors-lab-toc .note { color: #555; }
</style>
"""


@dataclass
class Page:
    source: Path  # the notebook (or README.md), under notebooks/
    path: PurePosixPath  # the page, relative to the site's root
    title: str = ""
    headings: list[tuple[str, str]] = field(default_factory=list)  # (anchor id, text) of the h2s


def _page_path(source: Path) -> PurePosixPath:
    relative = PurePosixPath(source.relative_to(NOTEBOOKS).as_posix())
    return relative.with_suffix(".html")


def _relative(from_page: PurePosixPath, to_page: PurePosixPath) -> str:
    """The href from one page to another (both relative to the site's root)."""
    up = [".."] * (len(from_page.parts) - 1)
    return "/".join([*up, *to_page.parts])


def discover() -> list[Page]:
    pages = []
    for _, folder, _ in SECTIONS:
        base = NOTEBOOKS / folder if folder else NOTEBOOKS
        pages += [Page(p, _page_path(p)) for p in sorted(base.glob("*.ipynb"))]
    readme = NOTEBOOKS / "gallery" / "README.md"
    if readme.exists():
        pages.append(Page(readme, PurePosixPath("gallery/README.html")))
    return pages


def _link_names(notebook: nbformat.NotebookNode, page: Page, stems: dict[str, PurePosixPath]) -> None:
    """In markdown cells, a notebook named in inline code becomes a link to its page."""
    pattern = re.compile(r"(?<!\[)`(" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + r")`(?!\]|\()")
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue

        def link(match: re.Match[str]) -> str:
            target = stems[match.group(1)]
            if target == page.path:
                return match.group(0)
            return f"[`{match.group(1)}`]({_relative(page.path, target)})"

        cell.source = pattern.sub(link, cell.source)


_HREF = re.compile(r'(href=")([^"#?]+?)\.(ipynb|md)((?:#[^"]*)?")')
# require.js, MathJax and the Mermaid loader come from a CDN; the course needs none of them.
_CDN_SCRIPT = re.compile(r'<script src="https://[^"]*">\s*</script>\s*|<script type="module">(?:(?!</script>).)*?cdnjs(?:(?!</script>).)*</script>\s*', re.S)


def _fix_links(body: str) -> str:
    """Relative links to notebooks (and the gallery's README.md) point to their pages."""
    def fix(match: re.Match[str]) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*:", match.group(2)):
            return match.group(0)  # another site
        return f"{match.group(1)}{match.group(2)}.html{match.group(4)}"

    return _HREF.sub(fix, body)


def _bar(page: Page, pages: list[Page], index: int) -> str:
    notebooks = [p for p in pages if p.source.suffix == ".ipynb"]
    parts = [f'<a href="{_relative(page.path, PurePosixPath("index.html"))}">&#8679; Contents</a>']
    if page in notebooks:
        i = notebooks.index(page)
        if i > 0:
            parts.append(f'<a href="{_relative(page.path, notebooks[i - 1].path)}">&#8592; {html.escape(notebooks[i - 1].path.stem)}</a>')
        if i + 1 < len(notebooks):
            parts.append(f'<a href="{_relative(page.path, notebooks[i + 1].path)}">{html.escape(notebooks[i + 1].path.stem)} &#8594;</a>')
    parts.append(f"<span>{html.escape(page.source.relative_to(NOTEBOOKS).as_posix())}</span>")
    return f'<nav class="cors-lab-bar">{"".join(parts)}</nav>'


def _headings(body: str) -> tuple[str, list[tuple[str, str]]]:
    def text(fragment: str) -> str:
        fragment = re.sub(r'<a class="anchor-link".*?</a>', "", fragment)
        return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()

    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", body, flags=re.S)
    h2 = [(m.group(1), text(m.group(2))) for m in re.finditer(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', body, flags=re.S)]
    return (text(h1.group(1)) if h1 else ""), h2


def render(pages: list[Page], out: Path) -> None:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    stems = {p.source.stem: p.path for p in pages if p.source.suffix == ".ipynb"}
    for index, page in enumerate(pages):
        if page.source.suffix == ".ipynb":
            notebook = nbformat.read(page.source, as_version=4)
            _link_names(notebook, page, stems)
        else:  # a Markdown file: one markdown cell
            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(page.source.read_text())])
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": page.source.stem}})
        page.title, page.headings = _headings(body)
        body = _CDN_SCRIPT.sub("", body)
        body = _fix_links(body)
        title = html.escape(page.title or page.source.stem)
        body = re.sub(r"<title>.*?</title>", f"<title>{title} · cors-lab</title>", body, count=1, flags=re.S)
        body = body.replace("</head>", STYLE + "</head>", 1)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _bar(page, pages, index), body, count=1)
        target = out / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")


def write_index(pages: list[Page], out: Path) -> None:
    items = []
    for name, folder, note in SECTIONS:
        section = [p for p in pages if p.source.suffix == ".ipynb" and p.path.parent.as_posix() == (folder or ".")]
        if not section:
            continue
        rows = []
        for page in section:
            sub = "".join(f'<li><a href="{page.path}#{anchor}">{html.escape(text)}</a></li>' for anchor, text in page.headings)
            rows.append(f'<li><a href="{page.path}">{html.escape(page.title or page.path.stem)}</a>'
                        f' <span class="note">({html.escape(page.path.stem)})</span>' + (f"<ul>{sub}</ul>" if sub and not folder else "") + "</li>")
        extra = ""
        if folder == "gallery" and any(p.path == PurePosixPath("gallery/README.html") for p in pages):
            extra = '<p><a href="gallery/README.html">The gallery\'s catalogue</a>: each report, its symptom and the releases affected.</p>'
        items.append(f"<h2>{html.escape(name)}</h2><p class=\"note\">{html.escape(note)}</p>{extra}<ol>{''.join(rows)}</ol>")
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cors-lab: CORS with FastAPI, the course</title>{STYLE}</head>
<body><main class="cors-lab-toc">
<h1>cors-lab: CORS with FastAPI</h1>
<p>The course's notebooks with their stored outputs, to read without running anything. To run them, open the
course in the browser (JupyterLite) or in JupyterLab: see the repository's <code>WORKSHOP.md</code>.</p>
{''.join(items)}
</main></body></html>
"""
    (out / "index.html").write_text(document, encoding="utf-8")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.loads: list[str] = []  # scripts and style sheets from another site

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name == "name" and tag == "a" and value:
                self.ids.add(value)
            if name in ("href", "src") and value and tag in ("a", "link", "img", "script"):
                self.hrefs.append(value)
                if tag in ("link", "script") and urlsplit(value).netloc:
                    self.loads.append(value)


def check_links(out: Path) -> list[str]:
    """Every relative link of every page, resolved: '<page>: <href> (why)' for each broken one."""
    parsed: dict[Path, _Links] = {}

    def parse(path: Path) -> _Links:
        if path not in parsed:
            parser = _Links()
            parser.feed(path.read_text(encoding="utf-8"))
            parsed[path] = parser
        return parsed[path]

    broken = []
    for page in sorted(out.rglob("*.html")):
        broken += [f"{page.relative_to(out).as_posix()}: {url} (loads from another site)" for url in parse(page).loads]
        for href in parse(page).hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "data:", "javascript:")):
                continue  # another site: not followed
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            where = f"{page.relative_to(out).as_posix()}: {href}"
            if not target.is_file() or out.resolve() not in target.resolve().parents:
                broken.append(f"{where} (no such page)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in {unquote(i) for i in parse(target).ids}:
                broken.append(f"{where} (no such anchor)")
    return broken


def build(out: Path = OUTPUT) -> int:
    started = time.perf_counter()
    pages = discover()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    render(pages, out)
    write_index(pages, out)
    broken = check_links(out)
    for line in broken:
        print(f"html: broken link: {line}", file=sys.stderr)
    if broken:
        print(f"html: {len(broken)} broken link(s); the site in {out} is incomplete", file=sys.stderr)
        return 1
    relative = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"html: {len(pages)} pages and a table of contents in {relative}/, every link checked, "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="output folder (default: build/html)")
    args = parser.parse_args(argv)
    return build(args.out.resolve())


if __name__ == "__main__":
    sys.exit(main())
