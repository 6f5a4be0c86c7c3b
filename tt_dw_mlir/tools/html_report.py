"""`tt-dw run --report out.html`: one self-contained page (inline SVG and CSS, no scripts).

    render(result) -> str     # `result` is the document `tt-dw run --json` prints

Charts, one row per depthwise layer in network order: 1 - PCC and relative error
(log scales, the weight dtype's target drawn), the cost model's pool-vs-matmul
estimate, and a picture of the device's core grid with the layer's shard cores.
"""

from __future__ import annotations

import html
import math
from typing import Any, Sequence

_ROW = 18          # px per layer row in the bar charts
_LABEL = 230       # px for the layer names
_PLOT = 360        # px for the bars
_SCHEME_COLOUR = {"height_sharded": "#2b6cb0", "width_sharded": "#2f855a",
                  "block_sharded": "#b7791f"}
_BAD = "#c53030"
_MUTED = "#a0aec0"

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1a202c;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #e2e8f0}
.meta{color:#4a5568} .warn{background:#fff5f5;border:1px solid #feb2b2;color:#9b2c2c;padding:8px 12px;margin:12px 0}
.ok{background:#f0fff4;border:1px solid #9ae6b4;color:#22543d;padding:8px 12px;margin:12px 0}
table{border-collapse:collapse;font-size:12px} td,th{padding:2px 8px;border-bottom:1px solid #edf2f7;text-align:left}
th{background:#f7fafc} .num{text-align:right;font-variant-numeric:tabular-nums}
.grids{display:flex;flex-wrap:wrap;gap:14px} .grid{font-size:11px;width:150px}
.grid b{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
svg text{font:11px system-ui,sans-serif} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _log_position(value: float, lo: float, hi: float) -> float:
    value = min(max(value, lo), hi)
    return (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * _PLOT


def _decades(values: Sequence[float], floor: float) -> tuple[float, float]:
    positive = [v for v in values if v and v > 0]
    lo = 10 ** math.floor(math.log10(min(positive))) if positive else floor
    hi = 10 ** math.ceil(math.log10(max(positive))) if positive else floor * 10
    lo = max(min(lo, hi / 10), floor)
    return lo, max(hi, lo * 10)


def _label(name: str) -> str:
    return name if len(name) <= 34 else "\u2026" + name[-33:]


def _bar_chart(layers: list[dict], values: list[float | None], title: str, *,
               target: float | None = None, target_label: str = "", fmt=str,
               floor: float = 1e-9) -> str:
    """Horizontal log-scale bars; a value over `target` (if given) is drawn in red."""
    lo, hi = _decades(values + ([target] if target else []), floor)
    height = _ROW * len(layers) + 40
    width = _LABEL + _PLOT + 90
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(title)}">']
    decades = int(round(math.log10(hi / lo)))
    for k in range(decades + 1):
        x = _LABEL + k * _PLOT / decades
        parts.append(f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height - 22}" stroke="#edf2f7"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#718096">'
                     f'1e{round(math.log10(lo)) + k}</text>')
    for i, (layer, value) in enumerate(zip(layers, values)):
        y = 16 + i * _ROW
        parts.append(f'<text x="{_LABEL - 6}" y="{y + 11}" text-anchor="end"><title>{_e(layer["name"])}'
                     f'</title>{_e(_label(layer["name"]))}</text>')
        if value is None:
            reason = layer.get("reason") or "not run"
            parts.append(f'<text x="{_LABEL + 4}" y="{y + 11}" fill="{_MUTED}">not converted: '
                         f'{_e(reason[:60])}</text>')
            continue
        w = max(_log_position(value, lo, hi), 1.0)
        bad = target is not None and value > target
        parts.append(f'<rect x="{_LABEL}" y="{y + 2}" width="{w:.1f}" height="{_ROW - 5}" '
                     f'fill="{_BAD if bad else "#4a7ab8"}"><title>{_e(fmt(value))}</title></rect>')
        parts.append(f'<text x="{_LABEL + w + 4:.1f}" y="{y + 11}">{_e(fmt(value))}</text>')
    if target:
        x = _LABEL + _log_position(target, lo, hi)
        parts.append(f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 22}" stroke="{_BAD}" '
                     f'stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x - 3:.1f}" y="10" text-anchor="end" fill="{_BAD}">'
                     f'{_e(target_label)}</text>')
    parts.append("</svg>")
    return f"<h2>{_e(title)}</h2>" + "".join(parts)


def _cost_chart(layers: list[dict]) -> str:
    costs = [layer.get("cost") or {} for layer in layers]
    top = max([c.get(k, 0) for c in costs for k in ("pool_us", "matmul_us")] + [1e-9])
    height = _ROW * 2 * len(layers) + 40
    width = _LABEL + _PLOT + 240
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="pool vs matmul">']
    for k in range(5):
        x = _LABEL + k * _PLOT / 4
        parts.append(f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 22}" stroke="#edf2f7"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#718096">'
                     f'{top * k / 4:.3g} \u00b5s</text>')
    for i, (layer, cost) in enumerate(zip(layers, costs)):
        y = 12 + i * 2 * _ROW
        parts.append(f'<text x="{_LABEL - 6}" y="{y + 18}" text-anchor="end"><title>{_e(layer["name"])}'
                     f'</title>{_e(_label(layer["name"]))}</text>')
        if not cost:
            parts.append(f'<text x="{_LABEL + 4}" y="{y + 18}" fill="{_MUTED}">no estimate</text>')
            continue
        for j, (key, colour) in enumerate((("pool_us", "#2b6cb0"), ("matmul_us", "#a0aec0"))):
            w = max(cost[key] / top * _PLOT, 1.0)
            parts.append(f'<rect x="{_LABEL}" y="{y + 2 + j * (_ROW - 2)}" width="{w:.1f}" '
                         f'height="{_ROW - 5}" fill="{colour}"><title>{key[:-3]}: '
                         f'{cost[key]:.2f} \u00b5s</title></rect>')
        end = _LABEL + max(cost["pool_us"], cost["matmul_us"]) / top * _PLOT
        faster = "pool faster" if cost["ratio"] >= 1 else "matmul faster"
        parts.append(f'<text x="{end + 6:.1f}" y="{y + 18}">matmul/pool \u00d7{cost["ratio"]:.2f} '
                     f'({faster})</text>')
    parts.append("</svg>")
    legend = ('<div class="legend"><span style="background:#2b6cb0"></span>pool2d kernel program'
              '<span style="background:#a0aec0"></span>the same conv as a matmul</div>')
    return "<h2>Pool vs matmul estimate (cost model)</h2>" + legend + "".join(parts)


def _core_grid(layer: dict) -> str:
    layout = layer.get("layout")
    if not layout:
        return ""
    rows, cols = layout.get("device_grid") or layout["grid"]
    cell = max(4, min(14, 140 // max(rows, cols)))
    colour = _SCHEME_COLOUR.get(layout["scheme"], "#4a5568")
    used = set()
    for (x0, y0), (x1, y1) in layout.get("core_ranges", []):
        used.update((x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1))
    parts = [f'<svg width="{cols * cell + 1}" height="{rows * cell + 1}" role="img" '
             f'aria-label="core grid">']
    for y in range(rows):
        for x in range(cols):
            fill = colour if (x, y) in used else "#edf2f7"
            parts.append(f'<rect x="{x * cell + 0.5}" y="{y * cell + 0.5}" width="{cell - 1}" '
                         f'height="{cell - 1}" fill="{fill}"/>')
    parts.append("</svg>")
    scheme = layout["scheme"].replace("_sharded", "")
    return (f'<div class="grid"><b title="{_e(layer["name"])}">{_e(_label(layer["name"]))}</b>'
            f'{"".join(parts)}<br>{_e(scheme)}: {layout["cores"]} of {rows * cols} cores, '
            f'{layout["channel_shards"]}\u00d7{layout["channels_per_shard"]} ch</div>')


def _layer_table(layers: list[dict]) -> str:
    head = ("<tr><th>layer</th><th>NHWC in \u2192 out</th><th>kernel</th><th>stride</th>"
            "<th>converted</th><th class=num>PCC</th><th class=num>rel. error</th>"
            "<th class=num>pool / matmul \u00b5s</th></tr>")
    body = []
    for layer in layers:
        shapes = ("x".join(map(str, layer["input_shape"])) + " \u2192 "
                  + "x".join(map(str, layer["output_shape"])))
        cost = layer.get("cost")
        pcc = "" if layer.get("pcc") is None else f"{layer['pcc']:.6f}"
        rel = "" if layer.get("relative_error") is None else f"{layer['relative_error']:.2e}"
        est = "" if not cost else f"{cost['pool_us']:.1f} / {cost['matmul_us']:.1f}"
        converted = "yes" if layer["converted"] else "no: " + _e(layer.get("reason") or "")
        body.append(
            f'<tr><td>{_e(layer["name"])}</td><td>{shapes}</td>'
            f'<td>{"x".join(map(str, layer["kernel"]))}</td>'
            f'<td>{"x".join(map(str, layer["stride"]))}</td><td>{converted}</td>'
            f'<td class=num>{pcc}</td><td class=num>{rel}</td><td class=num>{est}</td></tr>')
    return f"<h2>Layers</h2><table>{head}{''.join(body)}</table>"


def render(result: dict) -> str:
    """The page for one `tt-dw run` / `tt-dw compile` result document."""
    from tt_dw_mlir.tools.cli import LAYER_PCC_TARGET

    layers = result["layers"]
    dtype = result["weight_dtype"]
    target = LAYER_PCC_TARGET[dtype]
    e2e = result.get("end_to_end")
    shapes = ", ".join("x".join(map(str, s)) for s in result["input_shapes"])
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
           f"<title>tt-dw: {_e(result['model'])}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_e(result['model'])}</h1>",
           f'<div class=meta>{_e(result["source"])} \u00b7 input {_e(shapes)} \u00b7 device '
           f'{_e(result["device"])} \u00b7 weights {_e(dtype)} \u00b7 path {_e(result["path"])}'
           + (f' \u00b7 backend {_e(result["backend"])}' if "backend" in result else "") + "</div>"]
    summary = (f"{result['converted']} of {result['depthwise_layers']} depthwise convs converted "
               f"to pool2d kernel programs")
    host = result.get("host_ops") or []
    if host:
        summary += f"; {len(host)} op(s) on the host ({_e(', '.join(sorted(set(map(str, host)))))})"
    if e2e:
        summary += (f". End-to-end PCC against {_e(e2e['reference'])}: <b>{e2e['pcc']:.6f}</b> "
                    f"(with nothing converted: {e2e['baseline_pcc']:.6f}; target "
                    f"{e2e['target_pcc']})")
    out.append(f"<p>{summary}.</p>")
    warnings = result.get("accuracy_warnings") or []
    if warnings:
        out.append('<div class=warn><b>Under the accuracy target</b><ul>'
                   + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul></div>")
    elif e2e:
        out.append(f'<div class=ok>Every layer meets the {_e(dtype)} target (PCC \u2265 {target}) '
                   f'and the network meets {e2e["target_pcc"]}.</div>')
    if not layers:
        out.append("<p>The model has no depthwise conv: nothing to convert.</p>")
    else:
        if e2e:
            out.append(_bar_chart(
                layers, [None if l.get("pcc") is None else max(1.0 - l["pcc"], 1e-12) for l in layers],
                "1 \u2212 PCC per layer (log scale; shorter is better)", target=1.0 - target,
                target_label=f"{dtype} target PCC {target}", fmt=lambda v: f"PCC {1 - v:.6f}",
                floor=1e-9))
            out.append(_bar_chart(
                layers, [l.get("relative_error") for l in layers],
                "Relative error per layer, max|err| / max|ref| (log scale)",
                fmt=lambda v: f"{v:.2e}", floor=1e-6))
        out.append(_cost_chart(layers))
        grids = [_core_grid(l) for l in layers if l.get("layout")]
        if grids:
            legend = "".join(f'<span style="background:{c}"></span>{s.replace("_", " ")}'
                             for s, c in _SCHEME_COLOUR.items())
            out.append(f"<h2>Sharding: the device's core grid, cores holding a shard filled</h2>"
                       f'<div class="legend">{legend}</div><div class=grids>{"".join(grids)}</div>')
        out.append(_layer_table(layers))
    out.append("</body></html>")
    return "\n".join(out)
