"""The report's jinja2 template, kept in a Python module so it ships with the package
without package-data configuration. Self-contained: inline CSS, inline SVG, base64
PNGs, numbers as embedded JSON; no script runs, nothing is fetched."""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trainee report: {{ run_id }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 1000px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; }
.sub { color: #666; } table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #eee;
         vertical-align: top; }
th { background: #f6f6f8; } code, pre { font: 12px ui-monospace, Menlo, Consolas, monospace; }
pre { background: #f6f6f8; padding: 0.8em; overflow-x: auto; }
.v { display: inline-block; padding: 0.05em 0.55em; border-radius: 0.8em; font-weight: 600;
     font-size: 0.9em; white-space: nowrap; }
.v-supported { background: #d9f2dc; color: #135d1f; }
.v-not-supported { background: #fbdada; color: #8a1414; }
.v-inconclusive { background: #fff1c9; color: #6b5100; }
.v-not-yet-available { background: #e6e6ea; color: #444; }
.claim { font-size: 1.05em; font-style: italic; } .reason { margin: 0.6em 0; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
img.strip { max-width: 100%; image-rendering: pixelated; }
details { margin: 0.8em 0; }
</style>
</head>
<body>
<h1>trainee: claims about AI, as experiments</h1>
<p class="sub">Run <code>{{ run_id }}</code> &middot; scale <b>{{ run.scale }}</b> &middot;
{{ run.seeds }} seeds per configuration &middot; {{ total_minutes }} min of compute &middot;
rendered {{ rendered }}</p>
<p>Each study states a claim, runs an experiment over several seeds (each seed with its own
training pool, evaluation tasks and episode keys; base seed {{ run.seed | default(0) }}), and gives
a verdict computed from the data against the study's margin of practical relevance m:
<span class="v v-supported">supported</span> when the 95% interval of the effect lies above m,
<span class="v v-not-supported">not supported</span> when it lies below m (an effect inside
(0, m) is negligible), otherwise <span class="v v-inconclusive">inconclusive</span>. Point
estimates are interquartile means (IQM) across seeds with 95% order-statistic intervals
(docs/measures.md). Beside each verdict: the margin, the references measured in the same run
on the same tasks and keys (random policy, oracle, untrained parameters; normalised = (s -
random) / (oracle - random)), the verdict of the study's placebo (a comparison with no effect
by construction, which must not come out supported) and, when measured, the verdict at other
base seeds.{% if run.scale != "full" %} At <b>{{ run.scale }}</b> scale budgets are small: a
verdict here is about these agents at this budget, not about the claim in general.{% endif %}</p>

<h2 id="summary">Summary</h2>
<table>
<tr><th>study</th><th>claim</th><th>verdict</th><th>key number (IQM [95% CI])</th>
<th>placebo</th><th>over base seeds</th></tr>
{% for s in studies %}
<tr><td><a href="#{{ s.name }}">{{ s.name }}</a></td><td>{{ s.claim }}</td>
<td><span class="v v-{{ s.verdict.status | replace(' ', '-') }}">{{ s.verdict.status }}</span></td>
<td>{% if s.verdict.value %}{{ s.verdict.key }}: <b>{{ "%.3f" | format(s.verdict.value.iqm) }}</b>
[{{ "%.3f" | format(s.verdict.value.ci_low) }}, {{ "%.3f" | format(s.verdict.value.ci_high) }}]
{% else %}&mdash;{% endif %}</td>
<td>{% if s.placebo %}{{ s.placebo.verdict.status }}{% else %}not run{% endif %}</td>
<td>{% if s.stability %}{% if s.stability.stable %}stable{% else %}<b>differs between base
seeds</b>{% endif %} ({{ s.stability.text }}){% else %}not measured{% endif %}</td></tr>
{% endfor %}
</table>

{% for s in studies %}
<h2 id="{{ s.name }}">{{ s.name }}</h2>
<p class="claim">Claim: {{ s.claim }}</p>
<p><b>Method.</b> {{ s.method }}</p>
<p class="reason">
<span class="v v-{{ s.verdict.status | replace(' ', '-') }}">{{ s.verdict.status }}</span>
{{ s.verdict.reason }}</p>
<p><b>Why.</b>{% if s.margin %} Margin m = {{ s.margin.value }} ({{ s.margin.unit }}):
{{ s.margin.why }}.{% endif %} Interval: {{ s.interval }}.
{% if s.placebo %}Placebo ({{ s.placebo.how }}):
<span class="v v-{{ s.placebo.verdict.status | replace(' ', '-') }}">{{ s.placebo.verdict.status
}}</span> {{ s.placebo.verdict.reason }}.{% else %}Placebo: not run
(<code>trainee run --placebo</code>).{% endif %}
{% if s.stability %}Over base seeds: {{ s.stability.text }}.{% endif %}</p>
{% if s.references %}
<table class="refs">
<tr><th>success on</th><th>agent</th><th>untrained</th><th>random</th><th>oracle</th>
<th>agent, normalised</th></tr>
{% for label, cells in s.references %}
<tr><td>{{ label }}</td>{% for c in cells %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}
</table>{% endif %}
{% if s.seconds is not none and s.verdict.status != "not yet available" %}
<p class="sub">{{ "%.0f" | format(s.seconds) }} s on this machine
(including compilation), {{ s.seeds }} seeds.</p>{% endif %}
{% for title, svg in s.figures %}
<figure>{{ svg | safe }}<figcaption>{{ title }}</figcaption></figure>
{% endfor %}
{% for p in s.pictures %}
<figure><img class="strip" alt="{{ p.caption }}" src="data:image/png;base64,{{ p.png_base64 }}">
<figcaption>{{ p.caption }}</figcaption></figure>
{% endfor %}
{% endfor %}

<h2 id="setup">Configuration, seeds, versions and machine</h2>
<pre>{{ setup_text }}</pre>
<p class="sub">Every number in this report is embedded below as JSON
(<code>script#trainee-results</code>); <code>trainee report {{ run_id }}</code> re-renders this
file from the stored results without retraining.</p>
<script type="application/json" id="trainee-results">{{ results_json | safe }}</script>
</body>
</html>
"""
