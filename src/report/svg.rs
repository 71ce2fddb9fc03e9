//! Charts as inline SVG, drawn here from the numbers: no script library, nothing
//! to fetch, and they print. Labels are escaped like any other text.

use std::fmt::Write as _;

use super::html::escape;

const PALETTE: [&str; 10] = [
    "#2f6fde", "#e67700", "#2b8a3e", "#c92a2a", "#7048e8", "#0b7285", "#d6336c", "#5c940d", "#495057",
    "#f08c00",
];

pub fn color(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

fn open(width: f64, height: f64, label: &str) -> String {
    format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\">\n",
        escape(label)
    )
}

/// A round step for an axis reaching `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / ticks;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn tick_label(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Horizontal bars, one per item, with the value at the end.
pub fn bars(label: &str, items: &[(String, f64)], color_of: impl Fn(usize) -> &'static str) -> String {
    let (left, right, row) = (230.0, 60.0, 22.0);
    let width = 640.0;
    let height = 24.0 + row * items.len().max(1) as f64;
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let scale = (width - left - right) / max;
    let mut svg = open(width, height, label);
    for (i, (name, value)) in items.iter().enumerate() {
        let y = 8.0 + row * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left:.0}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            left - 6.0,
            y + 14.0,
            escape(name),
            y + 2.0,
            (value * scale).max(1.0),
            row - 6.0,
            color_of(i),
            escape(name),
            tick_label(*value),
            left + value * scale + 4.0,
            y + 14.0,
            tick_label(*value)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars over labelled bins (a histogram).
pub fn histogram(label: &str, bins: &[(String, f64)], axis: &str) -> String {
    let (left, bottom, top, width, height) = (48.0, 40.0, 12.0, 640.0, 260.0);
    let max = bins.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let step = nice_step(max, 5.0);
    let top_value = (max / step).ceil() * step;
    let plot_h = height - bottom - top;
    let slot = (width - left - 8.0) / bins.len().max(1) as f64;
    let mut svg = open(width, height, label);
    let mut tick = 0.0;
    while tick <= top_value + step / 2.0 {
        let y = top + plot_h - tick / top_value * plot_h;
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{left}\" x2=\"{:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            width - 8.0,
            left - 4.0,
            y + 4.0,
            tick_label(tick)
        );
        tick += step;
    }
    for (i, (name, value)) in bins.iter().enumerate() {
        let h = value / top_value * plot_h;
        let x = left + slot * i as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
            x + 2.0,
            top + plot_h - h,
            slot - 4.0,
            color(0),
            escape(name),
            tick_label(*value),
            x + slot / 2.0,
            height - bottom + 14.0,
            escape(name)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" class=\"note\">{}</text></svg>",
        left + (width - left) / 2.0,
        height - 6.0,
        escape(axis)
    );
    svg
}

/// Five numbers of a distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxStats {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

impl BoxStats {
    /// From sorted values (linear interpolation between ranks); `None` when empty.
    pub fn of_sorted(sorted: &[f64]) -> Option<Self> {
        let q = |f: f64| crate::score::percentile::percentile_cont(sorted, f);
        Some(Self {
            min: *sorted.first()?,
            q1: q(0.25)?,
            median: q(0.5)?,
            q3: q(0.75)?,
            max: *sorted.last()?,
        })
    }
}

/// One horizontal box per row, on a shared axis cut at `cap` (longer whiskers are
/// drawn to the edge and their value written).
pub fn box_plot(label: &str, rows: &[(String, BoxStats)], cap: f64, axis: &str) -> String {
    let (left, right, row) = (230.0, 16.0, 20.0);
    let width = 640.0;
    let height = 40.0 + row * rows.len().max(1) as f64;
    let top_value = rows
        .iter()
        .map(|(_, s)| s.max.min(cap))
        .fold(0.0, f64::max)
        .max(1.0);
    let step = nice_step(top_value, 6.0);
    let top_value = (top_value / step).ceil() * step;
    let x_of = |v: f64| left + v.min(top_value) / top_value * (width - left - right);
    let mut svg = open(width, height, label);
    let mut tick = 0.0;
    while tick <= top_value + step / 2.0 {
        let x = x_of(tick);
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"4\" y2=\"{:.0}\"/><text x=\"{x:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
            height - 30.0,
            height - 18.0,
            tick_label(tick)
        );
        tick += step;
    }
    for (i, (name, s)) in rows.iter().enumerate() {
        let y = 8.0 + row * i as f64;
        let mid = y + row / 2.0 - 2.0;
        let _ = writeln!(
            svg,
            "<g><title>{}: min {:.1}, quartiles {:.1} / {:.1} / {:.1}, max {:.1}</title>\
             <text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\" stroke=\"#616e7c\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d0ebff\" stroke=\"{}\"/>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"2\"/></g>",
            escape(name),
            s.min,
            s.q1,
            s.median,
            s.q3,
            s.max,
            left - 6.0,
            mid + 4.0,
            escape(name),
            x_of(s.min),
            x_of(s.max),
            x_of(s.q1),
            y + 2.0,
            (x_of(s.q3) - x_of(s.q1)).max(1.0),
            row - 8.0,
            color(0),
            x_of(s.median),
            x_of(s.median),
            y + 2.0,
            y + row - 6.0,
            color(3),
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text></svg>",
        left + (width - left) / 2.0,
        height - 4.0,
        escape(axis)
    );
    svg
}

/// Lines over the same x labels; `None` leaves a gap. A `bold` series is the team's.
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub bold: bool,
}

pub fn lines(label: &str, x_labels: &[String], series: &[Series], axis: &str) -> String {
    let (left, right, top, bottom, width, height) = (48.0, 170.0, 12.0, 36.0, 760.0, 280.0);
    let values = series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let step = nice_step((hi - lo).max(1e-9), 5.0);
    let (y_min, y_max) = (
        (lo / step).floor() * step,
        ((hi / step).ceil() * step).max((lo / step).floor() * step + step),
    );
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let x_of = |i: usize| {
        left + if x_labels.len() > 1 {
            plot_w * i as f64 / (x_labels.len() - 1) as f64
        } else {
            plot_w / 2.0
        }
    };
    let y_of = |v: f64| top + plot_h - (v - y_min) / (y_max - y_min) * plot_h;
    let mut svg = open(width, height, label);
    let mut tick = y_min;
    while tick <= y_max + step / 2.0 {
        let y = y_of(tick);
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{left}\" x2=\"{:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left + plot_w,
            left - 4.0,
            y + 4.0,
            tick_label(tick)
        );
        tick += step;
    }
    let every = (x_labels.len() / 8).max(1);
    for (i, x_label) in x_labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
            x_of(i),
            height - bottom + 16.0,
            escape(x_label)
        );
    }
    for (k, s) in series.iter().enumerate() {
        let stroke = if s.bold { "#1f2933" } else { color(k) };
        let width_px = if s.bold { 3.0 } else { 1.5 };
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x_of(i),
                        y_of(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = writeln!(
            svg,
            "<path d=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width_px}\"><title>{}</title></path>",
            path.trim_end(),
            escape(&s.name)
        );
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{stroke}\"><title>{} {}: {:.2}</title></circle>",
                    x_of(i),
                    y_of(*v),
                    escape(&s.name),
                    escape(&x_labels[i]),
                    v
                );
            }
        }
        let legend_y = top + 14.0 * k as f64 + 8.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{:.0}\" x2=\"{:.0}\" y1=\"{legend_y:.1}\" y2=\"{legend_y:.1}\" stroke=\"{stroke}\" stroke-width=\"{width_px}\"/>\
             <text x=\"{:.0}\" y=\"{:.1}\">{}</text>",
            left + plot_w + 10.0,
            left + plot_w + 26.0,
            left + plot_w + 30.0,
            legend_y + 4.0,
            escape(&s.name)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text></svg>",
        left + plot_w / 2.0,
        height - 4.0,
        escape(axis)
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 2.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
    }

    #[test]
    fn labels_are_escaped_in_every_chart() {
        let evil = "<script>x</script>".to_string();
        let charts = [
            bars("t", &[(evil.clone(), 3.0)], color),
            histogram("t", &[(evil.clone(), 3.0)], "s"),
            box_plot(
                "t",
                &[(
                    evil.clone(),
                    BoxStats {
                        min: 1.0,
                        q1: 2.0,
                        median: 3.0,
                        q3: 4.0,
                        max: 5.0,
                    },
                )],
                600.0,
                "s",
            ),
            lines(
                "t",
                &["d1".into()],
                &[Series {
                    name: evil.clone(),
                    values: vec![Some(1.0)],
                    bold: false,
                }],
                "s",
            ),
        ];
        for chart in charts {
            assert!(
                !chart.contains("<script>") && chart.contains("&lt;script&gt;"),
                "{chart}"
            );
            assert!(chart.starts_with("<svg class=\"chart\""));
        }
    }

    #[test]
    fn box_stats_are_quartiles() {
        let s = BoxStats::of_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((s.min, s.q1, s.median, s.q3, s.max), (1.0, 2.0, 3.0, 4.0, 5.0));
        assert_eq!(BoxStats::of_sorted(&[]), None);
    }
}
