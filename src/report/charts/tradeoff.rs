//! The variant comparison in one picture: p99 latency against cost, one labelled point per run.
//! Lower left is better; each label carries the run's error rate, since p99 is of completed
//! requests only and a run that fails most requests can show a low one.
//!
//! Labels are placed so that none overlaps another label or a point: beside their point when
//! there is room, else moved up or down the least that frees them, with a leader line.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, palette};
use super::{DrawResult, Figure};
use crate::metrics::columns::comparison_value;
use crate::metrics::Aggregate;
use crate::report::RunSummary;

/// The comparison columns the chart reads from a run's aggregate (`aggregate.json`): cost,
/// p99 latency and the error rate of its label.
const COST: &str = "cost_usd";
const P99: &str = "latency_p99_ms";
const ERRORS: &str = "error_rate_pct";

/// The p99-against-cost chart of the runs.
pub struct TradeoffChart<'a> {
    /// Chart title.
    pub title: String,
    /// What the chart holds, and what it leaves out.
    pub context: String,
    /// The runs, base first.
    pub runs: &'a [RunSummary<'a>],
    /// With replications, each run's aggregate (same order as `runs`): the points are then the
    /// means, with bars of their 95 % half-widths.
    pub aggregates: Option<&'a [Option<&'a Aggregate>]>,
}

/// A pixel box `[x0, x1) × [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Box2 {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl Box2 {
    fn overlaps(&self, o: &Box2) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn inside(&self, o: &Box2) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// Where a label goes: its box and whether it is right of its point.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placed {
    label: Box2,
    right: bool,
}

/// A label's leader line: from its point to the middle of the label's near edge.
fn leader((x, y): (i32, i32), p: &Placed) -> ((i32, i32), (i32, i32)) {
    let edge = if p.right { p.label.x0 } else { p.label.x1 };
    ((x, y), (edge, (p.label.y0 + p.label.y1) / 2))
}

/// Whether the segment `a`–`b` passes through `bx` (sampled every 2 px: pixels are the unit).
fn crosses((a, b): ((i32, i32), (i32, i32)), bx: &Box2) -> bool {
    let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) / 2).max(1);
    (0..=steps).any(|k| {
        let x = a.0 + (b.0 - a.0) * k / steps;
        let y = a.1 + (b.1 - a.1) * k / steps;
        x > bx.x0 && x < bx.x1 && y > bx.y0 && y < bx.y1
    })
}

/// Places labels of sizes `sizes` for points `points` (pixels) inside `bounds`: for each point
/// in turn (top to bottom), the position beside it (right first, then left) that needs the
/// smallest vertical shift so that the label keeps clear of every label placed so far (with a
/// margin), of every point and of every leader line, and its own leader line crosses no label.
/// Deterministic.
fn place_labels(points: &[(i32, i32)], sizes: &[(i32, i32)], bounds: Box2) -> Vec<Placed> {
    // Beside the point; farther when moved, so that the leader line shows its slope.
    const GAP: i32 = 10;
    const MOVED_GAP: i32 = 40;
    const STEP: i32 = 3;
    // Space kept around labels.
    const MARGIN_X: i32 = 10;
    const MARGIN_Y: i32 = 2;
    let dots: Vec<Box2> = points
        .iter()
        .map(|&(x, y)| Box2 {
            x0: x - 7,
            y0: y - 7,
            x1: x + 7,
            y1: y + 7,
        })
        .collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| (points[i].1, points[i].0, i));
    let mut placed: Vec<Option<Placed>> = vec![None; points.len()];
    let mut taken: Vec<Box2> = Vec::new();
    let mut leaders: Vec<((i32, i32), (i32, i32))> = Vec::new();
    for i in order {
        let (x, y) = points[i];
        let (w, h) = sizes[i];
        let candidate = |right: bool, dy: i32| {
            let gap = if dy == 0 { GAP } else { MOVED_GAP };
            let x0 = if right { x + gap } else { x - gap - w };
            let y0 = y + dy - h / 2;
            Placed {
                label: Box2 {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                },
                right,
            }
        };
        let free = |p: &Placed| {
            let b = p.label;
            let padded = Box2 {
                x0: b.x0 - MARGIN_X,
                y0: b.y0 - MARGIN_Y,
                x1: b.x1 + MARGIN_X,
                y1: b.y1 + MARGIN_Y,
            };
            let line = leader((x, y), p);
            b.inside(&bounds)
                && !taken
                    .iter()
                    .any(|t| t.overlaps(&padded) || crosses(line, t))
                && !dots.iter().any(|d| d.overlaps(&b))
                && !leaders.iter().any(|&l| crosses(l, &padded))
        };
        let mut best = None;
        'search: for k in 0..=(bounds.y1 - bounds.y0) / STEP {
            for dy in [k * STEP, -k * STEP] {
                for right in [true, false] {
                    let p = candidate(right, dy);
                    if free(&p) {
                        best = Some(p);
                        break 'search;
                    }
                }
            }
        }
        // No free place at all (a crowded chart): beside the point, overlapping.
        let p = best.unwrap_or(candidate(true, 0));
        taken.push(p.label);
        if p.label.y0 + h / 2 != y {
            leaders.push(leader((x, y), &p));
        }
        placed[i] = Some(p);
    }
    placed
        .into_iter()
        .map(|p| p.expect("every point placed"))
        .collect()
}

impl Figure for TradeoffChart<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let costs = self.runs.iter().map(|(_, s)| s.cost_usd.total);
        let (lo, hi) = costs.fold((f64::INFINITY, 0.0f64), |(lo, hi), c| {
            (lo.min(c), hi.max(c))
        });
        // Runs of one cost stack up on one vertical line: say so, the latency chart separates them.
        let same_cost = if self.runs.len() > 1 && hi > 0.0 && (hi - lo) / hi < 0.005 {
            format!("; every run costs about ${hi:.2}: see the latency chart to tell them apart")
        } else {
            String::new()
        };
        let body = style::titled(
            root,
            &self.title,
            &format!(
                "{}; labels give the error rate when requests failed{same_cost}.",
                self.context
            ),
        )?;
        // (label, cost, p99 [ms], is the base, half-widths of cost and p99); runs with no
        // completed request have no p99. With replications: the means and their intervals.
        type Point = (String, f64, f64, bool, (f64, f64));
        let runs: Vec<Point> = self
            .runs
            .iter()
            .enumerate()
            .filter_map(|(i, (name, s))| {
                let replicated = self.aggregates.and_then(|v| v.get(i).copied().flatten());
                let (cost, p99, errors, bars) = match replicated {
                    Some(a) => {
                        let m = |k| a.metric(k).map_or((None, None), |m| (m.mean, m.half_width));
                        let ((cost, hw_cost), (p99, hw_p99)) = (m(COST), m(P99));
                        (
                            cost?,
                            p99?,
                            m(ERRORS).0.unwrap_or(0.0),
                            (hw_cost.unwrap_or(0.0), hw_p99.unwrap_or(0.0)),
                        )
                    }
                    None => (
                        s.cost_usd.total,
                        s.latency_seconds.p99? * 1e3,
                        comparison_value(s, ERRORS).unwrap_or(0.0),
                        (0.0, 0.0),
                    ),
                };
                let label = if errors > 0.0 {
                    format!("{name} ({}% errors)", style::number(errors))
                } else {
                    name.to_string()
                };
                Some((label, cost, p99, i == 0, bars))
            })
            .collect();
        let x_max = runs.iter().map(|r| r.1 + r.4 .0).fold(0.0, f64::max);
        let y_max = runs.iter().map(|r| r.2 + r.4 .1).fold(0.0, f64::max);
        let x_hi = if x_max > 0.0 { x_max * 1.3 } else { 1.0 };
        let y_hi = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
        let mut chart = ChartBuilder::on(&body)
            .margin_top(16)
            .margin_left(14)
            .margin_right(28)
            .x_label_area_size(58)
            .y_label_area_size(96)
            .build_cartesian_2d(0.0..x_hi, 0.0..y_hi)?;
        chart
            .configure_mesh()
            .light_line_style(style::GRID.mix(0.4))
            .max_light_lines(4)
            .bold_line_style(style::GRID)
            .x_labels(10)
            .y_labels(8)
            .x_label_formatter(&|v| style::number(*v))
            .y_label_formatter(&|v| style::number(*v))
            .x_desc("cost of the run [USD]")
            .y_desc("p99 latency of completed requests [ms]")
            .label_style(style::text(style::TICK))
            .axis_desc_style(style::text(style::AXIS))
            .draw()?;
        let font = style::text(style::TICK);
        let points: Vec<(i32, i32)> = runs
            .iter()
            .map(|r| chart.backend_coord(&(r.1, r.2)))
            .collect();
        // A label keeps clear of its point's horizontal confidence bar: its box is widened on
        // the near side by the bar's half-length.
        let pads: Vec<i32> = runs
            .iter()
            .zip(&points)
            .map(|(r, &(x, _))| chart.backend_coord(&(r.1 + r.4 .0, r.2)).0 - x)
            .collect();
        let mut sizes = Vec::with_capacity(runs.len());
        for (r, pad) in runs.iter().zip(&pads) {
            let (w, h) = root.estimate_text_size(&r.0, &font)?;
            sizes.push((w as i32 + 4 + pad, h as i32 + 4));
        }
        let (tl, br) = (
            chart.backend_coord(&(0.0, y_hi)),
            chart.backend_coord(&(x_hi, 0.0)),
        );
        let bounds = Box2 {
            x0: tl.0 + 2,
            y0: tl.1 + 2,
            x1: br.0 - 2,
            y1: br.1 - 2,
        };
        let placed = place_labels(&points, &sizes, bounds);
        // Confidence bars first, under the points and labels: ± the 95 % half-width each way.
        for (_, cost, p99, base, (hw_cost, hw_p99)) in &runs {
            let color = if *base { palette::BLACK } else { palette::BLUE };
            let stroke = color.stroke_width(2);
            if *hw_p99 > 0.0 {
                let (lo, hi) = (
                    chart.backend_coord(&(*cost, (p99 - hw_p99).max(0.0))),
                    chart.backend_coord(&(*cost, p99 + hw_p99)),
                );
                root.draw(&PathElement::new(vec![lo, hi], stroke))?;
                for end in [lo, hi] {
                    root.draw(&PathElement::new(
                        vec![(end.0 - 5, end.1), (end.0 + 5, end.1)],
                        stroke,
                    ))?;
                }
            }
            if *hw_cost > 0.0 {
                let (lo, hi) = (
                    chart.backend_coord(&((cost - hw_cost).max(0.0), *p99)),
                    chart.backend_coord(&(cost + hw_cost, *p99)),
                );
                root.draw(&PathElement::new(vec![lo, hi], stroke))?;
                for end in [lo, hi] {
                    root.draw(&PathElement::new(
                        vec![(end.0, end.1 - 5), (end.0, end.1 + 5)],
                        stroke,
                    ))?;
                }
            }
        }
        for (i, ((label, _, _, base, _), &(x, y))) in runs.iter().zip(&points).enumerate() {
            let p = placed[i];
            let (_, (edge_x, mid_y)) = leader((x, y), &p);
            let anchor = if p.right { HPos::Left } else { HPos::Right };
            if (mid_y - y).abs() > 3 {
                root.draw(&PathElement::new(
                    vec![(x, y), (edge_x, mid_y)],
                    palette::GREY.stroke_width(1),
                ))?;
            }
            let color = if *base { palette::BLACK } else { palette::BLUE };
            root.draw(&Circle::new((x, y), 6, color.filled()))?;
            let text_x = if p.right {
                edge_x + 2 + pads[i]
            } else {
                edge_x - 2 - pads[i]
            };
            root.draw(&Text::new(
                label.clone(),
                (text_x, mid_y),
                font.pos(Pos::new(anchor, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chart's names are columns of the one list (a misspelt one would read as undefined).
    #[test]
    fn the_columns_read_are_comparison_columns() {
        use crate::metrics::columns::ComparisonColumn;
        for name in [COST, P99, ERRORS] {
            assert!(ComparisonColumn::named(name).is_some(), "{name}");
        }
    }

    #[test]
    fn labels_of_stacked_points_never_overlap() {
        // Ten points 1 px apart vertically at the same x (runs of equal cost and close p99).
        let points: Vec<(i32, i32)> = (0..10).map(|i| (300, 300 + i)).collect();
        let sizes = vec![(120, 20); 10];
        let bounds = Box2 {
            x0: 0,
            y0: 0,
            x1: 800,
            y1: 600,
        };
        let placed = place_labels(&points, &sizes, bounds);
        for (i, a) in placed.iter().enumerate() {
            assert!(a.label.inside(&bounds));
            for b in &placed[i + 1..] {
                assert!(!a.label.overlaps(&b.label), "{a:?} overlaps {b:?}");
            }
            for &(x, y) in &points {
                let dot = Box2 {
                    x0: x - 7,
                    y0: y - 7,
                    x1: x + 7,
                    y1: y + 7,
                };
                assert!(
                    !a.label.overlaps(&dot),
                    "{a:?} covers the point at ({x}, {y})"
                );
            }
        }
        // The first is beside its point, unmoved.
        assert_eq!(placed[0].label.y0, 300 - 10);
    }

    #[test]
    fn a_label_at_the_right_edge_goes_left() {
        let bounds = Box2 {
            x0: 0,
            y0: 0,
            x1: 400,
            y1: 400,
        };
        let placed = place_labels(&[(390, 200)], &[(100, 20)], bounds);
        assert!(!placed[0].right);
        assert_eq!(placed[0].label.x1, 380);
    }
}
