//! One run over time, in three panels on one time axis: the offered load (arrivals and failures
//! per second), the fleet (instances in service, capacity launched, desired capacity) and the
//! latency (p50 and p99 per window). Spans where the arrival rate spiked are shaded in every
//! panel, so a reader sees what the fleet and the latency did during them.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, palette, Mark, TimeUnit};
use super::{padded_range, DrawResult, Figure};
use crate::report::timeline_points::{Timeline, IN_SERVICE, SPIKE_FACTOR};

/// The timeline chart of one run.
pub struct TimelineChart<'a> {
    /// Chart title.
    pub title: String,
    /// What the chart holds (scenario, seed).
    pub context: String,
    /// The run's timeline.
    pub timeline: &'a Timeline,
    /// Simulated time \[s\] (the axis's end).
    pub simulated_seconds: f64,
}

/// Width of the y tick-label area, the same in every panel so that they share x positions.
const Y_LABELS: u32 = 96;

impl TimelineChart<'_> {
    /// The subtitle: the context, and how windows became points.
    fn subtitle(&self) -> String {
        let t = self.timeline;
        let window = style::duration(t.window_s);
        let points = if t.windows_per_point <= 1 {
            format!("each point is one {window} window")
        } else {
            format!(
                "each point merges {} windows of {window} (rates over the span, instances time-averaged, latency the largest window percentile)",
                t.windows_per_point
            )
        };
        format!("{}; {points}.", self.context)
    }

    fn unit(&self) -> TimeUnit {
        TimeUnit::for_run(self.simulated_seconds)
    }

    /// Draws one panel: legend on top, then the chart with the spike shading and `lines`.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        y_desc: &str,
        bottom: bool,
        lines: &[Series],
        extra_legend: Option<(Mark, String)>,
    ) -> DrawResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let mut items: Vec<(Mark, String)> =
            lines.iter().map(|s| (s.mark, s.label.clone())).collect();
        items.extend(extra_legend);
        let legend_h = style::legend(area, (Y_LABELS as i32 + 10, 4), w as i32 - 20, &items)?;
        let unit = self.unit();
        let x_end = self.simulated_seconds / unit.seconds;
        let y_max = lines
            .iter()
            .flat_map(|s| s.points.iter().flatten().map(|p| p.1))
            .fold(0.0, f64::max);
        let (_, y_hi) = padded_range(0.0, y_max);
        let mut chart = ChartBuilder::on(area)
            .margin_top(legend_h + 6)
            .margin_left(14)
            .margin_right(28)
            .x_label_area_size(if bottom { 58 } else { 32 })
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(0.0..x_end, 0.0..y_hi)?;
        let x_desc = if bottom {
            format!("simulated time [{}]", unit.name)
        } else {
            String::new()
        };
        chart
            .configure_mesh()
            .light_line_style(style::GRID.mix(0.4))
            .max_light_lines(4)
            .bold_line_style(style::GRID)
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&|v| style::number(*v))
            .y_label_formatter(&|v| style::number(*v))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(style::text(style::TICK))
            .axis_desc_style(style::text(style::AXIS))
            .draw()?;
        chart.draw_series(self.timeline.spikes.iter().map(|&(a, b)| {
            Rectangle::new(
                [(a / unit.seconds, 0.0), (b / unit.seconds, y_hi)],
                style::spike_fill().filled(),
            )
        }))?;
        for s in lines {
            for run in s.runs(unit) {
                if run.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(run[0], 2, s.color.filled())))?;
                } else if s.dashed {
                    chart.draw_series(DashedLineSeries::new(run, 8, 6, s.color.stroke_width(2)))?;
                } else {
                    chart.draw_series(LineSeries::new(run, s.color.stroke_width(2)))?;
                }
            }
        }
        Ok(())
    }
}

/// A line to draw: its points (time \[s\], value; `None` for a gap), colour and legend.
struct Series {
    points: Vec<Option<(f64, f64)>>,
    color: RGBColor,
    dashed: bool,
    mark: Mark,
    label: String,
}

impl Series {
    fn new(points: Vec<Option<(f64, f64)>>, color: RGBColor, dashed: bool, label: &str) -> Series {
        let mark = if dashed {
            Mark::Dashed(color)
        } else {
            Mark::Line(color)
        };
        Series {
            points,
            color,
            dashed,
            mark,
            label: label.into(),
        }
    }

    /// The unbroken runs of points, time in `unit`.
    fn runs(&self, unit: TimeUnit) -> Vec<Vec<(f64, f64)>> {
        let mut runs = vec![Vec::new()];
        for p in &self.points {
            match p {
                Some((t, v)) => runs
                    .last_mut()
                    .expect("never empty")
                    .push((t / unit.seconds, *v)),
                None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                None => {}
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }
}

impl Figure for TimelineChart<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 1060)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::titled(root, &self.title, &self.subtitle())?;
        let panels = body.split_by_breakpoints::<i32, i32, _, _>([], [320, 640]);
        let pts = &self.timeline.points;
        let at = |f: &dyn Fn(&crate::report::timeline_points::TimelinePoint) -> Option<f64>| -> Vec<Option<(f64, f64)>> {
            pts.iter().map(|p| f(p).map(|v| (p.mid_s(), v))).collect()
        };
        let median = self.timeline.median_arrivals_per_s;
        let spike = (!self.timeline.spikes.is_empty()).then(|| {
            let label = if median > 0.0 {
                format!(
                    "arrivals above {}× the run's median rate ({}/s)",
                    style::number(SPIKE_FACTOR),
                    style::number(median)
                )
            } else {
                "any arrivals (the run's median rate is 0/s)".to_string()
            };
            (Mark::Fill(style::spike_fill()), label)
        });
        self.panel(
            &panels[0],
            "requests per second",
            false,
            &[
                Series::new(
                    at(&|p| Some(p.arrivals_per_s)),
                    palette::BLUE,
                    false,
                    "arrivals (offered load)",
                ),
                Series::new(
                    at(&|p| Some(p.failures_per_s)),
                    palette::VERMILLION,
                    false,
                    "failures (every reason)",
                ),
            ],
            spike.clone(),
        )?;
        self.panel(
            &panels[1],
            "instances",
            false,
            &[
                Series::new(
                    at(&|p| Some(p.states[IN_SERVICE])),
                    palette::GREEN,
                    false,
                    "in service",
                ),
                Series::new(
                    at(&|p| Some(p.capacity)),
                    palette::SKY_BLUE,
                    false,
                    "capacity (launched, not leaving)",
                ),
                Series::new(at(&|p| Some(p.desired)), palette::BLACK, true, "desired"),
            ],
            None,
        )?;
        self.panel(
            &panels[2],
            "latency [s]",
            true,
            &[
                Series::new(
                    at(&|p| p.latency_p99_s),
                    palette::VERMILLION,
                    false,
                    "p99 of requests completed in the window",
                ),
                Series::new(at(&|p| p.latency_p50_s), palette::BLUE, false, "p50"),
            ],
            None,
        )?;
        Ok(())
    }
}
