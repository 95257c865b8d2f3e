//! Space-time diagrams (Lamport diagrams) of traces, drawn as standalone SVG.
//!
//! One horizontal line per node, time from left to right. Each message is an arrow from its
//! send to its delivery, coloured by kind and labelled with the kind and the timestamp it
//! carries. A request is a black triangle above the node's line, followed by a thin bar while
//! the node waits; a critical section is a shaded bar. When the traced run failed a check, the
//! diagram says so in its title, marks where the run stopped, and highlights the evidence: two
//! critical sections that overlap (safety) in red, deliveries that overtook an earlier message
//! of the same sender in red, and the messages they overtook in dashed dark red.
//!
//! The SVG is self-contained (no scripts, no external fonts or styles) so that it renders the
//! same in a browser, in `rsvg-convert` and on a code-hosting site.

use std::fmt::Write as _;

use dme_core::NodeId;
use dme_sim::tracefile::TracedFailure;
use dme_sim::{EventKind, TraceEvent};

/// The largest diagram drawn without `--force`: beyond this it stops being readable.
pub const MAX_NODES: usize = 8;
/// See [`MAX_NODES`].
pub const MAX_MESSAGES: usize = 100;

/// What to draw.
#[derive(Clone, Debug)]
pub struct Diagram<'a> {
    /// The first title line (algorithm and size).
    pub title: String,
    /// The second title line (configuration, figures).
    pub subtitle: String,
    /// Number of nodes (ids `0..nodes`).
    pub nodes: usize,
    /// The events, in order.
    pub events: &'a [TraceEvent],
    /// The failed check, if any.
    pub failure: Option<&'a TracedFailure>,
    /// Times are the steps of a checker counterexample rather than ticks.
    pub steps: bool,
    /// How long a critical section lasts, to draw one still open when the run stopped.
    pub cs_time: Option<u64>,
}

/// Refuses diagrams too large to read, unless `force`.
pub fn check_size(nodes: usize, events: &[TraceEvent], force: bool) -> Result<(), String> {
    let messages = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Send { .. }))
        .count();
    if force || (nodes <= MAX_NODES && messages <= MAX_MESSAGES) {
        return Ok(());
    }
    Err(format!(
        "the run has {nodes} nodes and {messages} messages; a space-time diagram stays readable \
         up to about {MAX_NODES} nodes and {MAX_MESSAGES} messages. Use fewer --nodes or \
         --requests (e.g. --requests 2), or --force to draw it anyway"
    ))
}

/// A message as drawn: from its send to its delivery (or scheduled delivery).
#[derive(Clone, Debug)]
struct Arrow {
    from: usize,
    to: usize,
    sent: u64,
    arrives: u64,
    kind: String,
    label: String,
    /// Index of the send event (`usize::MAX` when the file has a delivery without a send).
    send_index: usize,
    /// Index of the delivery event, if delivered.
    deliver_index: Option<usize>,
    overtook: bool,
    overtaken: bool,
}

/// An interval on one node's line (waiting, or in the critical section).
#[derive(Clone, Copy, Debug)]
struct Span {
    node: usize,
    start: u64,
    /// `None`: still open when the trace ends.
    end: Option<u64>,
}

/// Colours for well-known message kinds, so that the same kind looks the same in every diagram.
const KNOWN_COLOURS: &[(&str, &str)] = &[
    ("REQUEST", "#1f6fb4"),
    ("REPLY", "#2a9d3a"),
    ("RELEASE", "#8e44ad"),
    ("PRIVILEGE", "#e07b00"),
    ("TOKEN", "#e07b00"),
    ("LOCKED", "#148f8f"),
    ("GRANT", "#148f8f"),
    ("INQUIRE", "#0097a7"),
    ("FAILED", "#795548"),
    ("RELINQUISH", "#6b8e23"),
    ("YIELD", "#6b8e23"),
];
/// Colours for other kinds, in order of first appearance.
const OTHER_COLOURS: &[&str] = &[
    "#5c6bc0", "#00838f", "#9e9d24", "#6d4c41", "#ad1457", "#546e7a", "#7cb342", "#f9a825",
];
const RED: &str = "#d62828";
const DARK_RED: &str = "#7a0010";
const FONT: &str = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

// Layout, in pixels.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 56.0;
const LANE: f64 = 84.0;
const LABEL_SIZE: f64 = 10.5;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Approximate width of `text` at `size` pixels in a sans-serif font.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | 't' | 'f' | 'r' | '(' | ')' | '=' | '.' | ',' | ':' | ' ' => 0.38,
            'A'..='Z' | 'm' | 'w' => 0.72,
            _ => 0.6,
        })
        .sum::<f64>()
        * size
}

/// `text` cut into lines no wider than `width` at `size` pixels, at spaces.
fn wrap(text: &str, width: f64, size: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size) > width {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// A "nice" tick spacing (1, 2 or 5 times a power of ten) at least `min` units apart.
fn nice_step(min: f64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if (p * m) as f64 >= min {
                return p * m;
            }
        }
        p = p.saturating_mul(10);
        if p == u64::MAX {
            return p;
        }
    }
}

type Point = (f64, f64);

/// The distance between the segments `a`–`b` and `c`–`d`.
fn segment_distance(a: Point, b: Point, c: Point, d: Point) -> f64 {
    let cross =
        |o: Point, p: Point, q: Point| (p.0 - o.0) * (q.1 - o.1) - (p.1 - o.1) * (q.0 - o.0);
    let (d1, d2) = (cross(c, d, a), cross(c, d, b));
    let (d3, d4) = (cross(a, b, c), cross(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return 0.0;
    }
    let to_segment = |p: Point, s: Point, e: Point| {
        let (vx, vy) = (e.0 - s.0, e.1 - s.1);
        let len2 = vx * vx + vy * vy;
        let t = if len2 == 0.0 {
            0.0
        } else {
            (((p.0 - s.0) * vx + (p.1 - s.1) * vy) / len2).clamp(0.0, 1.0)
        };
        ((p.0 - s.0 - t * vx).powi(2) + (p.1 - s.1 - t * vy).powi(2)).sqrt()
    };
    to_segment(a, c, d)
        .min(to_segment(b, c, d))
        .min(to_segment(c, a, b))
        .min(to_segment(d, a, b))
}

/// Space already taken (node lines, labels): thick segments. A label is placed where its own
/// thick segment touches none of them.
struct Placed(Vec<(Point, Point, f64)>);

impl Placed {
    fn free(&self, a: Point, b: Point, thickness: f64) -> bool {
        self.0
            .iter()
            .all(|&(c, d, t)| segment_distance(a, b, c, d) >= (thickness + t) / 2.0)
    }
}

/// Draws `d` as an SVG document.
pub fn render(d: &Diagram<'_>) -> String {
    let n = d.nodes.max(1);
    let events = d.events;

    // ---- What happened, per node and per message.
    let mut arrows: Vec<Arrow> = Vec::new();
    let mut waiting: Vec<Span> = Vec::new();
    let mut cs: Vec<Span> = Vec::new();
    let mut requests: Vec<(usize, u64)> = Vec::new();
    let mut open_wait: Vec<Option<usize>> = vec![None; n];
    let mut open_cs: Vec<Option<usize>> = vec![None; n];
    for (i, e) in events.iter().enumerate() {
        match &e.kind {
            EventKind::Request { node } => {
                let k = node.index().min(n - 1);
                requests.push((k, e.time));
                open_wait[k] = Some(waiting.len());
                waiting.push(Span {
                    node: k,
                    start: e.time,
                    end: None,
                });
            }
            EventKind::Enter { node } => {
                let k = node.index().min(n - 1);
                if let Some(w) = open_wait[k].take() {
                    waiting[w].end = Some(e.time);
                }
                open_cs[k] = Some(cs.len());
                cs.push(Span {
                    node: k,
                    start: e.time,
                    end: None,
                });
            }
            EventKind::Exit { node } => {
                let k = node.index().min(n - 1);
                if let Some(c) = open_cs[k].take() {
                    cs[c].end = Some(e.time);
                }
            }
            EventKind::Send {
                from,
                to,
                message,
                deliver_at,
            } => arrows.push(Arrow {
                from: from.index().min(n - 1),
                to: to.index().min(n - 1),
                sent: e.time,
                arrives: *deliver_at,
                kind: message.kind.clone(),
                label: message.to_string(),
                send_index: i,
                deliver_index: None,
                overtook: false,
                overtaken: false,
            }),
            EventKind::Deliver {
                from,
                to,
                message,
                sent_at,
                overtook,
            } => {
                let (f, t) = (from.index().min(n - 1), to.index().min(n - 1));
                let label = message.to_string();
                let found = arrows.iter().position(|a| {
                    a.deliver_index.is_none()
                        && (a.from, a.to, a.sent) == (f, t, *sent_at)
                        && a.arrives == e.time
                        && a.label == label
                });
                let found = found.or_else(|| {
                    arrows.iter().position(|a| {
                        a.deliver_index.is_none()
                            && (a.from, a.to, a.sent) == (f, t, *sent_at)
                            && a.label == label
                    })
                });
                match found {
                    Some(k) => {
                        arrows[k].deliver_index = Some(i);
                        arrows[k].arrives = e.time;
                        arrows[k].overtook = *overtook;
                    }
                    None => arrows.push(Arrow {
                        from: f,
                        to: t,
                        sent: *sent_at,
                        arrives: e.time,
                        kind: message.kind.clone(),
                        label,
                        send_index: usize::MAX,
                        deliver_index: Some(i),
                        overtook: *overtook,
                        overtaken: false,
                    }),
                }
            }
        }
    }
    // The messages an overtaking delivery overtook: sent earlier on the same pair, delivered
    // later or never.
    let overtakers: Vec<(usize, usize, usize, usize)> = arrows
        .iter()
        .filter(|a| a.overtook)
        .map(|a| {
            (
                a.from,
                a.to,
                a.send_index,
                a.deliver_index.unwrap_or(usize::MAX),
            )
        })
        .collect();
    for (f, t, sent, delivered) in overtakers {
        for a in arrows.iter_mut() {
            if (a.from, a.to) == (f, t)
                && a.send_index < sent
                && a.deliver_index.is_none_or(|k| k > delivered)
            {
                a.overtaken = true;
            }
        }
    }

    // ---- Time scale.
    let last = events.iter().map(|e| e.time).max().unwrap_or(0);
    let stop = d.failure.map(|f| f.time.max(last)).unwrap_or(last);
    let mut durations: Vec<u64> = arrows
        .iter()
        .map(|a| a.arrives.saturating_sub(a.sent))
        .filter(|&x| x > 0)
        .collect();
    durations.sort_unstable();
    let typical = durations
        .get(durations.len() / 2)
        .copied()
        .unwrap_or(10)
        .max(1) as f64;
    // What a critical section still open at the end is drawn as (it would go on).
    let open_len = if d.steps {
        1
    } else {
        d.cs_time.unwrap_or((typical / 2.0) as u64).max(1)
    };
    // Simulated time starts at 0; a counterexample at its first step.
    let t0 = if d.steps {
        events.iter().map(|e| e.time).min().unwrap_or(0)
    } else {
        0
    };
    let has_open = cs.iter().chain(&waiting).any(|s| s.end.is_none());
    let t_end = arrows
        .iter()
        .map(|a| a.arrives)
        .chain([stop + if has_open { open_len } else { 0 }])
        .max()
        .unwrap_or(0)
        .max(t0 + 1);
    let span = (t_end - t0) as f64;
    let mut scale = if d.steps {
        46.0
    } else {
        (110.0 / typical).clamp(1.5, 16.0)
    };
    if span * scale > 2400.0 {
        scale = (2400.0 / span).max(if d.steps { 14.0 } else { 0.5 });
    }
    // Wide enough for the title lines.
    let title_w = (text_width(&d.title, 17.0) * 1.1).max(text_width(&d.subtitle, 12.5));
    let min_plot = (title_w + 24.0 - RIGHT).max(520.0);
    if span * scale < min_plot {
        scale = min_plot / span;
    }
    let plot_w = span * scale;
    let width = LEFT + plot_w + RIGHT;
    let x = |t: u64| LEFT + (t as f64 - t0 as f64) * scale;
    let failure_lines = d.failure.map_or(Vec::new(), |f| {
        let unit = if d.steps { "step " } else { "t=" };
        wrap(
            &format!(
                "{} check FAILED at {unit}{}: {}",
                f.kind, f.time, f.description
            ),
            width - LEFT - 16.0,
            13.0 * 1.1,
        )
    });
    let title_h = 62.0 + 20.0 * failure_lines.len() as f64;
    let top = title_h + 34.0;
    let y = |k: usize| top + k as f64 * LANE;
    let axis_y = y(n - 1) + 46.0;

    // ---- Colours by kind.
    let mut kinds: Vec<String> = Vec::new();
    for a in &arrows {
        if !kinds.contains(&a.kind) {
            kinds.push(a.kind.clone());
        }
    }
    let mut colours: Vec<(String, &str)> = Vec::new();
    let mut other = 0;
    for k in &kinds {
        let c = match KNOWN_COLOURS.iter().find(|(name, _)| name == k) {
            Some((_, c)) => *c,
            None => {
                other += 1;
                OTHER_COLOURS[(other - 1) % OTHER_COLOURS.len()]
            }
        };
        colours.push((k.clone(), c));
    }
    let colour_of = |kind: &str| -> (usize, &str) {
        colours
            .iter()
            .enumerate()
            .find(|(_, (k, _))| k == kind)
            .map_or((0, "#555555"), |(i, (_, c))| (i, *c))
    };

    // ---- Safety evidence: pairs of critical sections that overlap.
    let end_of = |s: &Span| s.end.unwrap_or(stop + open_len);
    let mut overlaps: Vec<(usize, usize, u64, u64)> = Vec::new();
    for i in 0..cs.len() {
        for j in i + 1..cs.len() {
            let (a, b) = (cs[i], cs[j]);
            if a.node == b.node {
                continue;
            }
            let start = a.start.max(b.start);
            let end = end_of(&a).min(end_of(&b));
            let touching = a.end == Some(b.start) || b.end == Some(a.start);
            if start < end || (start == end && !touching) {
                overlaps.push((i, j, start, end));
            }
        }
    }
    let in_overlap = |k: usize| overlaps.iter().any(|&(i, j, _, _)| i == k || j == k);
    let any_overtaking = arrows.iter().any(|a| a.overtook);
    let any_overtaken = arrows.iter().any(|a| a.overtaken);

    // ---- Legend layout (to know the height).
    let mut legend: Vec<(String, LegendMark)> = colours
        .iter()
        .map(|(k, c)| (k.clone(), LegendMark::Arrow(c.to_string(), false)))
        .collect();
    legend.push(("request".into(), LegendMark::Request));
    legend.push(("waiting".into(), LegendMark::Waiting));
    legend.push(("critical section".into(), LegendMark::Cs(false)));
    if arrows.iter().any(|a| a.deliver_index.is_none()) {
        legend.push((
            "in flight at the end".into(),
            LegendMark::Arrow("#555555".into(), true),
        ));
    }
    if any_overtaking {
        legend.push((
            "delivery that overtook an earlier message".into(),
            LegendMark::Arrow(RED.into(), false),
        ));
    }
    if any_overtaken {
        legend.push((
            "message it overtook".into(),
            LegendMark::Arrow(DARK_RED.into(), true),
        ));
    }
    if !overlaps.is_empty() {
        legend.push(("overlapping critical sections".into(), LegendMark::Cs(true)));
    }
    let mut legend_rows: Vec<Vec<(String, LegendMark, f64)>> = vec![Vec::new()];
    let mut row_w = 0.0;
    for (text, mark) in legend {
        let w = 40.0 + text_width(&text, 12.0) + 22.0;
        if row_w + w > width - LEFT - 20.0 && row_w > 0.0 {
            legend_rows.push(Vec::new());
            row_w = 0.0;
        }
        legend_rows
            .last_mut()
            .expect("a row")
            .push((text, mark, row_w));
        row_w += w;
    }
    let legend_y = axis_y + 48.0;
    let height = legend_y + legend_rows.len() as f64 * 22.0 + 12.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="{FONT}">"#
    );
    let _ = writeln!(s, "<defs>");
    for (i, (_, c)) in colours.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<marker id="a{i}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>"#
        );
    }
    for (id, c) in [("ared", RED), ("adark", DARK_RED), ("agrey", "#555555")] {
        let _ = writeln!(
            s,
            r#"<marker id="{id}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>"#
        );
    }
    let _ = writeln!(s, "</defs>");
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);

    // ---- Title.
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="28" font-size="17" font-weight="bold" fill="#222">{}</text>"##,
        escape(&d.title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="50" font-size="12.5" fill="#444">{}</text>"##,
        escape(&d.subtitle)
    );
    for (i, line) in failure_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{LEFT}" y="{:.1}" font-size="13" font-weight="bold" fill="{RED}">{}</text>"##,
            72.0 + 20.0 * i as f64,
            escape(line)
        );
    }

    // ---- Grid and axis.
    // At most about 100 ticks, however long the run (a delay near the time limit would
    // otherwise mean 10^13 of them); unchanged for every diagram narrower than 14,000 ticks.
    let tick = nice_step((70.0 / scale).max(span / 100.0)).max(1);
    let first_tick = t0.div_ceil(tick) * tick;
    let mut t = first_tick;
    while t <= t_end {
        let xt = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{xt:.1}" y1="{:.1}" x2="{xt:.1}" y2="{axis_y:.1}" stroke="#eeeeee" stroke-width="1"/>"##,
            top - 22.0
        );
        let _ = writeln!(
            s,
            r##"<line x1="{xt:.1}" y1="{axis_y:.1}" x2="{xt:.1}" y2="{:.1}" stroke="#888" stroke-width="1"/><text x="{xt:.1}" y="{:.1}" font-size="11" fill="#555" text-anchor="middle">{t}</text>"##,
            axis_y + 5.0,
            axis_y + 18.0
        );
        t += tick;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{axis_y:.1}" x2="{:.1}" y2="{axis_y:.1}" stroke="#888" stroke-width="1"/>"##,
        LEFT + plot_w
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="11.5" fill="#555" text-anchor="middle">{}</text>"##,
        LEFT + plot_w / 2.0,
        axis_y + 34.0,
        if d.steps {
            "step of the counterexample →"
        } else {
            "virtual time (ticks) →"
        }
    );

    // ---- Safety: a red band over the overlap.
    for &(i, j, start, end) in &overlaps {
        let (a, b) = (cs[i].node.min(cs[j].node), cs[i].node.max(cs[j].node));
        let (x1, x2) = (x(start), x(end).max(x(start) + 4.0));
        let _ = writeln!(
            s,
            r##"<rect x="{x1:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{RED}" fill-opacity="0.13"/>"##,
            y(a) - 30.0,
            x2 - x1,
            y(b) - y(a) + 60.0
        );
    }

    // ---- Where the run stopped.
    if let Some(f) = d.failure {
        let xs = x(f.time);
        let _ = writeln!(
            s,
            r##"<line x1="{xs:.1}" y1="{:.1}" x2="{xs:.1}" y2="{axis_y:.1}" stroke="{RED}" stroke-width="1.5" stroke-dasharray="6,4"/>"##,
            top - 26.0
        );
        let mut note = format!("✗ {} check fails", f.kind);
        if let Some(&(i, j, _, _)) = overlaps.first() {
            let (a, b) = (cs[i].node.min(cs[j].node), cs[i].node.max(cs[j].node));
            let _ = write!(note, ": n{a} and n{b} both in the critical section");
        }
        let right = xs + 4.0 + text_width(&note, 11.5) > width - 8.0;
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11.5" font-weight="bold" fill="{RED}" text-anchor="{}" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
            if right { xs - 4.0 } else { xs + 4.0 },
            top - 14.0,
            if right { "end" } else { "start" },
            escape(&note)
        );
    }

    // ---- Node lines.
    for k in 0..n {
        let yk = y(k);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yk:.1}" x2="{:.1}" y2="{yk:.1}" stroke="#333" stroke-width="1.3"/>"##,
            LEFT + plot_w
        );
        let name = NodeId(k as u32).to_string();
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="14" font-weight="bold" fill="#222" text-anchor="end">{name}</text><text x="{:.1}" y="{:.1}" font-size="14" font-weight="bold" fill="#222">{name}</text>"##,
            LEFT - 12.0,
            yk + 5.0,
            LEFT + plot_w + 10.0,
            yk + 5.0
        );
    }

    // ---- Waiting and critical sections.
    for w in &waiting {
        let (x1, x2) = (x(w.start), x(end_of(w)));
        if x2 - x1 < 0.5 {
            continue;
        }
        let _ = writeln!(
            s,
            r##"<rect class="wait" x="{x1:.1}" y="{:.1}" width="{:.1}" height="8" fill="#fff1b8" stroke="#d4b106" stroke-width="0.8"/>"##,
            y(w.node) - 4.0,
            x2 - x1
        );
    }
    for (i, c) in cs.iter().enumerate() {
        let (x1, x2) = (x(c.start), x(end_of(c)).max(x(c.start) + 3.0));
        let bad = in_overlap(i);
        let (fill, stroke, sw) = if bad {
            (RED, DARK_RED, 2.0)
        } else {
            ("#f4a261", "#b5651d", 1.0)
        };
        let dash = if c.end.is_none() {
            r#" stroke-dasharray="4,3""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<rect class="{}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="18" rx="3" fill="{fill}" fill-opacity="0.85" stroke="{stroke}" stroke-width="{sw}"{dash}/>"##,
            if bad { "cs overlap" } else { "cs" },
            y(c.node) - 9.0,
            x2 - x1
        );
        if x2 - x1 >= 24.0 {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" font-weight="bold" fill="{}" text-anchor="middle">CS</text>"##,
                (x1 + x2) / 2.0,
                y(c.node) + 4.0,
                if bad { "#ffffff" } else { "#5a2d00" }
            );
        }
    }
    for &(k, t) in &requests {
        let (xr, yr) = (x(t), y(k));
        let _ = writeln!(
            s,
            r##"<path class="req" d="M{:.1},{:.1} L{:.1},{:.1} L{xr:.1},{:.1} z" fill="#222"/>"##,
            xr - 5.0,
            yr - 19.0,
            xr + 5.0,
            yr - 19.0,
            yr - 10.0
        );
    }

    // ---- Messages: lines first, then labels on top.
    let mut placed = Placed(Vec::new());
    // Labels must not sit on a node's line nor on its critical sections.
    for k in 0..n {
        placed.0.push(((LEFT, y(k)), (LEFT + plot_w, y(k)), 20.0));
    }
    // Draw ordinary messages first and the highlighted ones last, on top.
    let mut order: Vec<usize> = (0..arrows.len()).collect();
    order.sort_by_key(|&i| (arrows[i].overtook || arrows[i].overtaken, i));
    let style = |a: &Arrow| -> (String, String) {
        let (ci, colour) = colour_of(&a.kind);
        if a.overtook {
            (RED.to_string(), "ared".to_string())
        } else if a.overtaken {
            (DARK_RED.to_string(), "adark".to_string())
        } else {
            (colour.to_string(), format!("a{ci}"))
        }
    };
    for &i in &order {
        let a = &arrows[i];
        let (x1, y1, x2, y2) = (x(a.sent), y(a.from), x(a.arrives), y(a.to));
        let (stroke, marker) = style(a);
        let (width, dash) = if a.overtook {
            (2.6, "")
        } else if a.overtaken {
            (2.4, r#" stroke-dasharray="7,4""#)
        } else if a.deliver_index.is_none() {
            (1.3, r#" stroke-dasharray="5,4""#)
        } else {
            (1.4, "")
        };
        let class = if a.overtook {
            "msg overtook"
        } else if a.overtaken {
            "msg overtaken"
        } else if a.deliver_index.is_none() {
            "msg inflight"
        } else {
            "msg"
        };
        let _ = writeln!(
            s,
            r##"<line class="{class}" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="{width}"{dash} marker-end="url(#{marker})"/>"##
        );
        let _ = writeln!(
            s,
            r##"<circle cx="{x1:.1}" cy="{y1:.1}" r="2.2" fill="{stroke}"/>"##
        );
    }
    // Labels: one per message, or one per broadcast (the same message sent by one node at one
    // time to several), horizontal with a white halo, at the first position along an arrow of
    // the group where it overlaps no other label and no node line. Highlighted messages are
    // labelled first so that they get the best places.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut by_priority: Vec<usize> = (0..arrows.len()).collect();
    by_priority.sort_by_key(|&i| (!(arrows[i].overtook || arrows[i].overtaken), i));
    for &i in &by_priority {
        let a = &arrows[i];
        let mut text = a.label.clone();
        if a.overtook {
            text.push_str(" overtook");
        } else if a.overtaken {
            text.push_str(" overtaken");
        }
        let single = a.overtook || a.overtaken;
        match groups.iter_mut().find(|(t, g)| {
            !single
                && *t == text
                && g.iter().all(|&j| {
                    let b = &arrows[j];
                    (b.from, b.sent) == (a.from, a.sent) && !(b.overtook || b.overtaken)
                })
        }) {
            Some((_, g)) => g.push(i),
            None => groups.push((text, vec![i])),
        }
    }
    let mut labels = String::new();
    let mut unlabelled = 0;
    for (text, group) in &groups {
        let size = LABEL_SIZE;
        let w = text_width(text, size) + 6.0;
        let h = size + 2.0;
        let fracs: &[f64] = if group.len() > 1 {
            &[0.3, 0.4, 0.22, 0.5, 0.6, 0.7, 0.15, 0.8]
        } else {
            &[
                0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8, 0.45, 0.55, 0.33, 0.67, 0.12, 0.88,
            ]
        };
        // The arrows of a broadcast, nearest destination first.
        let mut members = group.clone();
        members.sort_by_key(|&j| arrows[j].from.abs_diff(arrows[j].to));
        // A label is horizontal and centred on a point of its arrow, so that the arrow runs
        // through it; the first point (along the arrows of the group) where it is clear of
        // node lines and other labels wins.
        let mut chosen = None;
        'search: for &frac in fracs {
            for &j in &members {
                let a = &arrows[j];
                let (x1, y1, x2, y2) = (x(a.sent), y(a.from), x(a.arrives), y(a.to));
                let (cx, cy) = (x1 + (x2 - x1) * frac, y1 + (y2 - y1) * frac);
                // A thick segment with round ends h/2 long covers the w × h box.
                let half = (w - h).max(0.0) / 2.0;
                let (p, q) = ((cx - half, cy), (cx + half, cy));
                if placed.free(p, q, h) {
                    chosen = Some((cx, cy, p, q));
                    break 'search;
                }
            }
        }
        // Nowhere to put it: leave it out rather than print over other labels.
        let Some((cx, cy, a, b)) = chosen else {
            unlabelled += group.len();
            continue;
        };
        placed.0.push((a, b, h));
        let first = &arrows[group[0]];
        let (stroke, _) = style(first);
        let bold = if first.overtook || first.overtaken {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let _ = writeln!(
            labels,
            r##"<text x="{cx:.1}" y="{:.1}" font-size="{size}" fill="{stroke}"{bold} text-anchor="middle" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">{}</text>"##,
            cy + size * 0.35,
            escape(text)
        );
    }
    if unlabelled > 0 {
        let _ = writeln!(
            labels,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#666" text-anchor="end">{unlabelled} message label{} left out where arrows crowd (dme run --trace lists every message)</text>"##,
            LEFT + plot_w,
            axis_y + 34.0,
            if unlabelled == 1 { "" } else { "s" }
        );
    }
    s.push_str(&labels);

    // ---- Legend.
    for (row, items) in legend_rows.iter().enumerate() {
        let ly = legend_y + row as f64 * 22.0;
        for (text, mark, dx) in items {
            let lx = LEFT + dx;
            match mark {
                LegendMark::Arrow(c, dashed) => {
                    let id = if c == RED {
                        "ared".to_string()
                    } else if c == DARK_RED {
                        "adark".to_string()
                    } else if c == "#555555" {
                        "agrey".to_string()
                    } else {
                        format!("a{}", colour_of(text).0)
                    };
                    let dash = if *dashed {
                        r#" stroke-dasharray="5,3""#
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        s,
                        r##"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{c}" stroke-width="2"{dash} marker-end="url(#{id})"/>"##,
                        lx + 30.0
                    );
                }
                LegendMark::Request => {
                    let _ = writeln!(
                        s,
                        r##"<path d="M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} z" fill="#222"/>"##,
                        lx + 10.0,
                        ly - 5.0,
                        lx + 20.0,
                        ly - 5.0,
                        lx + 15.0,
                        ly + 4.0
                    );
                }
                LegendMark::Waiting => {
                    let _ = writeln!(
                        s,
                        r##"<rect x="{lx:.1}" y="{:.1}" width="30" height="8" fill="#fff1b8" stroke="#d4b106" stroke-width="0.8"/>"##,
                        ly - 4.0
                    );
                }
                LegendMark::Cs(bad) => {
                    let (fill, stroke) = if *bad {
                        (RED, DARK_RED)
                    } else {
                        ("#f4a261", "#b5651d")
                    };
                    let _ = writeln!(
                        s,
                        r##"<rect x="{lx:.1}" y="{:.1}" width="30" height="14" rx="3" fill="{fill}" fill-opacity="0.85" stroke="{stroke}"/>"##,
                        ly - 7.0
                    );
                }
            }
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#333">{}</text>"##,
                lx + 38.0,
                ly + 4.0,
                escape(text)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A legend entry's symbol.
#[derive(Clone, Debug)]
enum LegendMark {
    /// An arrow of this colour, dashed or not.
    Arrow(String, bool),
    Request,
    Waiting,
    /// A critical section, highlighted (overlapping) or not.
    Cs(bool),
}
