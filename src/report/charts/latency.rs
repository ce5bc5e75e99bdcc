//! Latency percentiles per run: one row per run (the base on top), p50, p90, p99 and p99.9 of
//! its completed requests as markers on a logarithmic axis, joined by a line that spans the
//! tail. Log scale because tails are often 10–100× the median.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, palette, Mark, Shape};
use super::{DrawResult, Figure};
use crate::report::RunSummary;

/// The percentiles drawn: legend name, shape, colour, value \[s\].
type Percentile = (
    &'static str,
    Shape,
    RGBColor,
    fn(&crate::metrics::LatencySummary) -> Option<f64>,
);

const PERCENTILES: [Percentile; 4] = [
    ("p50", Shape::Circle, palette::BLUE, |l| l.p50),
    ("p90", Shape::Triangle, palette::GREEN, |l| l.p90),
    ("p99", Shape::Square, palette::VERMILLION, |l| l.p99),
    ("p99.9", Shape::Diamond, palette::PURPLE, |l| l.p999),
];

/// Row height \[px\].
const ROW: i32 = 40;

/// The latency chart of the runs.
pub struct LatencyChart<'a> {
    /// Chart title.
    pub title: String,
    /// What the chart holds.
    pub context: String,
    /// The runs, base first.
    pub runs: &'a [RunSummary<'a>],
}

impl Figure for LatencyChart<'_> {
    fn size(&self) -> (u32, u32) {
        (
            1100,
            (style::TITLE_HEIGHT + 40 + 80 + ROW * self.runs.len() as i32) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::titled(
            root,
            &self.title,
            &format!("{}; latency of completed requests (failed requests have none: see the error rate).", self.context),
        )?;
        let (w, _) = body.dim_in_pixel();
        let names: Vec<String> = self.runs.iter().map(|(n, _)| n.to_string()).collect();
        let label_w = style::widest(&body, names.iter().cloned())? + 24;
        let items: Vec<(Mark, String)> = PERCENTILES
            .iter()
            .map(|(name, shape, color, _)| (Mark::Marker(*shape, *color), name.to_string()))
            .collect();
        let legend_h = style::legend(&body, (label_w + 10, 4), w as i32 - 20, &items)?;

        let values: Vec<f64> = self
            .runs
            .iter()
            .flat_map(|(_, s)| PERCENTILES.iter().filter_map(|p| (p.3)(&s.latency_seconds)))
            .map(|s| s * 1e3)
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(0.0, f64::max);
        let (lo, hi) = if values.is_empty() {
            (1.0, 1000.0)
        } else {
            (lo / 1.6, hi * 1.6)
        };
        let n = self.runs.len();
        let mut chart = ChartBuilder::on(&body)
            .margin_top(legend_h + 6)
            .margin_left(14)
            .margin_right(28)
            .x_label_area_size(58)
            .y_label_area_size(label_w)
            .build_cartesian_2d(
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
                0.0..n as f64,
            )?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(style::GRID.mix(0.4))
            .max_light_lines(4)
            .bold_line_style(style::GRID)
            .x_label_formatter(&|v| style::number(*v))
            .x_desc("latency [ms], logarithmic scale")
            .label_style(style::text(style::TICK))
            .axis_desc_style(style::text(style::AXIS))
            .draw()?;
        let mut labels = Vec::with_capacity(n);
        for (i, (name, summary)) in self.runs.iter().enumerate() {
            let y = n as f64 - i as f64 - 0.5;
            let row_y = chart.backend_coord(&(lo, y)).1;
            labels.push((row_y, name.to_string()));
            let l = &summary.latency_seconds;
            let xs: Vec<f64> = PERCENTILES
                .iter()
                .filter_map(|p| (p.3)(l))
                .map(|s| s * 1e3)
                .collect();
            if xs.is_empty() {
                let (px, py) = chart.backend_coord(&(lo, y));
                root.draw(&Text::new(
                    "no request completed".to_string(),
                    (px + 12, py),
                    style::text(style::TICK).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
                continue;
            }
            let (first, last) = (xs[0], xs[xs.len() - 1]);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(first, y), (last, y)],
                palette::GREY.stroke_width(2),
            )))?;
            for (_, shape, color, value) in PERCENTILES {
                if let Some(v) = value(l) {
                    style::marker(root, chart.backend_coord(&(v * 1e3, y)), shape, color)?;
                }
            }
        }
        let left = chart.backend_coord(&(lo, 0.0)).0;
        style::row_labels(root, left - 10, &labels)?;
        Ok(())
    }
}

/// Ticks of a logarithmic axis over `[lo, hi]`: 1, 2 and 5 times each power of ten inside it
/// (only the powers of ten when that makes more than 12).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return Vec::new();
    }
    let mut ticks = Vec::new();
    for k in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in [1.0, 2.0, 5.0] {
            let t = 10f64.powi(k) * m;
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
    }
    if ticks.len() > 12 {
        ticks.retain(|t| (t.log10() - t.log10().round()).abs() < 1e-9);
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_one_two_five() {
        assert_eq!(
            log_ticks(150.0, 12_000.0),
            vec![200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0]
        );
        assert_eq!(log_ticks(1e-3, 1e6).len(), 10);
        assert!(log_ticks(0.0, 1.0).is_empty());
    }
}
