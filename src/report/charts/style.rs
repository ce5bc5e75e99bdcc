//! What every chart shares: colours, text sizes, number formats, the time axis's unit, the
//! title block and the legend. One look for all charts, defined once.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FAMILY;
use super::DrawResult;

/// Okabe and Ito's colour-blind-safe palette (<https://jfly.uni-koeln.de/color/>).
pub mod palette {
    use plotters::style::RGBColor;

    /// Black.
    pub const BLACK: RGBColor = RGBColor(0, 0, 0);
    /// Orange.
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    /// Sky blue.
    pub const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
    /// Bluish green.
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    /// Yellow.
    pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
    /// Blue.
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    /// Vermillion.
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    /// Reddish purple.
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    /// Grey, for things drawn for reference.
    pub const GREY: RGBColor = RGBColor(153, 153, 153);
    /// Colours for a list of series (pools), in order; repeats past its length.
    pub const SERIES: [RGBColor; 7] = [BLUE, ORANGE, GREEN, PURPLE, SKY_BLUE, VERMILLION, YELLOW];
}

/// Text sizes \[px\]: (plotters sizes; an SVG gets them ÷ 1.24 as its `font-size`).
pub const TITLE: f64 = 24.0;
/// Subtitle (what the chart shows, how points were merged).
pub const SUBTITLE: f64 = 15.0;
/// Axis descriptions.
pub const AXIS: f64 = 16.0;
/// Tick labels, legends and point labels.
pub const TICK: f64 = 15.0;

/// Light grid lines.
pub const GRID: RGBColor = RGBColor(225, 225, 225);
/// Text colour.
pub const TEXT: RGBColor = RGBColor(30, 30, 30);
/// Shading of spans where the load spiked.
pub fn spike_fill() -> RGBAColor {
    palette::ORANGE.mix(0.2)
}

/// The text style of `size` px.
pub fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(&TEXT)
}

/// Height of a title block with a one-line subtitle \[px\]; each further line adds
/// [`SUBTITLE_LINE`].
pub const TITLE_HEIGHT: i32 = 64;

/// Height of a subtitle line \[px\].
pub const SUBTITLE_LINE: i32 = 20;

/// Draws a title and a subtitle (wrapped at spaces to the width) at the top of `root`, and
/// returns the area below them.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = root.dim_in_pixel();
    let sub = text(SUBTITLE).color(&RGBColor(80, 80, 80));
    let mut lines: Vec<String> = vec![String::new()];
    for word in subtitle.split(' ') {
        let last = lines.last_mut().expect("never empty");
        let candidate = if last.is_empty() {
            word.to_string()
        } else {
            format!("{last} {word}")
        };
        if !last.is_empty() && root.estimate_text_size(&candidate, &sub)?.0 as i32 > w as i32 - 32 {
            lines.push(word.to_string());
        } else {
            *last = candidate;
        }
    }
    root.draw(&Text::new(title.to_string(), (16, 10), text(TITLE)))?;
    for (i, line) in lines.iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (16, 40 + SUBTITLE_LINE * i as i32),
            sub.clone(),
        ))?;
    }
    let height = TITLE_HEIGHT + SUBTITLE_LINE * (lines.len() as i32 - 1);
    Ok(root.split_vertically(height).1)
}

/// A number for a tick or a label: at most 3 significant digits, `k`/`M` past 10,000, no
/// trailing zeros (`0`, `0.25`, `12.5`, `950`, `4,000`, `25k`, `1.5M`).
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        return format!("{}M", trim(v / 1e6, 2));
    }
    if a >= 1e4 {
        return format!("{}k", trim(v / 1e3, 1));
    }
    if a >= 1000.0 {
        let n = v.round() as i64;
        return format!(
            "{}{},{:03}",
            if n < 0 { "-" } else { "" },
            n.abs() / 1000,
            n.abs() % 1000
        );
    }
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    trim(v, decimals)
}

/// A duration for people: seconds below 2 minutes, minutes below 2 hours, else hours
/// (`45 s`, `30 min`, `72 h`).
pub fn duration(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{} s", number(seconds))
    } else if seconds < 7200.0 {
        format!("{} min", number(seconds / 60.0))
    } else {
        format!("{} h", number(seconds / 3600.0))
    }
}

/// `v` with at most `decimals` decimals, trailing zeros removed; never `-0`.
fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// The unit of a time axis: minutes for runs up to 3 hours, hours beyond.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeUnit {
    /// Seconds per unit.
    pub seconds: f64,
    /// Its name in an axis description.
    pub name: &'static str,
}

impl TimeUnit {
    /// The unit for a run of `seconds`.
    pub fn for_run(seconds: f64) -> TimeUnit {
        if seconds <= 3.0 * 3600.0 {
            TimeUnit {
                seconds: 60.0,
                name: "min",
            }
        } else {
            TimeUnit {
                seconds: 3600.0,
                name: "h",
            }
        }
    }
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// A line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A filled box.
    Fill(RGBAColor),
    /// A marker.
    Marker(Shape, RGBColor),
}

/// A marker's shape: each percentile gets its own, so the chart reads without colour too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A filled circle.
    Circle,
    /// A filled triangle, point up.
    Triangle,
    /// A filled square.
    Square,
    /// A filled diamond.
    Diamond,
}

/// Draws a marker of `shape` centred on pixel `(x, y)` of `area`.
pub fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    shape: Shape,
    color: RGBColor,
) -> DrawResult<DB> {
    let style = color.filled();
    match shape {
        Shape::Circle => area.draw(&Circle::new((x, y), 6, style)),
        Shape::Triangle => area.draw(&Polygon::new(
            vec![(x, y - 7), (x + 7, y + 5), (x - 7, y + 5)],
            style,
        )),
        Shape::Square => area.draw(&Rectangle::new([(x - 5, y - 5), (x + 5, y + 5)], style)),
        Shape::Diamond => area.draw(&Polygon::new(
            vec![(x, y - 7), (x + 7, y), (x, y + 7), (x - 7, y)],
            style,
        )),
    }
}

/// Draws each `(y, label)` right-aligned so that it ends at pixel column `right` of `area`: the
/// names of a chart's rows, drawn by hand so that every row gets its name.
pub fn row_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    right: i32,
    rows: &[(i32, String)],
) -> DrawResult<DB> {
    let style = text(TICK).pos(Pos::new(HPos::Right, VPos::Center));
    for (y, label) in rows {
        area.draw(&Text::new(label.clone(), (right, *y), style.clone()))?;
    }
    Ok(())
}

/// The width \[px\] of the widest of `labels` in tick-label text.
pub fn widest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: impl IntoIterator<Item = String>,
) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
    let style = text(TICK);
    let mut max = 0;
    for l in labels {
        max = max.max(area.estimate_text_size(&l, &style)?.0 as i32);
    }
    Ok(max)
}

/// One row height of a legend \[px\].
pub const LEGEND_ROW: i32 = 24;

/// Draws `items` left to right from `(x, y)` in `area`, wrapping before `max_x`; returns the
/// height used. Legends are drawn outside plots so that they never hide data.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    max_x: i32,
    items: &[(Mark, String)],
) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
    let style = text(TICK);
    let (mut cx, mut cy) = (x, y);
    for (mark, label) in items {
        let (w, _) = area.estimate_text_size(label, &style)?;
        let width = 30 + w as i32 + 22;
        if cx > x && cx + width > max_x {
            cx = x;
            cy += LEGEND_ROW;
        }
        let mid = cy + 9;
        match *mark {
            Mark::Line(c) => area.draw(&PathElement::new(
                vec![(cx, mid), (cx + 24, mid)],
                c.stroke_width(3),
            ))?,
            Mark::Dashed(c) => {
                for dx in [0, 10, 20] {
                    area.draw(&PathElement::new(
                        vec![(cx + dx, mid), (cx + dx + 5, mid)],
                        c.stroke_width(3),
                    ))?;
                }
            }
            Mark::Fill(c) => {
                area.draw(&Rectangle::new(
                    [(cx, mid - 7), (cx + 24, mid + 7)],
                    c.filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(cx, mid - 7), (cx + 24, mid + 7)],
                    palette::GREY.stroke_width(1),
                ))?
            }
            Mark::Marker(shape, c) => marker(area, (cx + 12, mid), shape, c)?,
        }
        area.draw(&Text::new(
            label.clone(),
            (cx + 30, mid),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        cx += width;
    }
    Ok(cy - y + LEGEND_ROW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact_enough() {
        let cases = [
            (0.0, "0"),
            (-0.0001, "0"),
            (0.25, "0.25"),
            (0.1234, "0.123"),
            (2.5, "2.5"),
            (12.26, "12.3"),
            (950.0, "950"),
            (4000.0, "4,000"),
            (-1234.4, "-1,234"),
            (25_000.0, "25k"),
            (12_345.0, "12.3k"),
            (1_500_000.0, "1.5M"),
        ];
        for (v, s) in cases {
            assert_eq!(number(v), s, "{v}");
        }
    }

    #[test]
    fn durations_read_in_their_natural_unit() {
        assert_eq!(duration(60.0), "60 s");
        assert_eq!(duration(1800.0), "30 min");
        assert_eq!(duration(72.0 * 3600.0), "72 h");
    }

    #[test]
    fn time_axis_is_in_minutes_up_to_three_hours() {
        assert_eq!(TimeUnit::for_run(3.0 * 3600.0).name, "min");
        assert_eq!(TimeUnit::for_run(3.0 * 3600.0 + 1.0).name, "h");
    }
}
