"""The report: one self-contained HTML file from a run directory's stored results.

`render_report(run_dir)` reads `run.json`, `studies/*.json` and the placebos'
`studies/*.placebo.json` (written by `trainee.studies.runner`) and `stability.json` if
present (`benchmarks/verdict_stability.py`), redraws every figure from the stored
numbers (matplotlib, Agg, inline SVG), recomputes every verdict (and every placebo's)
with the study's own rule, and writes
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


# Inside <script>, "</script" ends the element and "<!--" changes how the rest is read;
# JSON's \u escapes keep every "<", ">" and "&" out of the markup (JSON.parse reads them).
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _embed_json(obj) -> str:
    return json.dumps(_finite(obj), indent=1).translate(_HTML_SAFE)


def _study_view(stored: dict, placebo: dict | None, stability: list | None) -> dict:
    """What the template shows for one study: figures and verdict from the numbers, and
    beside the verdict why it is what it is: margin, interval method, references, the
    placebo's verdict and the verdict's stability over base seeds."""
    from trainee.studies import study_module
    from trainee.studies.verdict import INTERVAL, MARGINS

    margin = MARGINS.get(stored["name"])
    view = {"name": stored["name"], "claim": stored["claim"], "method": stored["method"],
            "seconds": stored.get("seconds"), "seeds": stored.get("seeds"),
            "verdict": stored["verdict"], "figures": [], "pictures": [], "references": [],
            "margin": margin._asdict() if margin else None, "interval": INTERVAL,
            "placebo": placebo and {"verdict": placebo["verdict"],
                                    "how": placebo["result"].get("placebo")},
            "stability": _stability_view(stability)}
    try:
        module = study_module(stored["name"])
    except ValueError:  # a study this version no longer knows: show what was stored
        return view
    result = stored["result"]
    view["verdict"] = module.verdict(result).to_json()
    if placebo is not None:
        view["placebo"]["verdict"] = module.verdict(placebo["result"]).to_json()
    view["figures"] = [(title, _METADATA.sub("", svg)) for title, svg in module.draw(result)]
    view["pictures"] = result.get("pictures", []) if isinstance(result, dict) else []
    view["references"] = _reference_rows(result.get("references") or {})
    return view


REFERENCE_COLUMNS = ("agent", "untrained", "random", "oracle", "agent_normalised")


def _reference_rows(refs: dict) -> list[tuple[str, list[str]]]:
    """(label, cells) per evaluation set: each reference as IQM [95% CI], or a dash."""
    from trainee.measures import format_ci

    return [(label, [format_ci(block[c]) if block.get(c) else "-" for c in REFERENCE_COLUMNS])
            for label, block in refs.items()]


def _stability_view(runs: list | None) -> dict | None:
    """{"stable", "text"} from one study's verdicts at several base seeds."""
    if not runs:
        return None
    statuses = [r["status"] for r in runs]
    text = ", ".join(f"seed {r['seed']}: {r['status']}" for r in runs)
    return {"stable": len(set(statuses)) == 1, "text": text}


def build_html(run: dict, studies: list[dict], run_id: str, placebos: dict | None = None,
               stability: dict | None = None) -> str:
    import jinja2

    from trainee.report.template import TEMPLATE

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    placebos, stable = placebos or {}, (stability or {}).get("studies", {})
    views = [_study_view(s, placebos.get(s["name"]), stable.get(s["name"])) for s in studies]
    stripped = [{**s, "result": _strip_pictures(s["result"])} for s in studies]
    setup = {k: v for k, v in run.items() if k != "studies"}
    return env.from_string(TEMPLATE).render(
        run=run, run_id=run_id, studies=views, stability=stability,
        total_minutes=f"{sum(s.get('seconds') or 0 for s in studies) / 60:.1f}",
        rendered=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        setup_text=json.dumps(_finite(setup), indent=2),
        results_json=_embed_json({"run": run, "studies": stripped, "stability": stability,
                                  "placebos": {k: _strip_pictures(v["result"])
                                               for k, v in placebos.items()}}),
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
    listed = run.get("studies", []) if isinstance(run, dict) else None
    if not isinstance(listed, list):
        raise ValueError(f"{run_dir / 'run.json'} is not a run record (no list of studies)")
    # a study's name is a file name below studies/: only the registry's are read
    if unknown := [n for n in listed if n not in STUDIES]:
        raise ValueError(f"{run_dir / 'run.json'} names unknown studies {unknown!r}: "
                         f"known are {', '.join(STUDIES)}")
    names = [n for n in STUDIES if (run_dir / "studies" / f"{n}.json").exists()]
    studies = [read_json(run_dir / "studies" / f"{n}.json") for n in names]
    placebos = {n: read_json(run_dir / "studies" / f"{n}.placebo.json") for n in names
                if (run_dir / "studies" / f"{n}.placebo.json").exists()}
    stability = (read_json(run_dir / "stability.json")
                 if (run_dir / "stability.json").exists() else None)
    path = run_dir / "report.html"
    atomic_write_bytes(path, build_html(run, studies, str(run_dir), placebos,
                                        stability).encode())
    path.chmod(0o644)  # a report is for sharing (atomic writes create 0600 temp files)
    return path
