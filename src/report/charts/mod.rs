//! Charts of a result folder, each drawn once as SVG (inlined in `report.html`) and once as PNG
//! (for a pull request or a slide), from the same drawing code.
//!
//! Each chart is a [`Figure`]: its size and a `draw` generic over plotters' backend, so the SVG
//! and the PNG are the same picture. Drawing only: the data comes in read
//! ([`super::timeline_points`], [`super::results_dir`]), the bytes go out to
//! `super::review`, which writes them. Text uses the bundled font ([`font`]); in the PNG it is
//! drawn by [`raster`], which places it as a browser places the SVG's.
//!
//! Output is deterministic: plotters emits elements in drawing order, numbers are formatted by
//! Rust, and the PNG encoder writes no time stamp.

pub mod cost;
pub mod font;
pub mod instances;
pub mod latency;
pub mod raster;
pub mod style;
pub mod timeline;
pub mod tradeoff;

use std::io;

use plotters::coord::Shift;
use plotters::prelude::*;

/// What drawing on a backend `DB` returns.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart: a size and a picture.
pub trait Figure {
    /// Width and height \[px\].
    fn size(&self) -> (u32, u32);

    /// Draws the chart on `root` (white, `size()` pixels).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// A chart drawn both ways.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The SVG document.
    pub svg: String,
    /// The PNG file.
    pub png: Vec<u8>,
}

fn drawing_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

/// Draws `figure` as SVG and as PNG (8-bit RGB).
pub fn render(figure: &impl Figure) -> io::Result<Rendered> {
    font::register()?;
    let (w, h) = figure.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        figure.draw(&root).map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
    }
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root =
            raster::Crisp(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        figure.draw(&root).map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
    }
    Ok(Rendered {
        svg,
        png: encode_png(&pixels, (w, h))?,
    })
}

/// PNG bytes of an RGB image: no metadata (so no time stamp), fixed compression settings.
fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer.write_image_data(rgb).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)?;
    Ok(out)
}

/// `[lo, hi]` widened so that a flat series still gets an axis: by 10 % of the value, or by 1
/// around 0; and with 8 % headroom above.
pub fn padded_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        (lo - lo.abs() * 0.1, hi + hi.abs() * 0.1)
    };
    (lo, hi + (hi - lo) * 0.08)
}
