//! The plots `dme sweep` draws, as SVG files (plotters' SVG backend: text is written as SVG text,
//! so no system font is needed to draw them).
//!
//! * [`messages_plot`]: messages per critical-section entry against N, both axes logarithmic,
//!   one line per algorithm and load (solid: light load, dashed: heavy load), with the reference
//!   curves N, √N and log₂N drawn faint.
//! * [`sync_delay_plot`]: synchronization delay in units of the message delay T against N (N
//!   logarithmic), one line per algorithm and load that had waiting nodes (in practice heavy
//!   load: at light load nobody ever waits, so there is no synchronization delay to measure).

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

/// An algorithm, by name.
type Algorithm = &'static str;
use dme_lab::sweep::SweepRow;
use dme_registry::Registry;

/// Width and height of both plots, in pixels.
pub const SIZE: (u32, u32) = (960, 640);

/// One color per algorithm, by position in the built-in registry (dark enough to read on white;
/// algorithms of other registries follow).
fn color(algorithm: Algorithm) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),  // blue
        RGBColor(148, 103, 189), // purple
        RGBColor(214, 39, 40),   // red
        RGBColor(44, 160, 44),   // green
        RGBColor(255, 127, 14),  // orange
        RGBColor(140, 86, 75),   // brown
        RGBColor(227, 119, 194), // pink
        RGBColor(23, 190, 207),  // cyan
    ];
    COLORS[index(algorithm) % COLORS.len()]
}

fn index(algorithm: Algorithm) -> usize {
    let names = dme_registry::builtin().names();
    names
        .iter()
        .position(|&a| a == algorithm)
        .unwrap_or(names.len())
}

/// A lighter shade of `c`, for heavy-load lines drawn over light-load ones.
fn tint(c: RGBColor) -> RGBColor {
    let mix = |v: u8| v + (255 - v) / 2;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The marker of an algorithm: circles of different sizes, hollow or filled, so that points of
/// two algorithms that coincide stay visible.
fn marker<C>(algorithm: Algorithm, at: C) -> Circle<C, i32> {
    let c = color(algorithm);
    match index(algorithm) % 4 {
        0 => Circle::new(at, 7, c.stroke_width(2)),
        1 => Circle::new(at, 3, c.filled()),
        2 => Circle::new(at, 5, c.stroke_width(2)),
        _ => Circle::new(at, 5, c.filled()),
    }
}

/// A legend entry: a solid or dashed segment with the algorithm's marker in the middle (a
/// closure for `SeriesAnno::legend`).
macro_rules! legend_entry {
    ($algorithm:expr, $dashed:expr) => {{
        let algorithm: Algorithm = $algorithm;
        let dashed: bool = $dashed;
        move |p: (i32, i32)| {
            let c = color(algorithm);
            let line = if dashed { tint(c) } else { c }.stroke_width(2);
            let (a, b) = if dashed { (6, 14) } else { (10, 10) };
            EmptyElement::at(p)
                + PathElement::new(vec![(0, 0), (a, 0)], line)
                + PathElement::new(vec![(b, 0), (20, 0)], line)
                + marker(algorithm, (10, 0))
        }
    }};
}

/// The key points of the N axis: the sizes swept.
fn n_ticks(rows: &[SweepRow]) -> Vec<f64> {
    let mut ns: Vec<usize> = rows.iter().map(|r| r.nodes).collect();
    ns.sort_unstable();
    ns.dedup();
    ns.into_iter().map(|n| n as f64).collect()
}

/// 1, 2, 5, 10, 20, 50, … within `lo..=hi`.
fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powi(lo.max(1e-3).log10().floor() as i32);
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if v >= lo && v <= hi {
                ticks.push(v);
            }
        }
        decade *= 10.0;
    }
    ticks
}

/// One line of a plot: an algorithm, a load and its (N, value) points.
type Series = (Algorithm, String, Vec<(f64, f64)>);

/// A reference curve.
type Curve = fn(f64) -> f64;

/// The (algorithm, load) series of `rows`, in order of first appearance, each with its points
/// sorted by N.
fn series(rows: &[SweepRow], y: impl Fn(&SweepRow) -> Option<f64>) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for r in rows {
        let Some(v) = y(r) else { continue };
        let point = (r.nodes as f64, v);
        match out
            .iter_mut()
            .find(|(a, l, _)| *a == r.algorithm && *l == r.load)
        {
            Some((_, _, pts)) => pts.push(point),
            None => out.push((r.algorithm, r.load.clone(), vec![point])),
        }
    }
    for (_, _, pts) in &mut out {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// The grid, tick labels and axis titles both plots share: N on the x axis, `y_desc` on the y
/// axis.
fn draw_mesh<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    y_desc: &str,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("N (nodes, log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| format_tick(*v))
        .y_label_formatter(&|v| format_tick(*v))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(err)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the plot: {e}")
}

/// The range of N covered by `rows`, widened a little for the margins.
fn n_range(rows: &[SweepRow]) -> (f64, f64) {
    let lo = rows.iter().map(|r| r.nodes).min().unwrap_or(2) as f64;
    let hi = rows.iter().map(|r| r.nodes).max().unwrap_or(4) as f64;
    let hi = if hi <= lo { lo * 2.0 } else { hi };
    (lo / 1.15, hi * 1.15)
}

/// Draws messages per entry against N (log–log) into the SVG file `path`.
pub fn messages_plot(rows: &[SweepRow], path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw_messages(&root, rows)?;
    root.present().map_err(err)
}

/// Draws messages per entry against N (log–log) into an SVG string.
pub fn messages_svg(rows: &[SweepRow]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw_messages(&root, rows)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn draw_messages(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    rows: &[SweepRow],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let data = series(rows, |r| {
        (r.messages_per_entry > 0.0).then_some(r.messages_per_entry)
    });
    let (x0, x1) = n_range(rows);
    let references: [(&str, Curve); 3] =
        [("N", |n| n), ("√N", |n| n.sqrt()), ("log₂N", |n| n.log2())];
    let mut y_lo = f64::INFINITY;
    let mut y_hi: f64 = 1.0;
    for (_, _, pts) in &data {
        for &(_, y) in pts {
            y_lo = y_lo.min(y);
            y_hi = y_hi.max(y);
        }
    }
    for (_, f) in &references {
        for x in [x0 * 1.15, x1 / 1.15] {
            y_lo = y_lo.min(f(x));
            y_hi = y_hi.max(f(x));
        }
    }
    let y_lo = (y_lo.max(0.1) / 1.5).max(0.1);
    let y_hi = y_hi * 2.0;

    let mut chart = ChartBuilder::on(root)
        .caption(
            "Messages per critical-section entry",
            ("sans-serif", 26).into_font(),
        )
        .margin(16)
        .margin_right(48)
        .x_label_area_size(52)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(n_ticks(rows)),
            (y_lo..y_hi)
                .log_scale()
                .with_key_points(decade_ticks(y_lo, y_hi)),
        )
        .map_err(err)?;
    draw_mesh(&mut chart, "messages per entry (log scale)")?;

    // Reference curves, faint, labelled at their right end.
    let faint = RGBColor(150, 150, 150);
    for (name, f) in &references {
        let steps = 60;
        let pts: Vec<(f64, f64)> = (0..=steps)
            .map(|i| {
                let x = (x0 * 1.15) * ((x1 / 1.15) / (x0 * 1.15)).powf(i as f64 / steps as f64);
                (x, f(x))
            })
            .collect();
        chart
            .draw_series(DashedLineSeries::new(
                pts.clone(),
                4,
                4,
                faint.stroke_width(1),
            ))
            .map_err(err)?;
        let &(x, y) = pts.last().unwrap_or(&(x1, 1.0));
        chart
            .draw_series(std::iter::once(Text::new(
                name.to_string(),
                (x, y),
                ("sans-serif", 15).into_font().color(&faint).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Left,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                ),
            )))
            .map_err(err)?;
    }

    // Light load solid, then heavy load dashed in a lighter shade on top, so that where the two
    // coincide (Lamport, Ricart–Agrawala) both stay visible.
    let mut ordered: Vec<&Series> = data.iter().collect();
    ordered.sort_by_key(|(_, load, _)| load != "light");
    for (algorithm, load, pts) in ordered {
        let algorithm = *algorithm;
        let dashed = load != "light";
        let c = if dashed {
            tint(color(algorithm))
        } else {
            color(algorithm)
        };
        let anno = if dashed {
            chart
                .draw_series(DashedLineSeries::new(pts.clone(), 8, 6, c.stroke_width(2)))
                .map_err(err)?
        } else {
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?
        };
        anno.label(format!("{algorithm} ({load})"))
            .legend(legend_entry!(algorithm, dashed));
        chart
            .draw_series(pts.iter().map(|&p| marker(algorithm, p)))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Draws the synchronization delay (in units of T) against N into the SVG file `path`. Rows
/// without a synchronization delay (nobody waited) are left out; with none at all the plot says
/// so.
pub fn sync_delay_plot(rows: &[SweepRow], path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw_sync_delay(&root, rows)?;
    root.present().map_err(err)
}

fn draw_sync_delay(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    rows: &[SweepRow],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let data = series(rows, |r| r.sync_delay_t);
    let (x0, x1) = n_range(rows);
    let y_hi = data
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|q| q.1))
        .fold(2.0f64, f64::max)
        * 1.25;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Synchronization delay (nodes waiting: heavy load)",
            ("sans-serif", 26).into_font(),
        )
        .margin(16)
        .margin_right(48)
        .x_label_area_size(52)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(n_ticks(rows)),
            0.0..y_hi,
        )
        .map_err(err)?;
    draw_mesh(
        &mut chart,
        "synchronization delay (units of T, the message delay)",
    )?;
    if data.is_empty() {
        chart
            .draw_series(std::iter::once(Text::new(
                "no node ever waited: no synchronization delay to show",
                ((x0 * x1).sqrt(), y_hi / 2.0),
                ("sans-serif", 18),
            )))
            .map_err(err)?;
    }
    for (algorithm, load, pts) in &data {
        let algorithm = *algorithm;
        let c = color(algorithm);
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(err)?
            .label(format!("{algorithm} ({load})"))
            .legend(legend_entry!(algorithm, false));
        chart
            .draw_series(pts.iter().map(|&p| marker(algorithm, p)))
            .map_err(err)?;
    }
    if !data.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 15))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// Axis ticks: integers without decimals, small values with one or two.
fn format_tick(v: f64) -> String {
    if v >= 10.0 || (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_lab::textbook::Textbook;

    fn row(
        algorithm: Algorithm,
        load: &str,
        nodes: usize,
        mpe: f64,
        sync: Option<f64>,
    ) -> SweepRow {
        SweepRow {
            algorithm,
            load: load.into(),
            nodes,
            structure: String::new(),
            entries: 10,
            messages: (mpe * 10.0) as u64,
            messages_per_entry: mpe,
            textbook: Textbook {
                formula: String::new(),
                value: None,
                exact: false,
                range: None,
            },
            sync_delay_t: sync,
            waiting_time_t: 1.0,
            response_time_t: 1.5,
            seed: 1,
            digest: String::new(),
            safety: "ok".into(),
            liveness: "ok".into(),
        }
    }

    #[test]
    fn the_svg_has_its_text_and_one_line_per_series() {
        let rows: Vec<SweepRow> = [4usize, 16, 64]
            .iter()
            .flat_map(|&n| {
                [
                    row("ricart-agrawala", "light", n, 2.0 * (n as f64 - 1.0), None),
                    row("raymond", "heavy", n, 4.0, Some(2.0)),
                ]
            })
            .collect();
        let svg = messages_svg(&rows).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for text in [
            "Messages per critical-section entry",
            "ricart-agrawala (light)",
            "raymond (heavy)",
            "√N",
            "log₂N",
            "N (nodes, log scale)",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
    }

    #[test]
    fn ticks_read_like_numbers() {
        assert_eq!(format_tick(1024.0), "1024");
        assert_eq!(format_tick(2.0), "2");
        assert_eq!(format_tick(2.5), "2.5");
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(0.5), "0.5");
        assert_eq!(
            decade_ticks(3.0, 600.0),
            vec![5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
        );
    }
}
