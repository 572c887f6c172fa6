"""The report: self-contained (no http(s) resources), numbers embedded as JSON, and it
renders in a real browser (headless Chromium) with no console errors and no requests."""

import json
import re
import shutil
import socket
import subprocess
import threading

import pytest

from trainee.cli import main
from trainee.report import render_report

RESOURCE = re.compile(r"""(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?\s*https?://"""
                      r"""|url\(\s*["']?\s*https?://|@import\s+["']?https?://""", re.I)


def hand_made_fleet(ctx) -> dict:
    """A fleet study's result without training (the real one takes ~40-90 s at tiny scale)."""
    c = {"iqm": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    rules = {f"{r}@4": {"rule": r, "merge_every": 4, "retained": c, "held_out": c}
             for r in ("mean", "ties")}
    agents = (*rules, "specialists", "best_specialist", "end_merge", "generalist", "untrained")
    block = {"agent": c, "random": c, "oracle": c, "agent_normalised": c}
    return {"world": "driving", "jobs": [0, 1], "rules": rules,
            "per_job": {a: [c, c] for a in agents}, "across_jobs": dict.fromkeys(agents, c),
            "references": {"best specialist, held out": block}, "skill": c}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    import trainee.studies.fleet as fleet

    out = tmp_path_factory.mktemp("report") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fleet, "run", hand_made_fleet)
        assert main(["run", "--scale", "tiny", "--studies", "gap,two-students,fleet", "--out",
                     str(out), "--quiet"]) == 0
    return out


def test_the_resource_pattern_catches_what_it_should():
    assert RESOURCE.search('<img src="https://example.com/a.png">')
    assert RESOURCE.search("<link href='http://x.org/s.css'>")
    assert RESOURCE.search("background: url( http://x.org/i.png )")
    assert not RESOURCE.search('<svg xmlns="http://www.w3.org/2000/svg">')  # a name, no fetch


def test_report_is_self_contained_and_embeds_the_numbers(run_dir):
    html = (run_dir / "report.html").read_text()
    assert not RESOURCE.search(html), RESOURCE.search(html)
    assert "<svg" in html and "<script src" not in html
    blob = re.search(r'<script type="application/json" id="trainee-results">(.*?)</script>',
                     html, re.S).group(1)
    numbers = json.loads(blob)
    stored = json.loads((run_dir / "studies" / "gap.json").read_text())
    # The page embeds a stored nan (references that tie) as the string "nan".
    as_embedded = json.loads(json.dumps(stored["result"]["worlds"]).replace("NaN", "\"nan\""))
    assert numbers["studies"][0]["result"]["worlds"] == as_embedded
    assert numbers["run"]["environment"]["jax"]
    for name in ("gap", "two-students", "fleet"):
        assert f'id="{name}"' in html
    assert "skill retained" in html  # the fleet's verdict, drawn from its numbers


def test_report_rerenders_from_stored_results_only(run_dir, monkeypatch):
    import trainee.studies.gap as gap

    monkeypatch.setattr(gap, "run", lambda ctx: pytest.fail("re-rendering must not train"))
    before = (run_dir / "report.html").read_text()
    path = render_report(run_dir)
    strip_time = lambda s: re.sub(r"rendered [^&<]*", "", s)
    assert strip_time(path.read_text()) == strip_time(before)


def test_run_json_names_only_registry_studies(run_dir, tmp_path):
    """Issue 16: a run.json naming "../../leak" embedded an outside JSON file."""
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (tmp_path / "leak.json").write_text(json.dumps({"name": "gap", "secret": "LEAKED"}))
    run = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**run, "studies": [*run["studies"],
                                                                  "../../leak"]}))
    before = (copy / "report.html").read_bytes()
    with pytest.raises(ValueError, match="unknown studies"):
        render_report(copy)
    assert main(["report", str(copy)]) == 2
    assert (copy / "report.html").read_bytes() == before  # not rewritten


def test_embedded_text_cannot_end_the_script(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    note = "</script><!--<script>alert(1)</script>&amp;"
    run = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**run, "note": note}))
    html = render_report(copy).read_text()
    blob = re.search(r'<script type="application/json" id="trainee-results">(.*?)</script>',
                     html, re.S).group(1)
    assert json.loads(blob)["run"]["note"] == note
    assert not set("<>&") & set(blob)


class _RequestLog:
    """A proxy that answers nothing and records every request the browser sends."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(4096).split(b"\r\n")[0].decode(errors="replace")
                except OSError:
                    continue
                self.requests.append(line)

    def page_requests(self) -> list[str]:
        # Chromium's own services (component updates, time, accounts) ignore the
        # disable flags now and then; they are the browser's traffic, not the page's.
        own = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")
        return [r for r in self.requests
                if not any(host in r.split(" ")[1].split("/")[0 if r.startswith("CONNECT")
                                                              else 2] for host in own)]


def chromium_visit(path, tmp_path, proxy_port, screenshot=None):
    """(dom, console lines) of a headless Chromium visit of `path` (file://)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    flags = [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--disable-default-apps",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
             "--window-size=1200,2000"]
    action = [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run([*flags, *action, path.resolve().as_uri()], capture_output=True,
                          text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


@pytest.fixture
def chromium():
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")


def test_the_browser_check_detects_requests_and_console_errors(chromium, tmp_path):
    """Negative control: a page with an external image and a script error is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<p>x</p><img src="http://example.invalid/a.png">'
                    '<script>console.error("marker"); missing();</script>')
    log = _RequestLog()
    _, console = chromium_visit(page, tmp_path, log.port)
    assert any("marker" in line for line in console)
    assert any("example.invalid" in r for r in log.page_requests())


def test_report_renders_in_chromium_without_errors_or_requests(chromium, run_dir, tmp_path):
    log = _RequestLog()
    report = run_dir / "report.html"
    dom, console = chromium_visit(report, tmp_path, log.port)
    assert "Summary" in dom and "<svg" in dom and "trainee-results" in dom
    assert console == []
    shot = run_dir / "report.png"
    _, console = chromium_visit(report, tmp_path, log.port, screenshot=shot)
    assert console == []
    assert shot.exists() and shot.stat().st_size > 10_000
    assert log.page_requests() == []


@pytest.mark.slow
def test_every_study_runs_and_draws_at_tiny_scale(tmp_path):
    """All studies end to end (care compiles driving: about a minute more)."""
    out = tmp_path / "all"
    assert main(["run", "--scale", "tiny", "--out", str(out), "--quiet"]) == 0
    html = (out / "report.html").read_text()
    assert not RESOURCE.search(html)
    for name in ("gap", "two-students", "value-function", "jaggedness", "eval-hacking",
                 "care", "on-the-job", "fleet"):
        assert f'id="{name}"' in html
    assert html.count("<svg") >= 10 and "data:image/png;base64," in html
