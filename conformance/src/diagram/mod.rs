//! Sequence diagrams of protocol traces, as a standalone SVG or an HTML page.
//!
//! The model checker reports a counterexample as numbered steps; a picture with one
//! vertical lane per node and one row per step is quicker to read. This module knows
//! nothing about the model: a caller turns its trace into a [`Diagram`] and calls
//! [`render_svg`] or [`render_html`]. Every row belongs to exactly one step, so the
//! step's text may use the whole row; a label that still does not fit is shortened
//! with "…" and kept whole in the tooltip and in the HTML list. All text is escaped
//! and the output is deterministic: the same diagram gives the same bytes.

use std::fmt::Write as _;

/// A trace to draw: one lane per cluster node, one row per step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagram {
    /// Shown at the top, e.g. the property that failed.
    pub title: String,
    /// Lane headers, one per node, left to right.
    pub lanes: Vec<String>,
    /// The steps, top to bottom.
    pub steps: Vec<DiagramStep>,
}

/// One step of a trace: something that happened on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramStep {
    /// 1-based step number, shown at the left of the row.
    pub number: usize,
    /// Index into [`Diagram::lanes`] of the node the step happens on.
    pub lane: usize,
    /// What happened, e.g. "deliver AUTH_REQUEST(epoch 2)" or "timeout: PFAIL n1".
    pub label: String,
    /// How the step is drawn.
    pub kind: StepKind,
    /// Short state of the lane after the step, e.g. "epoch=2 vote=2".
    pub note: Option<String>,
    /// Drawn in red, e.g. the step that violates a property.
    pub highlight: bool,
}

/// The shape of a step, so deliveries and losses read as arrows between lanes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// Something the node did alone (a timer, a command): a box on its lane.
    Local,
    /// A message delivered to this lane: an arrow from the sender's lane, starting at
    /// the row of `sent_at_step` when that step is shown above, else the row above.
    Receive {
        /// Lane of the sender.
        from_lane: usize,
        /// Number of the step that sent the message, if known.
        sent_at_step: Option<usize>,
    },
    /// A message lost on the way (link break): an arrow that ends in an X.
    Lost {
        /// Lane of the sender.
        from_lane: usize,
        /// Lane the message was meant for.
        to_lane: usize,
    },
}

/// Height of one step row, px.
const ROW_H: i64 = 28;
/// Width of one lane, px.
const LANE_W: i64 = 180;
/// The picture is at least this many lanes wide, so the title and legend fit.
const MIN_LANES: usize = 3;
/// Lanes beyond this index are drawn on the last one, so a stray index cannot blow up
/// the picture.
const MAX_LANES: usize = 64;
/// Gutter for step numbers at the left, px.
const LEFT: i64 = 48;
/// Top of the lane headers, px.
const HEADER_Y: i64 = 64;
/// Top of the first row, px.
const TOP: i64 = 96;
/// Space under the last row, px.
const BOTTOM: i64 = 16;
/// Advance of one 11 px monospace character, tenths of px.
const LABEL_CHAR_W10: i64 = 66;
/// Advance of one 10 px monospace character (notes), tenths of px.
const NOTE_CHAR_W10: i64 = 60;
/// Widest note kept whole, px (64 characters).
const NOTE_MAX_W: i64 = 384;
/// Minimum width of the note column, px.
const NOTE_MIN_W: i64 = 140;
/// Space between a label and a line, px.
const PAD: i64 = 6;
/// How far a label's text reaches above its baseline, px.
const ASCENT: i64 = 9;

/// Styles, arrowheads and the legend: the same for every diagram.
const PREAMBLE: &str = r##"<style>
.bg{fill:#fff}
.title{font:bold 15px sans-serif;fill:#212121}
.lane{stroke:#9e9e9e;stroke-dasharray:4 3}
.lane-head{fill:#eceff1;stroke:#607d8b}
.head{font-weight:bold}
.row-alt{fill:#f5f5f5}
.row-hl{fill:#fdecea}
.num{fill:#757575}
.msg{stroke:#1565c0;stroke-width:1.5;fill:none}
.lost,.cross{stroke:#ef6c00;stroke-width:1.5;fill:none}
.lost{stroke-dasharray:5 3}
.hl{stroke:#c62828}
.box{fill:#fff;stroke:#455a64}
.lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.note{fill:#757575;font-size:10px}
.highlight text{fill:#c62828;font-weight:bold}
.highlight .lbl{stroke:#fdecea}
.highlight .box{stroke:#c62828}
</style>
<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1565c0"/></marker>
<marker id="arrow-hl" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker>
</defs>
<g class="legend" fill="#424242">
<line class="msg" x1="12" y1="44" x2="40" y2="44" marker-end="url(#arrow)"/><text x="46" y="48">delivered</text>
<line class="lost" x1="130" y1="44" x2="156" y2="44"/><path class="cross" d="M151,39 l10,10 m0,-10 l-10,10"/><text x="166" y="48">lost</text>
<rect class="box" x="214" y="37" width="26" height="14" rx="4"/><text x="246" y="48">local step</text>
<rect class="row-hl" x="334" y="37" width="26" height="14"/><text x="366" y="48" fill="#c62828">highlighted</text>
<text class="note" x="460" y="48">grey: state after the step</text>
</g>
"##;

/// Fonts for the picture: monospace, so label widths can be estimated from their length.
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";

/// Styles of the HTML page around the picture.
const HTML_STYLE: &str = "<style>body{font-family:sans-serif;margin:16px} ol{font-family:monospace}
.highlight{color:#c62828;font-weight:bold} .note{color:#757575}</style>\n";

/// Appends formatted text to a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// A point, px.
type Pt = (i64, i64);
/// A line from one point to another.
type Seg = (Pt, Pt);

/// Sizes derived from a diagram, computed once so every part agrees.
struct Layout {
    names: Vec<String>,
    lanes_right: i64,
    notes_x: i64,
    width: i64,
    height: i64,
}

impl Layout {
    fn new(d: &Diagram) -> Self {
        let referenced = d
            .steps
            .iter()
            .flat_map(step_lanes)
            .max()
            .map_or(0, |m| m.saturating_add(1));
        let count = d.lanes.len().max(referenced).min(MAX_LANES + 1);
        let names: Vec<String> = (0..count).map(|i| lane_name(&d.lanes, i)).collect();
        let lanes_right = LEFT + LANE_W * names.len().max(MIN_LANES) as i64;
        let notes = d
            .steps
            .iter()
            .map(|s| text_w(&note_text(&names, s), NOTE_CHAR_W10));
        let notes_x = lanes_right + 12;
        let width = notes_x + notes.fold(NOTE_MIN_W, i64::max) + 12;
        let height = TOP + ROW_H * d.steps.len() as i64 + BOTTOM;
        Layout {
            names,
            lanes_right,
            notes_x,
            width,
            height,
        }
    }
}

/// Every lane a step touches, so lanes it names but the diagram lacks still get drawn.
fn step_lanes(s: &DiagramStep) -> Vec<usize> {
    match s.kind {
        StepKind::Local => vec![s.lane],
        StepKind::Receive { from_lane, .. } => vec![s.lane, from_lane],
        StepKind::Lost { from_lane, to_lane } => vec![s.lane, from_lane, to_lane],
    }
}

/// Centre x of a lane.
fn lane_x(lane: usize) -> i64 {
    LEFT + LANE_W * lane.min(MAX_LANES) as i64 + LANE_W / 2
}

/// Centre y of a row.
fn row_y(row: usize) -> i64 {
    TOP + ROW_H * row as i64 + ROW_H / 2
}

/// Estimated width of `s` in a font whose characters advance `char_w10` tenths of px.
fn text_w(s: &str, char_w10: i64) -> i64 {
    (s.chars().count() as i64 * char_w10 + 9) / 10
}

/// `s`, shortened with "…" so it is at most `max_px` wide.
fn fit(s: &str, max_px: i64, char_w10: i64) -> String {
    if text_w(s, char_w10) <= max_px {
        return s.to_string();
    }
    let keep = usize::try_from(max_px * 10 / char_w10 - 1).unwrap_or(0);
    s.chars().take(keep).chain(Some('…')).collect()
}

/// The name of a lane, made up from its index when the diagram lacks it.
fn lane_name(names: &[String], lane: usize) -> String {
    names
        .get(lane)
        .cloned()
        .unwrap_or_else(|| format!("lane {lane}"))
}

/// The grey text at the right of a step's row: the lane's name and its state.
fn note_text(names: &[String], s: &DiagramStep) -> String {
    let name = lane_name(names, s.lane);
    s.note.as_ref().map_or(String::new(), |n| {
        fit(&format!("{name}: {n}"), NOTE_MAX_W, NOTE_CHAR_W10)
    })
}

/// Escapes text for XML and HTML; characters XML forbids become U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes a `<text>` element; `content` is escaped here.
fn text(out: &mut String, class: &str, (x, y): Pt, anchor: &str, content: &str) {
    w!(
        out,
        r#"<text class="{class}" x="{x}" y="{y}" text-anchor="{anchor}">"#
    );
    w!(out, "{}</text>\n", esc(content));
}

/// Writes a `<line>` element; `extra` is more attributes, e.g. a marker.
fn line(out: &mut String, class: &str, ((x1, y1), (x2, y2)): Seg, extra: &str) {
    w!(
        out,
        r#"<line class="{class}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"{extra}/>"#
    );
    out.push('\n');
}

/// Writes a `<rect>` element.
fn rect(out: &mut String, class: &str, (x, y): Pt, (width, height): Pt, rx: i64) {
    w!(out, "<rect class=\"{class}\" x=\"{x}\" y=\"{y}\" ");
    w!(out, "width=\"{width}\" height=\"{height}\" rx=\"{rx}\"/>\n");
}

/// Row of the step numbered `sent_at` above `row`, else the row above, as a y.
fn sender_y(d: &Diagram, row: usize, sent_at: Option<usize>) -> i64 {
    let sent_row = sent_at.and_then(|n| d.steps[..row].iter().rposition(|s| s.number == n));
    match sent_row {
        Some(r) => row_y(r),
        None if row > 0 => row_y(row - 1),
        None => TOP,
    }
}

/// The line a step draws between lanes, if any; labels keep clear of the others.
fn segment(d: &Diagram, row: usize) -> Option<Seg> {
    let (s, y) = (&d.steps[row], row_y(row));
    match s.kind {
        StepKind::Local => None,
        StepKind::Receive {
            from_lane,
            sent_at_step,
        } => Some((
            (lane_x(from_lane), sender_y(d, row, sent_at_step)),
            (lane_x(s.lane), y),
        )),
        StepKind::Lost { from_lane, to_lane } => {
            let x1 = lane_x(from_lane);
            let end = if from_lane == to_lane {
                40
            } else {
                (lane_x(to_lane) - x1) * 2 / 3
            };
            Some(((x1, y), (x1 + end, y)))
        }
    }
}

/// Draws a step's arrow (a loop when a node hears itself) or lost-message line.
fn connector(out: &mut String, s: &DiagramStep, seg: Seg) {
    let hl = if s.highlight { " hl" } else { "" };
    let ((x1, _), (x2, y2)) = seg;
    if let StepKind::Lost { .. } = s.kind {
        line(out, &format!("lost{hl}"), seg, "");
        w!(
            out,
            "<path class=\"cross{hl}\" d=\"M{},{} l10,10 m0,-10 l-10,10\"/>\n",
            x2 - 5,
            y2 - 5
        );
        return;
    }
    let marker = format!(
        " marker-end=\"url(#arrow{})\"",
        if s.highlight { "-hl" } else { "" }
    );
    if x1 == x2 {
        w!(
            out,
            "<path class=\"msg{hl}\" d=\"M{x1},{} h24 v10 h-24\"{marker}/>\n",
            y2 - 10
        );
    } else {
        line(out, &format!("msg{hl}"), seg, &marker);
    }
}

/// How a label sits in its room.
#[derive(Clone, Copy)]
enum Anchor {
    Start,
    End,
    Middle(i64),
}

/// Where a label may go: the x interval, how it sits there, its baseline below the row centre.
#[derive(Clone, Copy)]
struct Room {
    lo: i64,
    hi: i64,
    anchor: Anchor,
    dy: i64,
}

/// A label put in a room: its text (fitted), where it is drawn and the x it spans.
struct Placed {
    at: Pt,
    anchor: &'static str,
    text: String,
    span: Pt,
}

/// Puts `label` in `room` on the row centred at `y`, shortened if the room is too small.
fn place(room: Room, label: &str, y: i64) -> Placed {
    let text = fit(label, room.hi - room.lo, LABEL_CHAR_W10);
    let w = text_w(&text, LABEL_CHAR_W10);
    let (x, anchor, left) = match room.anchor {
        Anchor::Start => (room.lo, "start", room.lo),
        Anchor::End => (room.hi, "end", room.hi - w),
        Anchor::Middle(cx) => {
            let x = cx.min(room.hi - w / 2).max(room.lo + w / 2);
            (x, "middle", x - w / 2)
        }
    };
    Placed {
        at: (x, y + room.dy),
        anchor,
        text,
        span: (left, left + w),
    }
}

/// The rooms a connector's label may use, best first: beside the line on the sender's
/// side, then beyond the arrowhead; above or below a level line; right of a loop.
fn rooms(l: &Layout, ((x1, y1), (x2, y2)): Seg) -> [Room; 2] {
    let (lo, hi) = (LEFT + 2, l.lanes_right - 2);
    let room = |lo, hi, anchor, dy| Room { lo, hi, anchor, dy };
    if x1 == x2 {
        let r = room(x1 + 24 + PAD, hi, Anchor::Start, 4);
        return [r, r];
    }
    if y1 == y2 {
        let cx = (x1 + x2) / 2;
        return [
            room(lo, hi, Anchor::Middle(cx), -5),
            room(lo, hi, Anchor::Middle(cx), 12),
        ];
    }
    // Where the line crosses the top of the label text.
    let x_line = x2 - (x2 - x1) * (ASCENT - 4) / (y2 - y1);
    if x1 < x2 {
        [
            room(lo, x_line - PAD, Anchor::End, 4),
            room(x2 + PAD, hi, Anchor::Start, 4),
        ]
    } else {
        [
            room(x_line + PAD, hi, Anchor::Start, 4),
            room(lo, x2 - PAD, Anchor::End, 4),
        ]
    }
}

/// Whether a line passes through a placed label.
fn crosses(((ax, ay), (bx, by)): Seg, p: &Placed) -> bool {
    let ((x0, x1), (y0, y1)) = (p.span, (p.at.1 - ASCENT, p.at.1 + 2));
    let (ylo, yhi) = (ay.min(by).max(y0), ay.max(by).min(y1));
    if ylo > yhi {
        return false;
    }
    let (p, q) = if ay == by {
        (ax, bx)
    } else {
        (
            ax + (bx - ax) * (ylo - ay) / (by - ay),
            ax + (bx - ax) * (yhi - ay) / (by - ay),
        )
    };
    p.max(q) >= x0 && p.min(q) <= x1
}

/// Places a connector's label: the first room where it is whole and crosses no other
/// line, else the first where it is whole, else where most of it shows.
fn label(l: &Layout, d: &Diagram, row: usize, segs: &[Option<Seg>]) -> Option<Placed> {
    let s = &d.steps[row];
    let options = rooms(l, segs[row]?).map(|r| place(r, &s.label, row_y(row)));
    let whole = |p: &Placed| p.text == s.label;
    let others = || {
        segs.iter()
            .enumerate()
            .filter(move |(i, _)| *i != row)
            .filter_map(|(_, g)| *g)
    };
    let clear = |p: &Placed| !others().any(|g| crosses(g, p));
    let best = (options.iter().position(|p| whole(p) && clear(p)))
        .or_else(|| options.iter().position(whole))
        .unwrap_or(usize::from(
            options[1].text.chars().count() > options[0].text.chars().count(),
        ));
    options.into_iter().nth(best)
}

/// Draws a step's number, box or label, note and tooltip as one group.
fn step_group(out: &mut String, l: &Layout, s: &DiagramStep, y: i64, label: Option<Placed>) {
    let class = if s.highlight {
        "step highlight"
    } else {
        "step"
    };
    w!(
        out,
        "<g class=\"{class}\" data-step=\"{}\"><title>{}</title>\n",
        s.number,
        esc(&s.label)
    );
    text(out, "num", (LEFT - 8, y + 4), "end", &s.number.to_string());
    if let Some(p) = label {
        text(out, "lbl", p.at, p.anchor, &p.text);
    } else {
        let room = l.lanes_right - LEFT - 4;
        let shown = fit(&s.label, room - 2 * PAD, LABEL_CHAR_W10);
        let bw = text_w(&shown, LABEL_CHAR_W10) + 2 * PAD;
        let bx = (lane_x(s.lane) - bw / 2)
            .min(l.lanes_right - 2 - bw)
            .max(LEFT + 2);
        rect(out, "box", (bx, y - 10), (bw, 20), 4);
        text(out, "box-text", (bx + bw / 2, y + 4), "middle", &shown);
    }
    let note = note_text(&l.names, s);
    if !note.is_empty() {
        text(out, "note", (l.notes_x, y + 4), "start", &note);
    }
    out.push_str("</g>\n");
}

/// Draws what lies under the steps: the title, row stripes, lane headers and lines.
fn backdrop(out: &mut String, d: &Diagram, l: &Layout) {
    text(
        out,
        "title",
        (12, 26),
        "start",
        &fit(&d.title, l.width - 24, 90),
    );
    for (row, s) in d.steps.iter().enumerate() {
        let class = [["", "row-alt"][row % 2], "row-hl"][usize::from(s.highlight)];
        if !class.is_empty() {
            rect(out, class, (0, row_y(row) - ROW_H / 2), (l.width, ROW_H), 0);
        }
    }
    for (i, name) in l.names.iter().enumerate() {
        let x = lane_x(i);
        rect(out, "lane-head", (x - 70, HEADER_Y), (140, 24), 4);
        let name = fit(name, 128, LABEL_CHAR_W10);
        text(out, "head", (x, HEADER_Y + 16), "middle", &name);
        line(
            out,
            "lane",
            ((x, HEADER_Y + 24), (x, l.height - BOTTOM)),
            "",
        );
    }
}

/// Renders the diagram as a complete standalone SVG document.
pub fn render_svg(d: &Diagram) -> String {
    let l = Layout::new(d);
    let (wd, ht) = (l.width, l.height);
    let mut out = String::new();
    w!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{wd}" height="{ht}" "#
    );
    w!(
        out,
        r#"viewBox="0 0 {wd} {ht}" font-size="11" font-family="{FONT}">"#
    );
    w!(out, "\n<title>{}</title>\n", esc(&d.title));
    rect(&mut out, "bg", (0, 0), (wd, ht), 0);
    out.push_str(PREAMBLE);
    backdrop(&mut out, d, &l);
    let segs: Vec<Option<Seg>> = (0..d.steps.len()).map(|row| segment(d, row)).collect();
    for (s, seg) in d.steps.iter().zip(&segs) {
        if let Some(seg) = *seg {
            connector(&mut out, s, seg);
        }
    }
    for (row, s) in d.steps.iter().enumerate() {
        step_group(&mut out, &l, s, row_y(row), label(&l, d, row, &segs));
    }
    out.push_str("</svg>\n");
    out
}

/// Renders an HTML page with the diagram and, below it, the steps as a numbered list.
pub fn render_html(d: &Diagram) -> String {
    let title = esc(&d.title);
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n");
    w!(
        out,
        "<meta charset=\"utf-8\">\n<title>{title}</title>\n{HTML_STYLE}</head>\n"
    );
    w!(
        out,
        "<body>\n<h1>{title}</h1>\n{}<ol class=\"steps\">\n",
        render_svg(d)
    );
    let name = |i: usize| esc(&lane_name(&d.lanes, i));
    for s in &d.steps {
        let who = match s.kind {
            StepKind::Local => name(s.lane),
            StepKind::Receive { from_lane, .. } => {
                format!("{} ← {}", name(s.lane), name(from_lane))
            }
            StepKind::Lost { from_lane, to_lane } => {
                format!("{} → {} lost", name(from_lane), name(to_lane))
            }
        };
        let class = if s.highlight {
            r#" class="highlight""#
        } else {
            ""
        };
        w!(
            out,
            "<li value=\"{}\"{class}>[{who}] {}",
            s.number,
            esc(&s.label)
        );
        if let Some(n) = &s.note {
            w!(out, " <span class=\"note\">({})</span>", esc(n));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests;
