//! `report.html`: one self-contained page for a review. Title, the comparison table and charts,
//! per run a summary table, its charts and its first scaling decisions, and the scenario file
//! echoed at the end. Charts are inline SVG; no script, no external resource, so the page opens
//! from a CI artifact or an e-mail as it is.
//!
//! Formatting only: [`report_html`] returns the page; `super::review` gathers what it shows
//! and writes it. Every string that comes from the scenario or the result files (names, the
//! scenario text, scaling reasons) goes through [`escape`]; chart SVGs come from plotters, which
//! escapes the text it draws.

use std::fmt::Write as _;

use super::comparison::{caption, table};
use super::results_dir::ScalingEventRow;
use super::RunSummary;
use crate::metrics::Summary;

/// `s` with the five characters that are markup in HTML text or attribute values replaced by
/// character references (`&`, `<`, `>`, `"`, `'`), so that it shows as written and can never
/// open an element, end an attribute or start a script.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A chart to inline: its SVG and a caption (plain text).
pub struct InlineChart {
    /// The SVG document, from plotters.
    pub svg: String,
    /// What it shows.
    pub caption: String,
}

/// One run's section.
pub struct RunSection<'a> {
    /// The run's name.
    pub name: &'a str,
    /// Its summary.
    pub summary: &'a Summary,
    /// Its charts.
    pub charts: Vec<InlineChart>,
    /// Its first scaling events.
    pub scaling_events: &'a [ScalingEventRow],
    /// How many scaling events it had.
    pub scaling_event_count: usize,
    /// Where its files are, relative to the report (`base/`, `base/rep-1/`, or empty).
    pub data_path: String,
}

/// Everything the page shows.
pub struct Page<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The runs side by side (base first); one row for a single run.
    pub comparison: &'a [RunSummary<'a>],
    /// The comparison table's rows: single runs, or means ± half-widths across replications.
    pub table_rows: &'a [super::ComparisonRow<'a>],
    /// Whether the runs are variants (then the comparison table is shown).
    pub has_variants: bool,
    /// Charts comparing the runs.
    pub comparison_charts: Vec<InlineChart>,
    /// Per run.
    pub runs: Vec<RunSection<'a>>,
    /// A note on replications, if the folder has any.
    pub replication_note: Option<String>,
    /// The scenario file's text, if the folder keeps it.
    pub scenario_text: Option<&'a str>,
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;\
max-width:1240px;padding:0 1rem;color:#1e1e1e;line-height:1.4}\
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}\
table{border-collapse:collapse;font-size:.85rem;margin:.8rem 0}\
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;white-space:nowrap}\
th:first-child,td:first-child{text-align:left}thead th{background:#f4f4f4}\
td.text{text-align:left;white-space:normal}\
.scroll{overflow-x:auto}figure{margin:1.2rem 0}figure svg{width:100%;height:auto;max-width:1200px}\
figcaption{font-size:.85rem;color:#555}pre{background:#f6f6f6;padding:1rem;overflow-x:auto;font-size:.8rem}\
.note{color:#555;font-size:.9rem}";

/// The page.
pub fn report_html(page: &Page<'_>) -> String {
    let mut h = String::with_capacity(1 << 20);
    let name = escape(page.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>fleetsim: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>fleetsim report: {name}</h1>\n"
    );
    if let Some(&(_, base)) = page.comparison.first() {
        let _ = writeln!(
            h,
            "<p class=\"note\">{}, {} simulated; written by fleetsim {}. Files: \
             <code>summary.md</code> (for a pull request), <code>charts/</code> (SVG and PNG).</p>",
            if page.comparison.len() == 1 {
                "1 run".to_string()
            } else {
                format!("{} runs", page.comparison.len())
            },
            super::charts::style::duration(base.simulated_seconds),
            env!("CARGO_PKG_VERSION"),
        );
    }
    if let Some(note) = &page.replication_note {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(note));
    }
    h.push_str("<nav><ul>\n");
    if page.has_variants {
        h.push_str("<li><a href=\"#comparison\">Comparison</a></li>\n");
    }
    for run in &page.runs {
        let _ = writeln!(
            h,
            "<li><a href=\"#run-{0}\">Run {0}</a></li>",
            escape(run.name)
        );
    }
    h.push_str("<li><a href=\"#scenario\">Scenario file</a></li>\n</ul></nav>\n");

    if page.has_variants {
        h.push_str("<h2 id=\"comparison\">Comparison</h2>\n");
        comparison_table(&mut h, page.table_rows);
    }
    for chart in &page.comparison_charts {
        figure(&mut h, chart);
    }
    for run in &page.runs {
        run_section(&mut h, run);
    }
    h.push_str("<h2 id=\"scenario\">Scenario file</h2>\n");
    match page.scenario_text {
        Some(text) => {
            let _ = writeln!(h, "<pre>{}</pre>", escape(text));
        }
        None => h.push_str(
            "<p class=\"note\">Not kept in this folder (<code>scenario.toml</code>): regenerate with \
             <code>fleetsim report DIR --scenario FILE</code> to show it.</p>\n",
        ),
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn comparison_table(h: &mut String, rows: &[super::ComparisonRow<'_>]) {
    if let Some(base) = rows.first() {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&caption(base, rows)));
    }
    let t = table(rows, |_| true, true);
    h.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for cell in &t.header {
        let _ = write!(h, "<th>{}</th>", escape(cell));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for cell in row {
            let _ = write!(h, "<td>{}</td>", escape(cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
}

fn figure(h: &mut String, chart: &InlineChart) {
    // plotters writes `<svg ...>` with no XML prolog: it inlines as it is.
    let _ = write!(
        h,
        "<figure>\n{}<figcaption>{}</figcaption>\n</figure>\n",
        chart.svg,
        escape(&chart.caption)
    );
}

/// `part` as a percentage of `whole`, 2 decimals; "—" when `whole` is 0.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.2} %", part as f64 * 100.0 / whole as f64)
    }
}

fn ms(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "—".into(), |s| format!("{:.1} ms", s * 1e3))
}

fn run_section(h: &mut String, run: &RunSection<'_>) {
    let s = run.summary;
    let name = escape(run.name);
    let _ = writeln!(h, "<h2 id=\"run-{name}\">Run {name}</h2>");
    if !run.data_path.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">Files: <code>{}</code></p>",
            escape(&run.data_path)
        );
    }
    let r = &s.requests;
    let l = &s.latency_seconds;
    let mut kv: Vec<(String, String)> = vec![
        ("seed".into(), s.seed.to_string()),
        ("requests arrived".into(), r.arrived.to_string()),
        (
            "completed".into(),
            format!("{} ({})", r.completed, percent(r.completed, r.arrived)),
        ),
        (
            "failed".into(),
            format!("{} ({})", r.failed(), percent(r.failed(), r.arrived)),
        ),
    ];
    for why in crate::metrics::Failure::ALL {
        let n = r.failure(why);
        if n > 0 {
            kv.push((format!("— {}", why.name().replace('_', " ")), n.to_string()));
        }
    }
    kv.extend([
        ("in flight at end".into(), r.in_flight_at_end.to_string()),
        (
            "retries (balancer, client)".into(),
            format!("{}, {}", s.retries.balancer, s.retries.client),
        ),
        ("latency mean".into(), ms(l.mean)),
        (
            "latency p50 / p90".into(),
            format!("{} / {}", ms(l.p50), ms(l.p90)),
        ),
        (
            "latency p99 / p99.9".into(),
            format!("{} / {}", ms(l.p99), ms(l.p999)),
        ),
        ("latency max".into(), ms(l.max)),
        (
            "utilization".into(),
            format!("{:.1} %", s.utilization * 100.0),
        ),
        (
            "instances mean / peak".into(),
            format!("{:.1} / {}", s.instances.mean, s.instances.max),
        ),
        (
            "instance-hours".into(),
            format!("{:.2}", s.instances.instance_hours),
        ),
        ("cost".into(), format!("${:.2}", s.cost_usd.total)),
    ]);
    h.push_str("<table>\n<tbody>\n");
    for (k, v) in &kv {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    h.push_str("</tbody></table>\n");

    h.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th>pool</th><th>instance type</th><th>mean</th>\
         <th>peak</th><th>instance-hours</th><th>launches</th><th>from warm pool</th>\
         <th>terminations</th><th>cut by drain</th><th>desired at end</th><th>cost [USD]</th></tr></thead>\n<tbody>\n",
    );
    for (pool, p) in &s.instances.by_pool {
        let cost = s.cost_usd.by_pool.get(pool).copied().unwrap_or(0.0);
        let g = &p.scaling;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            escape(pool),
            escape(&p.instance_type),
            p.mean,
            p.max,
            p.instance_hours,
            g.launches,
            g.from_warm_pool,
            g.terminations,
            g.cut_by_drain,
            g.desired_at_end,
            cost
        );
    }
    h.push_str("</tbody></table></div>\n");

    for chart in &run.charts {
        figure(h, chart);
    }

    if run.scaling_event_count > 0 {
        let _ = writeln!(
            h,
            "<h3>Scaling decisions</h3>\n<p class=\"note\">The first {} of {} (all in <code>{}scaling_events.csv</code>).</p>",
            run.scaling_events.len(),
            run.scaling_event_count,
            escape(&run.data_path)
        );
        h.push_str(
            "<div class=\"scroll\"><table>\n<thead><tr><th>time [s]</th><th>pool</th><th>policy</th>\
             <th>from</th><th>to</th><th>reason</th></tr></thead>\n<tbody>\n",
        );
        for e in run.scaling_events {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
                super::charts::style::number(e.time_s),
                escape(&e.pool),
                escape(&e.policy),
                e.from,
                e.to,
                escape(&e.reason)
            );
        }
        h.push_str("</tbody></table></div>\n");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" + 'y')</script> & co"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; co"
        );
        // Already-escaped text is escaped again: it shows as written.
        assert_eq!(escape("&lt;"), "&amp;lt;");
        assert_eq!(escape("plain text, é ✓"), "plain text, é ✓");
    }

    #[test]
    fn the_scenario_text_and_reasons_are_escaped_in_the_page() {
        let summary: Summary = serde_json::from_str(SUMMARY).unwrap();
        let rows = [("base", &summary)];
        let events = [ScalingEventRow {
            time_s: 60.0,
            pool: "gpu".into(),
            policy: "hpa".into(),
            from: 1,
            to: 2,
            reason: "<img src=x onerror=alert(1)>".into(),
        }];
        let table_rows = crate::report::comparison::single_rows(&rows);
        let page = Page {
            scenario: "s",
            comparison: &rows,
            table_rows: &table_rows,
            has_variants: false,
            comparison_charts: Vec::new(),
            runs: vec![RunSection {
                name: "base",
                summary: &summary,
                charts: vec![InlineChart {
                    svg: "<svg></svg>\n".into(),
                    caption: "a \"chart\"".into(),
                }],
                scaling_events: &events,
                scaling_event_count: 1,
                data_path: String::new(),
            }],
            replication_note: None,
            scenario_text: Some("name = \"s\" # </pre><script>alert('x')</script>"),
        };
        let html = report_html(&page);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("# &lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</pre>")
        );
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("<figcaption>a &quot;chart&quot;</figcaption>"));
        // The chart itself is inlined as markup.
        assert!(html.contains("<figure>\n<svg></svg>\n"));
        // One run: its summary, its pools and its scaling decisions; no comparison table.
        assert_eq!(html.matches("<table>").count(), 3);
        assert!(html.contains("<td class=\"text\">&lt;img"));
    }

    /// A summary as `summary.json` holds it.
    pub(crate) const SUMMARY: &str = r#"{
      "scenario": "s", "seed": 7, "simulated_seconds": 60.0, "warmup_seconds": 0.0, "events": 10,
      "requests": {"arrived": 100, "completed": 90, "timed_out": 6, "rejected": 4,
        "no_healthy_target": 0, "server_error": 0, "connect_failed": 0, "interrupted": 0,
        "in_flight_at_end": 0},
      "latency_seconds": {"count": 90, "mean": 0.5, "p50": 0.25, "p90": 1.0, "p99": 2.0,
        "p999": 3.0, "max": 3.5},
      "by_class": {}, "by_route": {}, "retries": {"balancer": 0, "client": 0},
      "utilization": 0.75,
      "instances": {"mean": 2.0, "max": 3, "instance_hours": 0.0333,
        "by_pool": {"gpu": {"instance_type": "g5.xlarge", "mean": 2.0, "max": 3,
          "instance_hours": 0.0333, "scaling": {"desired_at_end": 2, "launches": 1,
          "from_warm_pool": 0, "launch_failures": 0, "terminations": 0, "cut_by_drain": 0,
          "warm_pool_storage_hours": 0.0}}}},
      "cost_usd": {"total": 0.0335, "by_pool": {"gpu": 0.0335}}
    }"#;
}
