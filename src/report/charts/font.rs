//! The one font every chart uses: DejaVu Sans, compiled into the program
//! (`assets/fonts/README.md` says where it comes from, `LICENSE-DejaVu.txt` its licence).
//!
//! plotters' default text path (`ttf`) asks the system for fonts through fontconfig, so a chart's
//! text would depend on the machine (or fail where none is installed, as in a slim container).
//! With `ab_glyph` and a registered font, text is measured and rasterized from these bytes only:
//! the same layout and the same PNG bytes everywhere. SVG charts name the family `sans-serif`, so
//! a browser draws them with its own sans-serif face, laid out with DejaVu's (wide) metrics.

use std::io;
use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// DejaVu Sans 2.37.
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The family name charts ask for; the bundled font is registered under it.
pub const FAMILY: &str = "sans-serif";

/// The bundled font file's bytes (DejaVu Sans 2.37).
pub fn dejavu_sans() -> &'static [u8] {
    DEJAVU_SANS
}

/// Registers the bundled font with plotters, once per process. Charts call it before drawing.
pub fn register() -> io::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(io::Error::other(
            "the bundled DejaVu Sans font did not load (assets/fonts/DejaVuSans.ttf)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_registers_and_measures_text() {
        register().unwrap();
        let font = plotters::style::FontDesc::new(FAMILY.into(), 20.0, FontStyle::Normal);
        let (wide, _) = font.box_size("WWWW").unwrap();
        let (narrow, _) = font.box_size("iiii").unwrap();
        assert!(
            wide > 2 * narrow,
            "W {wide} px vs i {narrow} px: not a proportional font?"
        );
    }
}
