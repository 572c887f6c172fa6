"""The report: one self-contained HTML file from a run directory's stored results.

`render_report(run_dir)` reads `run.json` and `studies/*.json` (written by
`trainee.studies.runner`), redraws every figure from the stored numbers (matplotlib,
Agg, inline SVG), recomputes every verdict with the study's own rule, and writes
`run_dir/report.html`. No network resources: no external scripts, styles, fonts or
images; the numbers are embedded as JSON.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

from trainee.store import atomic_write_bytes, read_json

__all__ = ["build_html", "render_report"]

_METADATA = re.compile(r"<metadata>.*?</metadata>", re.S)


def _finite(obj):
    """JSON for browsers: inf / nan are not JSON, so they become strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _embed_json(obj) -> str:
    # "</" would end the <script> element early; JSON allows the escaped form.
    return json.dumps(_finite(obj), indent=1).replace("</", "<\\/")


def _study_view(stored: dict) -> dict:
    """What the template shows for one study: figures and verdict from the numbers."""
    from trainee.studies import study_module

    view = {"name": stored["name"], "claim": stored["claim"], "method": stored["method"],
            "seconds": stored.get("seconds"), "seeds": stored.get("seeds"),
            "verdict": stored["verdict"], "figures": [], "pictures": []}
    try:
        module = study_module(stored["name"])
    except ValueError:  # a study this version no longer knows: show what was stored
        return view
    result = stored["result"]
    view["verdict"] = module.verdict(result).to_json()
    view["figures"] = [(title, _METADATA.sub("", svg)) for title, svg in module.draw(result)]
    view["pictures"] = result.get("pictures", []) if isinstance(result, dict) else []
    return view


def build_html(run: dict, studies: list[dict], run_id: str) -> str:
    import jinja2

    from trainee.report.template import TEMPLATE

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    views = [_study_view(s) for s in studies]
    stripped = [{**s, "result": _strip_pictures(s["result"])} for s in studies]
    setup = {k: v for k, v in run.items() if k != "studies"}
    return env.from_string(TEMPLATE).render(
        run=run, run_id=run_id, studies=views,
        total_minutes=f"{sum(s.get('seconds') or 0 for s in studies) / 60:.1f}",
        rendered=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        setup_text=json.dumps(_finite(setup), indent=2),
        results_json=_embed_json({"run": run, "studies": stripped}),
    )


def _strip_pictures(result):
    if isinstance(result, dict) and "pictures" in result:
        return {k: v for k, v in result.items() if k != "pictures"}
    return result


def render_report(run_dir: str | Path) -> Path:
    """Write `run_dir/report.html` from the stored results; returns its path."""
    from trainee.studies import STUDIES

    run_dir = Path(run_dir)
    if not (run_dir / "run.json").exists():
        raise FileNotFoundError(f"{run_dir} has no run.json: run `trainee run --out {run_dir}` "
                                "first")
    run = read_json(run_dir / "run.json")
    order = list(STUDIES) + sorted(run.get("studies", []))
    names = [n for n in dict.fromkeys(order) if (run_dir / "studies" / f"{n}.json").exists()]
    studies = [read_json(run_dir / "studies" / f"{n}.json") for n in names]
    path = run_dir / "report.html"
    atomic_write_bytes(path, build_html(run, studies, str(run_dir)).encode())
    path.chmod(0o644)  # a report is for sharing (atomic writes create 0600 temp files)
    return path
