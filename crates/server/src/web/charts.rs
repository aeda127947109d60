//! Small server-side charts for the statistics pages: two series over time (received
//! and resolved), labelled horizontal bars (a rate per department), stacked horizontal
//! bars (overdue dossiers per department by how late they are) and a mix (dossiers per
//! channel). No script, no inline style (the CSP forbids both): every mark has a class
//! styled in `static/director.css`.
//!
//! The time chart and the stacked bars are images: a `<figure>` holding an SVG with
//! `role="img"`, a `<title>` and a `<desc>`, and nothing to focus inside; the same numbers
//! follow as a table (in a `<details>` under the chart), whose cells link to the lists of
//! dossiers behind them — that table is the keyboard's way in. The rate bars are a list
//! of real HTML text (department, value, words for a low rate) with a drawn bar beside
//! each, the department a link when there is a list behind it. Nothing is said by colour
//! alone: series differ by line style and marker shape too, segments are in the legend's
//! order and carry their number, and each bar has its value written next to it. Every
//! colour that carries meaning stands out at least 3:1 against white, and the SVGs are
//! drawn at about the size they are shown on a 360 px phone, so their text stays 12 px or
//! more there. All text is escaped.

use std::fmt::Write as _;

use crate::notify::html_escape as esc;

/// A count the Vietnamese way: `1.538`.
pub fn num(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at least `max`; 1 for
/// nothing, so an empty chart still has an axis.
pub fn nice_ceiling(max: i64) -> i64 {
    if max <= 1 {
        return 1;
    }
    let mut p = 1i64;
    loop {
        for m in [1, 2, 5] {
            if let Some(v) = p.checked_mul(m)
                && v >= max
            {
                return v;
            }
        }
        match p.checked_mul(10) {
            Some(next) => p = next,
            None => return max,
        }
    }
}

/// One number of a chart: its value, and the list of dossiers behind it if there is one.
#[derive(Debug, Clone, Default)]
pub struct Mark {
    /// The count.
    pub value: i64,
    /// The list behind it.
    pub href: Option<String>,
}

impl Mark {
    /// A count with the list behind it.
    pub fn linked(value: i64, href: impl Into<String>) -> Mark {
        Mark {
            value,
            href: Some(href.into()),
        }
    }

    /// A count with no list behind it.
    pub fn plain(value: i64) -> Mark {
        Mark { value, href: None }
    }
}

/// The number as a table cell, linked to its list.
fn cell(m: &Mark) -> String {
    let n = num(m.value);
    match &m.href {
        Some(h) if m.value > 0 => format!("<td class=\"num\"><a href=\"{}\">{n}</a></td>", esc(h)),
        _ => format!("<td class=\"num\">{n}</td>"),
    }
}

/// What a table cell with no mark shows: 0.
static NO_MARK: Mark = Mark { value: 0, href: None };

/// Ends a chart: closes its SVG, adds every number as a table under it (in a `<details>`:
/// a column per head after the `corner` one, then one row per label with its marks, each
/// linked to its list) and closes the figure.
fn close_with_table<'a>(
    out: &mut String,
    title: &str,
    corner: &str,
    heads: &[&str],
    rows: impl Iterator<Item = (&'a str, Vec<&'a Mark>)>,
) {
    let _ = write!(
        out,
        "</svg><details class=\"chart-data\"><summary>Bảng số liệu: {}</summary><div class=\"scroll\"><table class=\"overview\"><thead><tr><th scope=\"col\">{}</th>",
        esc(title),
        esc(corner)
    );
    for head in heads {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(head));
    }
    out.push_str("</tr></thead><tbody>");
    for (label, marks) in rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(label));
        for m in marks {
            out.push_str(&cell(m));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details></figure>");
}

/// Width of every chart's coordinate system; the SVG scales it to its container.
pub const WIDTH: f64 = 320.0;

fn f(x: f64) -> String {
    // One decimal is plenty at this scale and keeps the markup small.
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn open_svg(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart-svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" focusable=\"false\">\
         <title id=\"{id}-t\">{t}</title><desc id=\"{id}-d\">{d}</desc>",
        w = f(WIDTH),
        h = f(height),
        id = esc(id),
        t = esc(title),
        d = esc(desc),
    );
}

/// A series of a time chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name ("Tiếp nhận").
    pub name: String,
    /// One mark per point of the time axis.
    pub points: Vec<Mark>,
}

/// Geometry of the time chart's plot area.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    max: i64,
    n: usize,
}

impl Plot {
    fn x(&self, i: usize) -> f64 {
        if self.n <= 1 {
            (self.left + self.right) / 2.0
        } else {
            self.left + (self.right - self.left) * i as f64 / (self.n - 1) as f64
        }
    }

    fn y(&self, v: i64) -> f64 {
        self.bottom - (self.bottom - self.top) * (v.max(0) as f64) / (self.max as f64)
    }
}

/// Height of the time chart.
pub const TIME_HEIGHT: f64 = 200.0;

/// Two (or more) series over time as lines: the first solid with round markers, the
/// second dashed with square markers (so print and colour-blind readers tell them
/// apart), a y axis from 0 to a round maximum, at most seven dates on the x axis, and a
/// table of every point under the chart (with the links). `labels` names each point of
/// the time axis; a series may have fewer points than labels (a period not over yet):
/// its line stops at its last point rather than falling to zero.
pub fn time_chart(id: &str, title: &str, labels: &[String], series: &[Series]) -> String {
    let n = labels.len();
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|m| m.value))
        .max()
        .unwrap_or(0);
    let plot = Plot {
        left: 44.0,
        right: WIDTH - 18.0,
        top: 12.0,
        bottom: TIME_HEIGHT - 58.0,
        max: nice_ceiling(max),
        n,
    };
    let totals: Vec<String> = series
        .iter()
        .map(|s| format!("{} {}", s.name, num(s.points.iter().map(|m| m.value).sum())))
        .collect();
    let desc = if n == 0 {
        "Không có số liệu.".to_owned()
    } else {
        format!(
            "Từ {} đến {}, {} điểm. Tổng: {}. Bảng số liệu ở dưới biểu đồ.",
            labels[0],
            labels[n - 1],
            n,
            totals.join("; ")
        )
    };
    let mut out = String::from("<figure class=\"chart\">");
    open_svg(&mut out, id, TIME_HEIGHT, title, &desc);
    // Grid: 0, half, max.
    for v in [0, plot.max / 2, plot.max] {
        let y = plot.y(v);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{l}\" x2=\"{r}\" y1=\"{y}\" y2=\"{y}\"/><text class=\"axis\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{v}</text>",
            l = f(plot.left),
            r = f(plot.right),
            y = f(y),
            tx = f(plot.left - 5.0),
            ty = f(y + 4.0),
            v = num(v)
        );
    }
    // Dates: at most seven, evenly spaced from the first.
    let every = n.div_ceil(7).max(1);
    for (i, label) in labels.iter().enumerate().step_by(every) {
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{x}\" y=\"{y}\" text-anchor=\"middle\">{t}</text>",
            x = f(plot.x(i)),
            y = f(plot.bottom + 17.0),
            t = esc(label)
        );
    }
    for (k, s) in series.iter().enumerate() {
        let class = format!("s{}", k % 2 + 1);
        if n > 1 && s.points.len() > 1 {
            let pts: Vec<String> = s
                .points
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, m)| format!("{},{}", f(plot.x(i)), f(plot.y(m.value))))
                .collect();
            let _ = write!(out, "<polyline class=\"line {class}\" points=\"{}\"/>", pts.join(" "));
        }
        for (i, m) in s.points.iter().take(n).enumerate() {
            let (x, y) = (plot.x(i), plot.y(m.value));
            if k % 2 == 0 {
                let _ = write!(
                    out,
                    "<circle class=\"dot {class}\" cx=\"{}\" cy=\"{}\" r=\"2.8\"/>",
                    f(x),
                    f(y)
                );
            } else {
                let _ = write!(
                    out,
                    "<rect class=\"dot {class}\" x=\"{}\" y=\"{}\" width=\"5\" height=\"5\"/>",
                    f(x - 2.5),
                    f(y - 2.5)
                );
            }
        }
    }
    // Legend under the axis, one series a line.
    let lx = plot.left;
    for (k, total) in totals.iter().enumerate() {
        let class = format!("s{}", k % 2 + 1);
        let ly = plot.bottom + 37.0 + 17.0 * k as f64;
        let marker = if k % 2 == 0 {
            format!(
                "<circle class=\"dot {class}\" cx=\"{}\" cy=\"{}\" r=\"2.8\"/>",
                f(lx + 11.0),
                f(ly - 4.5)
            )
        } else {
            format!(
                "<rect class=\"dot {class}\" x=\"{}\" y=\"{}\" width=\"5\" height=\"5\"/>",
                f(lx + 8.5),
                f(ly - 7.0)
            )
        };
        let _ = write!(
            out,
            "<line class=\"line {class}\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>{marker}<text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>",
            f(lx),
            f(lx + 22.0),
            f(lx + 28.0),
            f(ly),
            esc(total),
            y = f(ly - 4.5),
        );
    }
    let heads: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    let rows = labels.iter().enumerate().map(|(i, label)| {
        let marks = series.iter().map(|s| s.points.get(i).unwrap_or(&NO_MARK)).collect();
        (label.as_str(), marks)
    });
    close_with_table(&mut out, title, "Thời gian", &heads, rows);
    out
}

/// One bar of [`bar_chart`].
#[derive(Debug, Clone)]
pub struct Bar {
    /// What it measures ("Sở Xây dựng").
    pub label: String,
    /// The value as written next to the bar ("96,5 %").
    pub text: String,
    /// Its length, per mille of the full width.
    pub permille: i64,
    /// Drawn in the warning colour; `note` says why in words.
    pub low: bool,
    /// Said after the value when low ("dưới 90 %").
    pub note: String,
    /// The list behind it.
    pub href: Option<String>,
}

/// Width of a legend character, generously (the legend's font is 13 units).
const LEGEND_CHAR: f64 = 7.4;

/// Height of one row of the stacked bars (label line, bar, gap).
pub const BAR_ROW: f64 = 38.0;

/// Height of a stacked bar.
const BAR_H: f64 = 16.0;

/// Labelled horizontal bars, one per row, as a list of real text: the label (a link to
/// its list when it has one) and the value on a line, the bar drawn under them (full
/// width = 1000 ‰, decoration only: the value is written). Reads without colour and
/// reflows on a phone like any text.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    let mut out = format!(
        "<figure class=\"chart hbars\" id=\"{}\"><figcaption class=\"visually-hidden\">{}</figcaption>",
        esc(id),
        esc(title)
    );
    if bars.is_empty() {
        out.push_str("<p class=\"muted\">Không có số liệu.</p></figure>");
        return out;
    }
    out.push_str("<ul>");
    for b in bars {
        let class = if b.low { "bar-low" } else { "bar-ok" };
        let label = match &b.href {
            Some(h) => format!("<a href=\"{}\">{}</a>", esc(h), esc(&b.label)),
            None => esc(&b.label),
        };
        let value = if b.low {
            format!("{} <span class=\"low\">({})</span>", esc(&b.text), esc(&b.note))
        } else {
            esc(&b.text)
        };
        let _ = write!(
            out,
            "<li><span class=\"hbar-label\">{label}</span> <span class=\"hbar-value\">{value}</span>\
             <svg class=\"hbar\" viewBox=\"0 0 1000 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\">\
             <rect class=\"bar-bg\" x=\"0\" y=\"0\" width=\"1000\" height=\"10\"/><rect class=\"{class}\" x=\"0\" y=\"0\" width=\"{}\" height=\"10\"/></svg></li>",
            b.permille.clamp(0, 1000)
        );
    }
    out.push_str("</ul></figure>");
    out
}

/// One row of [`stacked_bars`].
#[derive(Debug, Clone)]
pub struct Stack {
    /// What it splits ("Sở Xây dựng").
    pub label: String,
    /// One mark per key, in the keys' order.
    pub parts: Vec<Mark>,
    /// The row's total (its list).
    pub total: Mark,
}

/// Horizontal bars split into parts (`keys` names them, left to right), all on the scale
/// of the biggest row; each part wide enough carries its number, the legend gives the
/// order, and a table with every number (linked) follows the chart.
pub fn stacked_bars(id: &str, class: &str, title: &str, keys: &[&str], rows: &[Stack]) -> String {
    // Legend: swatch and name, in order, wrapping to more lines when it is too wide.
    let mut legend = String::new();
    let (mut lx, mut ly) = (0.0, 0.0);
    for (k, key) in keys.iter().enumerate() {
        let w = 17.0 + LEGEND_CHAR * (key.chars().count() as f64 + 3.0) + 8.0;
        if lx > 0.0 && lx + w > WIDTH {
            lx = 0.0;
            ly += 19.0;
        }
        let _ = write!(
            legend,
            "<rect class=\"part p{}\" x=\"{}\" y=\"{}\" width=\"13\" height=\"13\"/><text class=\"legend\" x=\"{}\" y=\"{}\">{}. {}</text>",
            k + 1,
            f(lx),
            f(ly + 2.0),
            f(lx + 17.0),
            f(ly + 13.0),
            k + 1,
            esc(key)
        );
        lx += w;
    }
    let legend_h = ly + 24.0;
    let height = legend_h + (BAR_ROW * rows.len() as f64).max(BAR_ROW);
    let max = rows
        .iter()
        .map(|r| r.parts.iter().map(|m| m.value).sum::<i64>())
        .max()
        .unwrap_or(0);
    let desc = if rows.iter().all(|r| r.parts.iter().all(|m| m.value == 0)) {
        "Không có số liệu.".to_owned()
    } else {
        rows.iter()
            .map(|r| {
                let parts: Vec<String> = keys
                    .iter()
                    .zip(&r.parts)
                    .map(|(k, m)| format!("{k} {}", num(m.value)))
                    .collect();
                format!("{}: {}", r.label, parts.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = format!("<figure class=\"chart {}\">", esc(class));
    open_svg(&mut out, id, height, title, &desc);
    out.push_str(&legend);
    if rows.is_empty() {
        let _ = write!(
            out,
            "<text class=\"legend\" x=\"0\" y=\"{}\">Không có số liệu.</text>",
            f(legend_h + 16.0)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let top = legend_h + BAR_ROW * i as f64;
        let total: i64 = r.parts.iter().map(|m| m.value).sum();
        // The label and its total on one line (a long name and a number never meet).
        let _ = write!(
            out,
            "<text class=\"label\" x=\"0\" y=\"{}\">{}: <tspan class=\"value\">{}</tspan></text>",
            f(top + 13.0),
            esc(&r.label),
            num(total)
        );
        let _ = write!(
            out,
            "<rect class=\"bar-bg\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            f(top + 18.0),
            f(WIDTH),
            f(BAR_H)
        );
        let mut x = 0.0;
        for (k, m) in r.parts.iter().enumerate() {
            if m.value <= 0 || max == 0 {
                continue;
            }
            let w = WIDTH * m.value as f64 / max as f64;
            let _ = write!(
                out,
                "<rect class=\"part p{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                k + 1,
                f(x),
                f(top + 18.0),
                f(w),
                f(BAR_H)
            );
            let text = num(m.value);
            if w >= 7.0 * text.len() as f64 + 6.0 {
                let _ = write!(
                    out,
                    "<text class=\"in p{}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{text}</text>",
                    k + 1,
                    f(x + w / 2.0),
                    f(top + 30.5)
                );
            }
            x += w;
        }
    }
    let heads: Vec<&str> = keys.iter().copied().chain(["Cộng"]).collect();
    let table_rows = rows
        .iter()
        .map(|r| (r.label.as_str(), r.parts.iter().chain([&r.total]).collect()));
    close_with_table(&mut out, title, "", &heads, table_rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(hay: &str, needle: &str) -> usize {
        hay.matches(needle).count()
    }

    #[test]
    fn numbers_and_scales() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1538), "1.538");
        assert_eq!(num(1_234_567), "1.234.567");
        assert_eq!(num(-1200), "-1.200");
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(75), 100);
        assert_eq!(nice_ceiling(101), 200);
        assert_eq!(nice_ceiling(200), 200);
        assert_eq!(nice_ceiling(i64::MAX), i64::MAX);
    }

    #[test]
    fn text_is_escaped_everywhere() {
        let evil = "<script>\"&'";
        let series = vec![Series {
            name: evil.into(),
            points: vec![Mark::linked(3, "/x?a=1&b=\"2\"")],
        }];
        let html = time_chart("t<", evil, &[evil.to_owned()], &series);
        assert!(!html.contains("<script>"));
        assert!(!html.contains("\"&'"));
        assert!(html.contains("&lt;script&gt;&quot;&amp;&#39;"));
        assert!(html.contains("href=\"/x?a=1&amp;b=&quot;2&quot;\""));
        let bars = bar_chart(
            "b",
            evil,
            &[Bar {
                label: evil.into(),
                text: "1 %".into(),
                permille: 10,
                low: true,
                note: evil.into(),
                href: None,
            }],
        );
        assert!(!bars.contains("<script>"));
        let stacked = stacked_bars(
            "s",
            "ages",
            evil,
            &[evil],
            &[Stack {
                label: evil.into(),
                parts: vec![Mark::plain(1)],
                total: Mark::plain(1),
            }],
        );
        assert!(!stacked.contains("<script>"));
    }

    #[test]
    fn time_chart_geometry() {
        let labels: Vec<String> = (1..=5).map(|d| format!("0{d}/06")).collect();
        let received = Series {
            name: "Tiếp nhận".into(),
            points: [0, 10, 20, 5, 40]
                .iter()
                .map(|v| Mark::linked(*v, format!("/l?v={v}")))
                .collect(),
        };
        let resolved = Series {
            name: "Đã giải quyết".into(),
            points: [0, 0, 10, 10, 30].iter().map(|v| Mark::plain(*v)).collect(),
        };
        let html = time_chart("trend", "Xu hướng", &labels, &[received, resolved]);
        assert!(html.contains("role=\"img\""));
        assert!(html.contains("viewBox=\"0 0 320 200\""));
        assert!(!html.contains("style="), "no inline style under the CSP");
        // Max 40 → axis to 50; the plot runs from y=142 (0) to y=12 (50): 40 → 38.
        assert!(html.contains(">50</text>"));
        assert!(html.contains("cy=\"38\""), "{html}");
        // First point at the left edge, last at the right edge.
        assert!(html.contains("points=\"44,142 108.5,116 173,90 237.5,129 302,38\""));
        // Totals in the legend, every point in the table, links only where a count is.
        assert!(html.contains("Tiếp nhận 75"));
        assert!(html.contains("Đã giải quyết 50"));
        assert_eq!(count(&html, "<tr><th scope=\"row\">"), 5);
        assert_eq!(
            count(&html, "<a href=\"/l?v="),
            4,
            "the table's cells only (the image has nothing to focus); zero not linked"
        );
        assert!(!html.contains("/l?v=0"));
        let image = &html[..html.find("</svg>").expect("an svg")];
        assert!(!image.contains("<a "), "no link inside an image");
    }

    #[test]
    fn empty_and_single_point_charts_do_not_break() {
        let html = time_chart("e", "Trống", &[], &[]);
        assert!(html.contains("Không có số liệu."));
        assert!(!html.contains("NaN") && !html.contains("inf"));
        let one = time_chart(
            "o",
            "Một ngày",
            &["12/06".into()],
            &[Series {
                name: "Tiếp nhận".into(),
                points: vec![Mark::plain(0)],
            }],
        );
        assert!(!one.contains("NaN") && !one.contains("inf"));
        // Single point centred: (44 + 302) / 2.
        assert!(one.contains("cx=\"173\""));
        let bars = bar_chart("b", "Trống", &[]);
        assert!(bars.contains("Không có số liệu."));
        let stacked = stacked_bars(
            "s",
            "ages",
            "Trống",
            &["a", "b"],
            &[Stack {
                label: "X".into(),
                parts: vec![Mark::plain(0), Mark::plain(0)],
                total: Mark::plain(0),
            }],
        );
        assert!(!stacked.contains("NaN"));
        assert!(stacked.contains("Không có số liệu."));
    }

    #[test]
    fn bars_and_stacks_scale() {
        let bars = bar_chart(
            "r",
            "Tỉ lệ",
            &[
                Bar {
                    label: "A".into(),
                    text: "100 %".into(),
                    permille: 1000,
                    low: false,
                    note: String::new(),
                    href: Some("/a".into()),
                },
                Bar {
                    label: "B".into(),
                    text: "50 %".into(),
                    permille: 500,
                    low: true,
                    note: "dưới 90 %".into(),
                    href: None,
                },
                Bar {
                    label: "C".into(),
                    text: "?".into(),
                    permille: 5000,
                    low: false,
                    note: String::new(),
                    href: None,
                },
            ],
        );
        assert_eq!(count(&bars, "<li>"), 3);
        assert!(bars.contains("class=\"bar-ok\" x=\"0\" y=\"0\" width=\"1000\""));
        assert!(bars.contains("class=\"bar-low\" x=\"0\" y=\"0\" width=\"500\""));
        assert!(
            bars.contains("50 % <span class=\"low\">(dưới 90 %)</span>"),
            "low said in words, not colour only"
        );
        assert_eq!(
            count(&bars, "width=\"1000\""),
            5,
            "three tracks, A, and C clamped to full width"
        );
        assert_eq!(count(&bars, "<a href="), 1);
        assert!(bars.contains("<a href=\"/a\">A</a>"), "the label is the link, in text");
        assert!(!bars.contains("role=\"img\""));

        let stacked = stacked_bars(
            "o",
            "ages",
            "Quá hạn",
            &["≤ 2 ngày", "3–5 ngày"],
            &[
                Stack {
                    label: "A".into(),
                    parts: vec![Mark::linked(3, "/a1"), Mark::linked(1, "/a2")],
                    total: Mark::linked(4, "/a"),
                },
                Stack {
                    label: "B".into(),
                    parts: vec![Mark::linked(0, "/b1"), Mark::linked(2, "/b2")],
                    total: Mark::linked(2, "/b"),
                },
            ],
        );
        // Biggest row (4) is the full width: 3 → 240, 1 → 80; B's 2 → 160 from x=0.
        assert!(stacked.contains("class=\"part p1\" x=\"0\" y=\"42\" width=\"240\""));
        assert!(stacked.contains("class=\"part p2\" x=\"240\" y=\"42\" width=\"80\""));
        assert!(stacked.contains("class=\"part p2\" x=\"0\" y=\"80\" width=\"160\""));
        assert!(!stacked.contains("href=\"/b1\""), "a zero links nowhere");
        assert_eq!(count(&stacked, "href=\"/a1\""), 1, "the table cell only, not the image");
        assert!(stacked.contains("1. ≤ 2 ngày") && stacked.contains("2. 3–5 ngày"));
    }
}
