//! `regions.csv`: requests per region in each timeline window, for a run with regions. One
//! row per window and region (long format, so any number of regions fits one header).

use crate::metrics::RegionWindows;

/// The header of `regions.csv`, in column order.
pub const REGIONS_COLUMNS: &[&str] =
    &["start_s", "end_s", "region", "tries", "completed", "failed"];

/// The file's bytes.
pub fn regions_csv(w: &RegionWindows) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut out = REGIONS_COLUMNS.join(",");
    out.push('\n');
    let n = w.regions.len();
    for (i, c) in w.counts.iter().enumerate() {
        let window = (i / n) as f64;
        let start = window * w.window_seconds;
        let end = (start + w.window_seconds).min(w.duration_seconds);
        // A text cell: neutralised against formulas (`csv_cell`).
        let region = super::csv_cell::text(&w.regions[i % n]);
        // Shortest representations that read back exactly, as in timeline.csv.
        let _ = writeln!(out, "{start},{end},{region},{},{},{}", c[0], c[1], c[2]);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_window_and_region_with_a_short_last_window() {
        let w = RegionWindows {
            window_seconds: 10.0,
            duration_seconds: 15.0,
            regions: vec!["a".into(), "b".into()],
            counts: vec![[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]],
        };
        let text = String::from_utf8(regions_csv(&w)).unwrap();
        assert_eq!(
            text,
            "start_s,end_s,region,tries,completed,failed\n\
             0,10,a,1,2,3\n0,10,b,4,5,6\n10,15,a,7,8,9\n10,15,b,0,0,0\n"
        );
    }

    #[test]
    fn a_region_named_like_a_formula_is_neutralised() {
        let w = RegionWindows {
            window_seconds: 10.0,
            duration_seconds: 10.0,
            regions: vec!["-eu".into()],
            counts: vec![[1, 2, 3]],
        };
        let text = String::from_utf8(regions_csv(&w)).unwrap();
        assert_eq!(text.lines().nth(1).unwrap(), "0,10,'-eu,1,2,3");
    }
}
