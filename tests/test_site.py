"""The readable static site (tools/html_site.py): every notebook rendered, a table of contents, no broken link."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "html_site.py"


def _module():
    spec = importlib.util.spec_from_file_location("html_site", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("nbconvert", reason="nbconvert is not installed: pip install -r requirements.txt")
    out = tmp_path_factory.mktemp("html")
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every link checked" in done.stdout
    return out


def test_every_notebook_has_a_page_listed_in_the_contents(site):
    notebooks = sorted(p.relative_to(ROOT / "notebooks").with_suffix(".html").as_posix()
                       for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert sorted(set(pages) - {"index.html", "gallery/README.html"}) == notebooks
    index = (site / "index.html").read_text()
    for page in notebooks:
        assert f'href="{page}"' in index


def test_pages_keep_stored_outputs_and_link_to_each_other(site):
    page = (site / "02-simple-requests-and-preflight.html").read_text()
    assert "<title>02 · Simple requests and preflight · cors-lab</title>" in page
    assert "access-control-allow-origin" in page  # a stored output
    assert '<a href="01-origins-and-the-same-origin-policy.html"><code>01-origins-and-the-same-origin-policy</code></a>' in page
    assert 'href="03-fastapi-corsmiddleware.html"' in page  # the bar's "next"
    readme = (site / "gallery" / "README.html").read_text()
    assert 'href="01-origin-lists.html"' in readme and ".ipynb\"" not in readme
    assert "https://" not in "".join(re.findall(r"<script[^>]*>.*?</script>", page, flags=re.S))  # readable offline


def test_a_broken_link_fails_the_build(tmp_path):
    html_site = _module()
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text('<a href="sub/a.html#there">a</a> <a href="https://example.com/x">out</a>')
    (tmp_path / "sub" / "a.html").write_text('<h2 id="here">h</h2><a href="../missing.html">m</a><a href="#here">ok</a>'
                                              '<script src="https://cdn.example/x.js"></script>')
    assert html_site.check_links(tmp_path) == [
        "index.html: sub/a.html#there (no such anchor)",
        "sub/a.html: https://cdn.example/x.js (loads from another site)",
        "sub/a.html: ../missing.html (no such page)",
    ]
