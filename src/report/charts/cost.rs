//! Cost per run, one horizontal bar each (the base on top), split into one segment per pool
//! (then load balancers and data transfer); a thin bar under it splits the instances' cost into
//! on-demand and spot.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, palette, Mark};
use super::{DrawResult, Figure};
use crate::report::RunSummary;

/// Row height \[px\].
const ROW: i32 = 40;

/// The cost chart of the runs.
pub struct CostChart<'a> {
    /// Chart title.
    pub title: String,
    /// What the chart holds.
    pub context: String,
    /// The runs, base first.
    pub runs: &'a [RunSummary<'a>],
}

impl CostChart<'_> {
    /// Every pool of every run, sorted by name, with its instance type (the first run's that
    /// has it).
    fn pools(&self) -> Vec<(String, String)> {
        let mut pools = BTreeMap::new();
        for (_, s) in self.runs {
            for name in s.cost_usd.by_pool.keys() {
                let kind = s
                    .instances
                    .by_pool
                    .get(name)
                    .map(|p| p.instance_type.clone())
                    .unwrap_or_default();
                pools.entry(name.clone()).or_insert(kind);
            }
        }
        pools.into_iter().collect()
    }
}

impl Figure for CostChart<'_> {
    fn size(&self) -> (u32, u32) {
        (
            1100,
            (style::TITLE_HEIGHT + 70 + 80 + ROW * self.runs.len() as i32) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::titled(
            root,
            &self.title,
            &format!(
                "{}; one segment per pool, then balancers and transfer; the thin bar: on-demand vs spot.",
                self.context
            ),
        )?;
        let (w, _) = body.dim_in_pixel();
        let names: Vec<String> = self.runs.iter().map(|(n, _)| n.to_string()).collect();
        let label_w = style::widest(&body, names.iter().cloned())? + 24;
        let pools = self.pools();
        let color = |i: usize| palette::SERIES[i % palette::SERIES.len()];
        let items: Vec<(Mark, String)> = pools
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| {
                let label = if kind.is_empty() {
                    format!("pool {name}")
                } else {
                    format!("pool {name} ({kind})")
                };
                (Mark::Fill(color(i).mix(0.9)), label)
            })
            .chain([
                (
                    Mark::Fill(palette::GREY.mix(0.9)),
                    "balancers + transfer".to_string(),
                ),
                (
                    Mark::Fill(palette::BLACK.mix(0.55)),
                    "on-demand".to_string(),
                ),
                (Mark::Fill(palette::VERMILLION.mix(0.9)), "spot".to_string()),
            ])
            .collect();
        let legend_h = style::legend(&body, (label_w + 10, 4), w as i32 - 20, &items)?;

        let max = self
            .runs
            .iter()
            .map(|(_, s)| s.cost_usd.total)
            .fold(0.0, f64::max);
        // Room on the right for the total's label.
        let x_hi = if max > 0.0 { max * 1.18 } else { 1.0 };
        let n = self.runs.len();
        let mut chart = ChartBuilder::on(&body)
            .margin_top(legend_h + 6)
            .margin_left(14)
            .margin_right(28)
            .x_label_area_size(58)
            .y_label_area_size(label_w)
            .build_cartesian_2d(0.0..x_hi, 0.0..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(style::GRID.mix(0.4))
            .max_light_lines(4)
            .bold_line_style(style::GRID)
            .x_labels(10)
            .x_label_formatter(&|v| style::number(*v))
            .x_desc("cost of the run [USD]")
            .label_style(style::text(style::TICK))
            .axis_desc_style(style::text(style::AXIS))
            .draw()?;
        let mut labels = Vec::with_capacity(n);
        for (i, (name, summary)) in self.runs.iter().enumerate() {
            let y = n as f64 - i as f64 - 0.5;
            labels.push((chart.backend_coord(&(0.0, y)).1, name.to_string()));
            let mut x = 0.0;
            for (p, (pool, _)) in pools.iter().enumerate() {
                let c = summary.cost_usd.by_pool.get(pool).copied().unwrap_or(0.0);
                if c <= 0.0 {
                    continue;
                }
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y - 0.32), (x + c, y + 0.32)],
                    color(p).mix(0.9).filled(),
                )))?;
                x += c;
            }
            let other = summary.cost_usd.load_balancers + summary.cost_usd.data_transfer;
            if other > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y - 0.32), (x + other, y + 0.32)],
                    palette::GREY.mix(0.9).filled(),
                )))?;
            }
            // The instances' cost by purchase option, under the bar.
            let p = summary.cost_usd.by_purchase_option;
            let mut x = 0.0;
            for (c, fill) in [
                (p.on_demand, palette::BLACK.mix(0.55)),
                (p.spot, palette::VERMILLION.mix(0.9)),
            ] {
                if c > 0.0 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x, y - 0.46), (x + c, y - 0.36)],
                        fill.filled(),
                    )))?;
                    x += c;
                }
            }
            let (px, py) = chart.backend_coord(&(summary.cost_usd.total, y));
            root.draw(&Text::new(
                format!("${:.2}", summary.cost_usd.total),
                (px + 8, py),
                style::text(style::TICK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let left = chart.backend_coord(&(0.0, 0.0)).0;
        style::row_labels(root, left - 10, &labels)?;
        Ok(())
    }
}
