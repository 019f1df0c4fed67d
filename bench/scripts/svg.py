"""Plain SVG line charts, written by hand (only the standard library is available)."""

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 36, 56
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _ticks(lo, hi, log):
    if log:
        return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / 5))
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= 6:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _label(v):
    if v == 0:
        return "0"
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def line_chart(title, x_label, y_label, series, log_x=False, hline=None):
    """series: [(name, [(x, y), ...]), ...]; hline: optional (y, label) drawn dashed."""
    points = [p for _, pts in series for p in pts]
    if not points:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points] + ([hline[0]] if hline else [])
    x_lo, x_hi = min(xs), max(xs)
    if log_x:
        x_lo, x_hi = 10 ** math.floor(math.log10(x_lo)), 10 ** math.ceil(math.log10(x_hi))
    elif x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo, y_hi = 0.0, max(ys) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x):
        if log_x:
            return LEFT + plot_w * (math.log10(x) - math.log10(x_lo)) / (
                math.log10(x_hi) - math.log10(x_lo))
        return LEFT + plot_w * (x - x_lo) / (x_hi - x_lo)

    def sy(y):
        return TOP + plot_h * (1 - (y - y_lo) / (y_hi - y_lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for t in _ticks(x_lo, x_hi, log_x):
        if x_lo <= t <= x_hi:
            x = sx(t)
            out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
            out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{_label(t)}</text>')
    for t in _ticks(y_lo, y_hi, False):
        y = sy(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(t)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 14}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(16,{TOP + plot_h / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    if hline:
        y = sy(hline[0])
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
                   f'stroke="#888" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{LEFT + plot_w - 4}" y="{y - 4:.1f}" text-anchor="end" '
                   f'fill="#555">{escape(hline[1])}</text>')
    for i, (name, pts) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in (pts if len(pts) <= 40 else []):  # dense curves read better without dots
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>')
        out.append(f'<text x="{LEFT + 10}" y="{TOP + 16 + 16 * i}" fill="{color}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def cdf_points(histogram):
    """(latency_ms, cumulative %) pairs from a generator histogram's buckets."""
    total = histogram.get("count", 0)
    seen, pts = 0, []
    for upper_us, count in histogram.get("buckets", []):
        seen += count
        pts.append((max(upper_us, 1) / 1000.0, 100.0 * seen / total))
    return pts
