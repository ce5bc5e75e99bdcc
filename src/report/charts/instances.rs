//! One run's instances by lifecycle state over time, stacked (in service at the bottom, then
//! the states on the way in, draining, and the warm pool on top), with the desired capacity as
//! a dashed line: where the stack's lower bands lag the line is the time capacity takes to come.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, palette, Mark, TimeUnit};
use super::{padded_range, DrawResult, Figure};
use crate::report::timeline_points::{Timeline, STATES};

/// Colour of each of [`STATES`].
const COLORS: [RGBColor; 6] = [
    palette::GREEN,
    palette::ORANGE,
    palette::YELLOW,
    palette::GREY,
    palette::PURPLE,
    palette::SKY_BLUE,
];

/// The lifecycle chart of one run.
pub struct InstancesChart<'a> {
    /// Chart title.
    pub title: String,
    /// What the chart holds (scenario, seed).
    pub context: String,
    /// The run's timeline.
    pub timeline: &'a Timeline,
    /// Simulated time \[s\] (the axis's end).
    pub simulated_seconds: f64,
}

impl Figure for InstancesChart<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let merged = if self.timeline.windows_per_point > 1 {
            format!(
                ", each point the mean of {} windows",
                self.timeline.windows_per_point
            )
        } else {
            String::new()
        };
        let body = style::titled(
            root,
            &self.title,
            &format!(
                "{}; time-average instances per window, all pools, stacked{merged}.",
                self.context
            ),
        )?;
        let (w, _) = body.dim_in_pixel();
        let mut items: Vec<(Mark, String)> = STATES
            .iter()
            .zip(COLORS)
            .map(|(name, c)| (Mark::Fill(c.mix(0.85)), name.to_string()))
            .collect();
        items.push((Mark::Dashed(palette::BLACK), "desired capacity".into()));
        let legend_h = style::legend(&body, (106, 4), w as i32 - 20, &items)?;

        let unit = TimeUnit::for_run(self.simulated_seconds);
        let points = &self.timeline.points;
        // Cumulative tops of each band, per point.
        let tops: Vec<[f64; 6]> = points
            .iter()
            .map(|p| {
                let mut acc = 0.0;
                p.states.map(|v| {
                    acc += v;
                    acc
                })
            })
            .collect();
        let y_max = tops
            .iter()
            .map(|t| t[5])
            .chain(points.iter().map(|p| p.desired))
            .fold(0.0, f64::max);
        let (_, y_hi) = padded_range(0.0, y_max);
        let mut chart = ChartBuilder::on(&body)
            .margin_top(legend_h + 6)
            .margin_left(14)
            .margin_right(28)
            .x_label_area_size(58)
            .y_label_area_size(96)
            .build_cartesian_2d(0.0..self.simulated_seconds / unit.seconds, 0.0..y_hi)?;
        chart
            .configure_mesh()
            .light_line_style(style::GRID.mix(0.4))
            .max_light_lines(4)
            .bold_line_style(style::GRID)
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&|v| style::number(*v))
            .y_label_formatter(&|v| style::number(*v))
            .x_desc(format!("simulated time [{}]", unit.name))
            .y_desc("instances")
            .label_style(style::text(style::TICK))
            .axis_desc_style(style::text(style::AXIS))
            .draw()?;
        // Steps: each point holds its level over [start, end).
        let step = |value: &dyn Fn(usize) -> f64| -> Vec<(f64, f64)> {
            points
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    [
                        (p.start_s / unit.seconds, value(i)),
                        (p.end_s / unit.seconds, value(i)),
                    ]
                })
                .collect()
        };
        for (band, color) in COLORS.iter().enumerate() {
            if points.iter().all(|p| p.states[band] == 0.0) {
                continue;
            }
            let upper = step(&|i| tops[i][band]);
            let lower = step(&|i| if band == 0 { 0.0 } else { tops[i][band - 1] });
            let outline: Vec<(f64, f64)> = upper
                .iter()
                .copied()
                .chain(lower.into_iter().rev())
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                color.mix(0.85).filled(),
            )))?;
        }
        chart.draw_series(DashedLineSeries::new(
            step(&|i| points[i].desired),
            8,
            6,
            palette::BLACK.stroke_width(2),
        ))?;
        Ok(())
    }
}
