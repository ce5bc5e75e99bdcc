//! The PNG backend: plotters' bitmap backend, with text drawn as the SVG's is.
//!
//! plotters 0.3.7 rasterizes `ab_glyph` text glyph by glyph at whole pixels: each glyph's
//! advance and its vertical offset are truncated toward zero, so at 15 px a period sits a pixel
//! or two above the baseline (`84.7` reads `84·7`) and spacing is uneven. [`Crisp`] wraps
//! [`BitMapBackend`] and draws text itself: one baseline for the whole string, advances and
//! kerning kept fractional, glyph coverage blended as alpha. It places text as plotters' SVG
//! backend asks a browser to (`font-size` = size ÷ 1.24, `dy` of 0.76 em for top-anchored text,
//! ±0.5 ex for centred and bottom), so PNG and SVG look alike. Everything else, including the
//! text measurements that lay the charts out, is the bitmap backend's.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use super::font::dejavu_sans;

/// The bundled font, parsed once.
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(dejavu_sans()).ok())
        .as_ref()
}

/// [`BitMapBackend`] with better text (module doc).
pub struct Crisp<'a>(pub BitMapBackend<'a>);

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for Crisp<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), Error<'a>> {
        // The same measure as the SVG backend's, so both drawings share one layout.
        self.0.estimate_text_size(text, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        let Some(font) = font() else {
            // Not reached (the font is checked at registration); plotters' drawing then.
            return self.0.draw_text(text, style, pos);
        };
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        // The SVG's font-size is plotters' size / 1.24: that many pixels per em.
        let em = (style.size() / 1.24) as f32;
        let units_per_em = font.units_per_em().unwrap_or(2048.0);
        let scale = PxScale::from(em * font.height_unscaled() / units_per_em);
        let scaled = font.as_scaled(scale);
        let ids: Vec<_> = text.chars().map(|c| font.glyph_id(c)).collect();
        let mut carets = Vec::with_capacity(ids.len());
        let mut caret = 0.0f32;
        for (i, &id) in ids.iter().enumerate() {
            if i > 0 {
                caret += scaled.kern(ids[i - 1], id);
            }
            carets.push(caret);
            caret += scaled.h_advance(id);
        }
        let x0 = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -caret / 2.0,
            HPos::Right => -caret,
        };
        let x_height = font
            .outline_glyph(font.glyph_id('x').with_scale(scale))
            .map_or(em * 0.5, |g| -g.px_bounds().min.y);
        let baseline = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.5 * x_height,
            VPos::Bottom => -0.5 * x_height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        for (&id, &x) in ids.iter().zip(&carets) {
            let glyph = id.with_scale_and_position(scale, point(x0 + x, baseline));
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|gx, gy, coverage| {
                if coverage > 0.0 {
                    pixels.push((
                        bounds.min.x as i32 + gx as i32,
                        bounds.min.y as i32 + gy as i32,
                        coverage,
                    ));
                }
            });
            for (lx, ly, coverage) in pixels {
                let (dx, dy) = transform.transform(lx, ly);
                let (px, py) = (pos.0 + dx, pos.1 + dy);
                if px >= 0 && py >= 0 && px < w as i32 && py < h as i32 {
                    let alpha = color.alpha * f64::from(coverage.min(1.0));
                    self.0.draw_pixel(
                        (px, py),
                        BackendColor {
                            alpha,
                            rgb: color.rgb,
                        },
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::{font, style};

    /// The lowest row holding a dark pixel in columns `[x0, x1)` of an RGB image `w` wide.
    fn lowest_ink(pixels: &[u8], w: usize, (x0, x1): (usize, usize)) -> Option<usize> {
        (0..pixels.len() / 3 / w)
            .rev()
            .find(|&y| (x0..x1).any(|x| pixels[(y * w + x) * 3] < 128))
    }

    #[test]
    fn a_period_sits_on_the_baseline_at_tick_size() {
        font::register().unwrap();
        let (w, h) = (80usize, 40usize);
        let mut pixels = vec![255u8; w * h * 3];
        {
            let root = Crisp(BitMapBackend::with_buffer(
                &mut pixels,
                (w as u32, h as u32),
            ))
            .into_drawing_area();
            root.draw(&Text::new("x.", (10, 10), style::text(style::TICK)))
                .unwrap();
            root.present().unwrap();
        }
        // "x" is about 7 px wide at 15 px: its columns, then the period's.
        let x = lowest_ink(&pixels, w, (10, 16)).expect("an x was drawn");
        let period = lowest_ink(&pixels, w, (18, 24)).expect("a period was drawn");
        assert_eq!(period, x, "the period's foot is not on the x's baseline");
    }
}
