//! Tests of the sequence diagram renderer.

use super::*;
use StepKind::{Local, Lost};

fn recv(from_lane: usize, sent_at_step: Option<usize>) -> StepKind {
    StepKind::Receive {
        from_lane,
        sent_at_step,
    }
}

/// Five nodes: a handshake, n5 found failing, and its replica n4 winning too early.
fn example() -> Diagram {
    let lost = Lost {
        from_lane: 3,
        to_lane: 1,
    };
    let table = [
        (0, "CLUSTER MEET n2", Local, "handshake with n2"),
        (1, "deliver MEET", recv(0, Some(1)), "knows n1"),
        (0, "deliver PONG", recv(1, None), "n2 connected"),
        (3, "deliver PING", recv(2, None), "knows n3"),
        (0, "timeout: PFAIL n5", Local, "n5 pfail"),
        (0, "failure quorum: FAIL n5", Local, "n5 fail"),
        (2, "deliver FAIL(n5)", recv(0, Some(6)), "n5 fail"),
        (3, "deliver FAIL(n5)", recv(0, Some(6)), "n5 fail"),
        (3, "timeout: start election", Local, "epoch=2 votes=0"),
        (
            0,
            "deliver AUTH_REQUEST(epoch 2)",
            recv(3, Some(9)),
            "voted=2",
        ),
        (3, "AUTH_REQUEST(epoch 2) <lost>", lost, ""),
        (3, "deliver AUTH_ACK(epoch 2)", recv(0, Some(10)), "votes=1"),
        (3, "promote with 1 of 2 votes", Local, "role=master epoch=2"),
    ];
    let steps = table
        .into_iter()
        .enumerate()
        .map(|(i, (lane, label, kind, note))| DiagramStep {
            number: i + 1,
            lane,
            label: label.into(),
            kind,
            note: Some(note.to_string()).filter(|n| !n.is_empty()),
            highlight: i == 12,
        });
    let lanes = ["n1", "n2", "n3", "n4", "n5"].map(String::from).to_vec();
    let title = "failover needs a majority of votes: violated".into();
    Diagram {
        title,
        lanes,
        steps: steps.collect(),
    }
}

/// The numeric value of attribute `name` in the element text `elem`.
fn attr(elem: &str, name: &str) -> i64 {
    let pat = format!(" {name}=\"");
    let start = elem.find(&pat).map_or(usize::MAX, |i| i + pat.len());
    let value = elem.get(start..).and_then(|v| v.split('"').next());
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {name} in {elem}"))
}

/// Every element whose text starts with `prefix`, up to its closing '>'.
fn elements<'a>(svg: &'a str, prefix: &str) -> Vec<&'a str> {
    svg.match_indices(prefix)
        .map(|(i, _)| svg[i..].split('>').next().unwrap_or(""))
        .collect()
}

#[test]
fn text_is_escaped_and_the_document_has_one_root() {
    let mut d = example();
    d.title = "t<'&'>".into();
    d.lanes[0] = "<n1>".into();
    d.steps[0].label = "<script>&\"".into();
    d.steps[1].note = Some("a\u{1}b".into());
    let svg = render_svg(&d);
    assert!(svg.contains(">&lt;script&gt;&amp;&quot;</text>"));
    assert!(svg.contains("<title>t&lt;&#39;&amp;&#39;&gt;</title>"));
    assert!(svg.contains(">&lt;n1&gt;</text>"));
    assert!(svg.contains(">n2: a\u{FFFD}b</text>"));
    assert!(!svg.contains("<script") && !svg.contains("<n1>") && !svg.contains('\u{1}'));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("</svg>").count(), 1);
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    let html = render_html(&d);
    assert!(html.contains("<li value=\"1\">[&lt;n1&gt;] &lt;script&gt;&amp;&quot; <span"));
    assert!(!html.contains("<script") && html.contains("<h1>t&lt;&#39;&amp;&#39;&gt;</h1>"));
}

#[test]
fn one_lane_line_per_lane_and_one_row_per_step() {
    let svg = render_svg(&example());
    assert_eq!(svg.matches("class=\"lane\"").count(), 5);
    let groups = elements(&svg, "<g class=\"step");
    let numbers: Vec<i64> = groups.iter().map(|g| attr(g, "data-step")).collect();
    assert_eq!(numbers, (1..=13).collect::<Vec<_>>());
    assert_eq!(attr(&svg, "height"), TOP + 13 * ROW_H + BOTTOM);
    // Fewer lanes than the minimum still get the minimum width; more widen it.
    let narrow = Diagram {
        lanes: vec!["a".into()],
        steps: vec![],
        title: String::new(),
    };
    let wide = Diagram {
        lanes: (0..7).map(|i| format!("n{i}")).collect(),
        ..narrow.clone()
    };
    let (narrow, wide) = (render_svg(&narrow), render_svg(&wide));
    assert_eq!(attr(&wide, "width") - attr(&narrow, "width"), 4 * LANE_W);
    assert_eq!(narrow.matches("class=\"lane\"").count(), 1);
}

#[test]
fn lanes_a_step_names_beyond_the_list_are_drawn() {
    let mut d = example();
    d.steps[3].kind = recv(6, None);
    let svg = render_svg(&d);
    assert_eq!(svg.matches("class=\"lane\"").count(), 7);
    assert!(svg.contains(">lane 6</text>"));
    assert!(render_html(&d).contains("<li value=\"4\">[n4 ← lane 6] deliver PING"));
    d.steps[3].kind = recv(usize::MAX, None);
    let svg = render_svg(&d);
    assert_eq!(svg.matches("class=\"lane\"").count(), MAX_LANES + 1);
    let arrow = elements(&svg, "<line class=\"msg")[3];
    assert_eq!(attr(arrow, "x1"), lane_x(MAX_LANES));
    assert!(render_html(&d).contains(&format!("[n4 ← lane {}] deliver PING", usize::MAX)));
}

#[test]
fn receive_arrows_go_from_sender_lane_to_receiver_lane() {
    let svg = render_svg(&example());
    let lanes: Vec<i64> = elements(&svg, "<line class=\"lane\"")
        .iter()
        .map(|l| attr(l, "x1"))
        .collect();
    assert_eq!(lanes, vec![138, 318, 498, 678, 858]);
    let arrows = elements(&svg, "<line class=\"msg");
    // The legend's sample arrow, then steps 2, 3, 4, 7, 8, 10 and 12.
    let got: Vec<(i64, i64, i64, i64)> = arrows[1..]
        .iter()
        .map(|a| {
            (
                attr(a, "x1"),
                attr(a, "x2"),
                (attr(a, "y1") - TOP) / ROW_H,
                (attr(a, "y2") - TOP) / ROW_H,
            )
        })
        .collect();
    let [n1, n2, n3, n4, _] = [lanes[0], lanes[1], lanes[2], lanes[3], lanes[4]];
    let rows = [
        (n1, n2, 0, 1),
        (n2, n1, 1, 2),
        (n3, n4, 2, 3),
        (n1, n3, 5, 6),
    ];
    let want: Vec<_> = rows
        .into_iter()
        .chain([(n1, n4, 5, 7), (n4, n1, 8, 9), (n1, n4, 9, 11)])
        .collect();
    assert_eq!(got, want);
    assert_eq!(attr(arrows[1], "y2"), row_y(1));
    let lost = elements(&svg, "<line class=\"lost")[1];
    assert_eq!(
        (attr(lost, "x1"), attr(lost, "x2")),
        (n4, n4 + (n2 - n4) * 2 / 3)
    );
}

#[test]
fn arrow_labels_keep_clear_of_other_arrows() {
    let svg = render_svg(&example());
    // Step 8's arrow crosses row 7 left of n3, so step 7's label goes beyond n3's arrowhead.
    let label = elements(&svg, "<text class=\"lbl\"")[3];
    assert_eq!(
        (attr(label, "x"), attr(label, "y")),
        (498 + PAD, row_y(6) + 4)
    );
    assert!(label.contains("text-anchor=\"start\""));
}

#[test]
fn highlighted_steps_use_the_highlight_class() {
    let svg = render_svg(&example());
    let groups = elements(&svg, "<g class=\"step highlight\"");
    assert_eq!(
        groups
            .iter()
            .map(|g| attr(g, "data-step"))
            .collect::<Vec<_>>(),
        vec![13]
    );
    let swatches = elements(&svg, "<rect class=\"row-hl\"");
    assert_eq!(
        swatches.iter().map(|r| attr(r, "y")).collect::<Vec<_>>(),
        vec![37, TOP + 12 * ROW_H]
    );
    let mut d = example();
    d.steps[11].highlight = true;
    let svg = render_svg(&d);
    let red = elements(&svg, "<line class=\"msg hl\"");
    assert_eq!(
        red.iter().map(|a| attr(a, "y2")).collect::<Vec<_>>(),
        vec![row_y(11)]
    );
    assert_eq!(svg.matches("marker-end=\"url(#arrow-hl)\"").count(), 1);
    assert_eq!(
        render_html(&d)
            .matches("<li value=\"12\" class=\"highlight\">")
            .count(),
        1
    );
}

#[test]
fn output_is_deterministic() {
    let d = example();
    assert_eq!(render_svg(&d), render_svg(&d.clone()));
    assert_eq!(render_html(&d), render_html(&d.clone()));
    let mut other = d.clone();
    other.steps[4].note = Some("n5 pfail, 1 report".into());
    assert_ne!(render_svg(&d), render_svg(&other));
}

#[test]
fn labels_too_long_for_the_row_are_shortened() {
    let mut d = example();
    d.steps[0].label = "x".repeat(500);
    let svg = render_svg(&d);
    let keep = (LANE_W * 5 - 4 - 2 * PAD) * 10 / LABEL_CHAR_W10 - 1;
    let shown = format!("{}…", "x".repeat(usize::try_from(keep).unwrap_or(0)));
    assert!(svg.contains(&format!(">{shown}</text>")));
    assert!(svg.contains(&format!("<title>{}</title>", "x".repeat(500))));
}

/// Writes the example to the temp directory for a person to look at:
/// `cargo test -p clusterbus-conformance -- --ignored write_example`.
#[test]
#[ignore]
fn write_example() -> std::io::Result<()> {
    let dir = std::env::temp_dir();
    std::fs::write(dir.join("diagram-example.svg"), render_svg(&example()))?;
    std::fs::write(dir.join("diagram-example.html"), render_html(&example()))
}
