//! `fleetsim catalog --models` and `--gpus`: the model and GPU catalogs (`model/llm`) as text
//! tables, in file order.

use std::fmt::Write as _;

use crate::model::llm::gpus::{gpus, interconnect_name, CatalogGpu};
use crate::model::llm::models::{models, CatalogModel};

/// Every model of the catalog, one row each: name, Hugging Face id, parameters (total and
/// active, in billions), layers, KV-cache bytes per token and the weights' size.
pub fn models_text() -> String {
    models_table(models())
}

/// Every GPU of the catalog, one row each: memory, bandwidth, dense FP16 and FP8 throughput
/// and the link between a server's GPUs.
pub fn gpus_text() -> String {
    gpus_table(gpus())
}

/// `entries` as [`models_text`] prints them.
pub fn models_table(entries: &[CatalogModel]) -> String {
    let header = [
        "name",
        "hf id",
        "params B",
        "active B",
        "layers",
        "KV B/token",
        "weights GB",
    ];
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|m| {
            vec![
                m.arch.name.clone(),
                m.hf_id.clone(),
                format!("{:.2}", m.arch.params_total as f64 / 1e9),
                format!("{:.2}", m.arch.params_active as f64 / 1e9),
                m.arch.layers.to_string(),
                m.arch.kv_bytes_per_token().to_string(),
                format!("{:.1}", m.weight_bytes() as f64 / 1e9),
            ]
        })
        .collect();
    let mut out = aligned(&header, &rows, 2);
    let _ = writeln!(
        out,
        "{} models; architecture from each model's config.json (scenarios/data/PROVENANCE.md). \
         KV B/token: keys and values of all layers, all GPUs together; weights at the \
         model's dtype (gpt-oss's experts MXFP4).",
        entries.len()
    );
    out
}

/// `entries` as [`gpus_text`] prints them.
pub fn gpus_table(entries: &[CatalogGpu]) -> String {
    let header = [
        "name",
        "memory GiB",
        "GB/s",
        "FP16 TFLOPS",
        "FP8 TFLOPS",
        "link",
        "link GB/s",
    ];
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|g| {
            let mark = if g.sparse_halved { "*" } else { "" };
            vec![
                g.gpu.name.clone(),
                (g.gpu.memory_bytes >> 30).to_string(),
                figure(g.gpu.memory_bandwidth / 1e9),
                format!("{}{mark}", figure(g.gpu.fp16_flops / 1e12)),
                g.gpu
                    .fp8_flops
                    .map_or("-".into(), |f| format!("{}{mark}", figure(f / 1e12))),
                interconnect_name(g.gpu.interconnect).to_string(),
                figure(g.gpu.link_bandwidth / 1e9),
            ]
        })
        .collect();
    let mut out = aligned(&header, &rows, 1);
    let _ = writeln!(
        out,
        "{} GPUs; datasheet figures (scenarios/data/PROVENANCE.md). TFLOPS dense, without \
         sparsity; * halved from the datasheet's sparse figure. link GB/s: one direction, per \
         GPU.",
        entries.len()
    );
    out
}

/// A datasheet figure as the datasheet writes it: at most two decimals, no trailing zeros
/// (`3350`, `989.4`, `362.05`), whatever the unit conversion left in the last bits.
fn figure(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An aligned table: the first `text_columns` columns left, numbers right, two spaces apart.
fn aligned(header: &[&str], rows: &[Vec<String>], text_columns: usize) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, (c, w)) in cells.zip(&widths).enumerate() {
            let _ = if i < text_columns {
                write!(out, "{c:<w$}")
            } else {
                write!(out, "{c:>w$}")
            };
            out.push_str(if i + 1 < widths.len() { "  " } else { "\n" });
        }
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_table_has_a_row_per_model_in_file_order() {
        let text = models_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), models().len() + 2, "{text}");
        assert!(lines[0].starts_with("name "), "{text}");
        assert!(lines[1].starts_with("llama-3.1-8b "), "{text}");
        let l70 = lines
            .iter()
            .find(|l| l.starts_with("llama-3.1-70b "))
            .unwrap();
        let cells: Vec<&str> = l70.split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "llama-3.1-70b",
                "meta-llama/Llama-3.1-70B",
                "70.55",
                "70.55",
                "80",
                "327680",
                "141.1"
            ]
        );
        let moe: Vec<&str> = lines
            .iter()
            .find(|l| l.starts_with("qwen3-30b-a3b "))
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(&moe[2..4], ["30.53", "3.35"], "total and active");
        assert!(lines.iter().all(|l| !l.ends_with(' ')), "{text}");
        assert_eq!(lines[0].len(), lines[1].len(), "aligned:\n{text}");
        assert!(lines.last().unwrap().starts_with("9 models;"));
    }

    #[test]
    fn the_gpu_table_marks_halved_figures_and_shows_one_link_direction() {
        let text = gpus_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), gpus().len() + 2, "{text}");
        let row = |name: &str| -> Vec<String> {
            lines
                .iter()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name}:\n{text}"))
                .split_whitespace()
                .map(String::from)
                .collect()
        };
        assert_eq!(
            row("H100"),
            ["H100", "80", "3350", "989.4*", "1978.9*", "nvlink", "450"]
        );
        assert_eq!(row("T4"), ["T4", "16", "320", "65", "-", "pcie", "16"]);
        assert_eq!(
            row("L40S")[3],
            "362.05",
            "dense on the datasheet: not marked"
        );
        assert_eq!(lines[0].len(), lines[1].len(), "aligned:\n{text}");
    }
}
