"""The Sphinx site builds with warnings as errors (what ``make docs`` runs), and reads well
in a real browser.

The site is built once per session (the ``site`` fixture). Its HTML is crawled for broken
internal links; then headless Chromium (Debian's ``chromium`` and ``chromedriver``, driven
by selenium) opens the index, tutorial, gallery and API pages, saves a screenshot of each
to ``build/docs-shots/`` and checks that the mathematics is typeset (no raw ``$$`` or
``\\frac`` in the page text), that every image loads and that the console has no error.
Each check skips locally when its tool is missing and fails when ``CI=true``.
"""

import html.parser
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.optional import IN_CI, require_module, require_program

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "docs-shots"
PAGES = ("index", "tutorial", "notebook", "gallery", "api")
# conf.py serves this MathJax with the site; without it pages would need a CDN.
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The built site's folder (one Sphinx build for every test here)."""
    for module in ("sphinx", "myst_parser", "myst_nb", "furo"):  # pip install -e '.[docs]'
        require_module(module)
    out = tmp_path_factory.mktemp("docs")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-E",
            "-b",
            "html",
            "-d",
            str(out / "doctrees"),
            str(ROOT / "docs"),
            str(out / "html"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out / "html"


@pytest.mark.slow
def test_docs_build_without_warnings(site):
    for page in (
        "index",
        "installation",
        "tutorial",
        "gallery",
        "conventions",
        "api",
        "stability",
    ):
        assert (site / f"{page}.html").exists(), page
    api = (site / "api.html").read_text(encoding="utf-8")
    assert "step_bound" in api and "heavy_ball" in api and "Guarantee" in api
    gallery = (site / "gallery.html").read_text(encoding="utf-8")
    assert "Heavy ball and Nesterov on a quadratic" in gallery


@pytest.mark.slow
def test_tutorial_and_notebook_outputs_are_what_symdyn_prints(site):
    """myst-nb ran the pages: their outputs hold what this process computes."""
    import html as entities

    import sympy as sp

    import symdyn as sd

    x, v, g = sp.symbols("x v g", real=True)
    eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    rule = sd.UpdateRule(
        state=[x, v],
        updates=[(g, lam * x), (v, beta * v - eta * g), (x, x + v)],
        params=[eta, beta],
    )
    tutorial = entities.unescape((site / "tutorial.html").read_text(encoding="utf-8"))
    assert "cell_output" in tutorial
    assert str(sd.stability(rule).region) in tutorial
    bound = sd.step_bound(rule, step=eta)
    printed = [line for line in tutorial.splitlines() if "/lambda" in line]
    assert f"{bound.upper} {bound.requires}" in tutorial, printed
    notebook = entities.unescape((site / "notebook.html").read_text(encoding="utf-8"))
    assert notebook.count("cell_output") >= 3 and "Substituting" in notebook


class _Links(html.parser.HTMLParser):
    """The ``href``/``src`` targets and the ``id``s of one HTML page."""

    def __init__(self):
        super().__init__()
        self.targets, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value and tag in ("a", "img", "link", "script"):
                self.targets.append(value)


def _read(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(root):
    """Every internal link of the HTML under ``root`` whose file or anchor is missing."""
    pages = {p: _read(p) for p in root.rglob("*.html") if "_modules" not in p.parts}
    broken = []
    for page, links in pages.items():
        for target in links.targets:
            url = urlparse(target)
            if url.scheme or url.netloc or target.startswith(("mailto:", "javascript:")):
                continue
            path = (page.parent / unquote(url.path)).resolve() if url.path else page
            if not path.exists():
                broken.append(f"{page.relative_to(root)} -> {target}")
            elif url.fragment and path.suffix == ".html":
                ids = pages[path].ids if path in pages else _read(path).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(root)} -> {target}")
    return broken


def test_the_link_check_finds_a_dead_anchor_and_file(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">b</a><a href="c.html">c</a>')
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1><a href="a.html">a</a>')
    assert broken_links(tmp_path) == ["a.html -> b.html#there", "a.html -> c.html"]


@pytest.mark.slow
def test_no_internal_link_is_broken(site):
    assert broken_links(site) == []


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through selenium, with the console log kept."""
    webdriver = require_module("selenium.webdriver")
    require_program("chromium")
    driver_path = require_program("chromedriver")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.binary_location = require_program("chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _require_local_mathjax():
    if not LOCAL_MATHJAX.exists():
        message = f"{LOCAL_MATHJAX} is missing (Debian: libjs-mathjax); math needs a CDN"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


_TYPESET = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.Hub) { done("no MathJax"); return; }
MathJax.Hub.Queue(() => done("typeset"));  // runs once the page's mathematics is set
"""
_PROSE = """
const page = document.body.cloneNode(true);  // code listings may show LaTeX source on purpose
page.querySelectorAll("pre, code, script, .MathJax_Preview").forEach(e => e.remove());
return page.innerText;
"""
_BROKEN_IMAGES = """
return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
"""


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_reads_well_in_a_browser(page, site, browser):
    browser.get((site / f"{page}.html").as_uri())
    browser.get_log("browser")  # only this page's messages below
    browser.refresh()
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{page}.png"))
    assert browser.execute_script(_BROKEN_IMAGES) == [], "images that do not load"
    _require_local_mathjax()
    browser.set_script_timeout(60)
    if browser.execute_script("return document.querySelector('.math') !== null"):
        assert browser.execute_async_script(_TYPESET) == "typeset"
    browser.save_screenshot(str(SHOTS / f"{page}.png"))  # now with the mathematics set
    text = browser.execute_script(_PROSE)
    assert "$$" not in text and "\\frac" not in text, "raw LaTeX on the page"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
