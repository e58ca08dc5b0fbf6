"""The bundled reports in a real browser (Debian's headless Chromium, driven over the DevTools
protocol on a pipe): at 1024 and 1920 px no table is wider than its column and no cell's content
spills out, no network request is made, the page has no script, every citation is a link, and no
curation text reaches the page. One screenshot per report type is kept in tests/output/."""
from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent / "output"
WIDTHS = (1024, 1920)
#: one page per report type: actionable, negative plasma with driver seen, compound + sensitivity,
#: copy number (tissue), fusion tissue with a bypass mutation, timeline, batch summary
TYPES = {"actionable": "ALK01_T1_plasma", "negative_plasma": "EGFR01_plasma", "compound": "EGFR02_plasma",
         "copy_number": "RET01_tissue", "tissue_bypass": "ALK02_tissue", "timeline": "timeline_ALK01",
         "summary": "summary"}
CURATION = ("highwire", "not retrieved", "line-interleaved", "export row", "CIViC line",
            "column assignment", "UNVERIFIED:")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent "
                                "(Debian: apt-get install chromium)")

#: measured in the page by the harness (the page itself has no script): elements whose content is
#: wider than their box, and tables wider than the element that holds them
MEASURE = """(() => {
  const bad = [];
  for (const t of document.querySelectorAll('table')) {
    const box = t.parentElement.getBoundingClientRect(), r = t.getBoundingClientRect();
    if (r.right > box.right + 1 || r.left < box.left - 1) bad.push('table ' + (t.id || t.className) + ' ' + Math.round(r.width) + 'px in ' + Math.round(box.width) + 'px');
    for (const c of t.querySelectorAll('td, th'))
      if (c.scrollWidth > c.clientWidth + 1) bad.push('cell ' + c.textContent.slice(0, 60));
  }
  return {bad, docWidth: document.documentElement.scrollWidth, viewport: window.innerWidth};
})()"""


class Browser:
    """Chromium with ``--remote-debugging-pipe``: commands on fd 3, replies on fd 4, NUL-separated."""

    def __init__(self, profile: Path):
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def fds():
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read(self) -> dict:
        while b"\0" not in self._buf:
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            e = self._read()
            if e.get("method") == method:
                return e
            self.events.append(e)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._w)
        os.close(self._r)

    def load(self, page: Path, width: int, screenshot: bool = True) -> dict:
        """Open ``page`` at ``width`` px; returns the measurements, the requests made and (unless
        ``screenshot`` is false: it takes longer than the rest) a PNG."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        s = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.events.clear()
        self.send("Network.enable", s)
        self.send("Page.enable", s)
        self.send("Emulation.setDeviceMetricsOverride", s, width=width, height=900, deviceScaleFactor=1,
                  mobile=False)
        self.send("Page.navigate", s, url=page.as_uri())
        self.wait_for("Page.loadEventFired")
        requests = [e["params"]["request"]["url"] for e in self.events
                    if e.get("method") == "Network.requestWillBeSent"]
        m = self.send("Runtime.evaluate", s, expression=MEASURE, returnByValue=True)["result"]["value"]
        png = None
        if screenshot:
            size = self.send("Page.getLayoutMetrics", s)["cssContentSize"]
            png = self.send("Page.captureScreenshot", s, format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": width, "height": min(size["height"], 4000),
                                  "scale": 1})["data"]
        self.send("Target.closeTarget", targetId=target)
        return {**m, "requests": requests, "png": png}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def pages(bundled):
    """{name: html path} of the session's bundled reports (conftest.bundled; read-only)."""
    return bundled[1]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def test_pages_in_chromium(pages, browser):
    """Each bundled page at 1024 and 1920 px: no overflowing table or cell, no page wider than the
    window, and the only request is the page's own file."""
    import base64

    OUTPUT.mkdir(exist_ok=True)
    keep = {v: k for k, v in TYPES.items()}
    problems = {}
    for name, page in pages.items():
        for width in WIDTHS:
            got = browser.load(page, width, screenshot=name in keep)
            if got["bad"] or got["docWidth"] > got["viewport"]:
                problems[f"{name}@{width}"] = (got["bad"][:5], got["docWidth"], got["viewport"])
            assert got["requests"] == [page.as_uri()], (name, got["requests"])
            if name in keep:
                (OUTPUT / f"{keep[name]}_{width}.png").write_bytes(base64.b64decode(got["png"]))
    assert problems == {}
    assert sorted(p.name for p in OUTPUT.glob("*.png")) >= sorted(f"{k}_{w}.png" for k in TYPES for w in WIDTHS)


def test_no_script_links_only_and_no_curation_text(pages):
    """No script or event handler anywhere; every citation and external reference is a plain
    <a href> to https with rel="noopener noreferrer"; no curation remark or machine path."""
    for name, page in pages.items():
        html = page.read_text(encoding="utf-8")
        p = Page()
        p.feed(html)
        assert not [t for t, _ in p.tags if t in ("script", "iframe", "object", "embed", "img", "link")], name
        assert not [a for _, a in p.tags if any(k.startswith("on") for k in a)], name
        for tag, a in p.tags:
            if tag == "a" and a["href"].startswith("http"):
                assert a["href"].startswith("https://") and a.get("rel") == "noopener noreferrer", (name, a)
        for s in CURATION:
            assert s.lower() not in html.lower(), (name, s)
        text = re.sub(r"<[^>]+>", " ", html)  # what a reader sees: no file path of any machine
        assert not re.search(r"(?:^|[\s(])(?:\.\.?)?/[\w.-]+/[\w./-]+", text), name
        # a citation is never bare text: every PMID/DOI shown is the text of a link
        shown = re.findall(r">(PMID \d+|doi:10\.[^<]+)<", html)
        linked = re.findall(r'<a href="https://(?:pubmed\.ncbi\.nlm\.nih\.gov/\d+/|doi\.org/[^"]+)" '
                            r'rel="noopener noreferrer">(PMID \d+|doi:10\.[^<]+)</a>', html)
        assert shown == linked, name
        assert not re.search(r"(?<![\w/])PMID:\d+", html), name
    egfr = pages["EGFR02_plasma"].read_text(encoding="utf-8")
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/25939061/" rel="noopener noreferrer">PMID 25939061</a>' in egfr


def test_csp_stays_strict(pages):
    """Every page keeps default-src 'none' (styles inline only), so nothing can load or run."""
    for name, page in pages.items():
        assert ('content="default-src \'none\'; style-src \'unsafe-inline\'"' in page.read_text()), name


def test_print_stylesheet_keeps_findings_whole(pages, browser):
    """Print media (A4 stylesheet): every finding, with its nested evidence, is one unbreakable
    block, links print black, and Chromium's own Print to PDF gives a multi-page A4 document."""
    import base64

    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    s = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    browser.send("Page.enable", s)
    browser.send("Page.navigate", s, url=pages["EGFR02_plasma"].as_uri())
    browser.wait_for("Page.loadEventFired")
    browser.send("Emulation.setEmulatedMedia", s, media="print")
    styles = browser.send("Runtime.evaluate", s, returnByValue=True, expression="""
        [...document.querySelectorAll('tbody.finding')].map(b => getComputedStyle(b).breakInside)
        .concat([getComputedStyle(document.querySelector('a')).color])""")["result"]["value"]
    assert styles == ["avoid"] * 4 + ["rgb(0, 0, 0)"]
    pdf = base64.b64decode(browser.send("Page.printToPDF", s, paperWidth=8.27, paperHeight=11.69,
                                        preferCSSPageSize=True)["data"])
    browser.send("Target.closeTarget", targetId=target)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
