//! The model catalog: transformers by name, their architecture copied from each model's
//! published `config.json`.
//!
//! The table is `scenarios/data/catalog/models.toml` (sources, licences and what was derived:
//! `scenarios/data/PROVENANCE.md`), embedded in the binary and parsed once, on first use. A
//! scenario names a model (`model = "llama-3.1-70b"`, or its Hugging Face id
//! `meta-llama/Llama-3.1-70B`) and gets its [`ModelArch`].
//!
//! It must not know about scenarios, GPUs or the engine: it is a read-only table.

use std::sync::OnceLock;

use toml_span::value::Value;
use toml_span::{DeserError, Deserialize};

use super::arch::ModelArch;
use super::catalog_file::{entries, invalid, table, CatalogFileError, Number};

/// The embedded catalog text.
pub const MODELS_TOML: &str = include_str!("../../../scenarios/data/catalog/models.toml");

const FILE: &str = "scenarios/data/catalog/models.toml";

/// A model family: the layout of its layers beyond the fields every decoder shares, which the
/// parameter count follows (the `arch` key of `models.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Llama (and Mistral): SwiGLU MLP, no biases.
    Llama,
    /// Mixtral: Llama's layers with a mixture of SwiGLU experts.
    Mixtral,
    /// Qwen3: Llama's layers plus an RMSNorm over each query and key head.
    Qwen3,
    /// Qwen3-MoE: Qwen3 with a mixture of experts in every layer.
    Qwen3Moe,
    /// gpt-oss: biases on attention and experts, one attention sink per head.
    GptOss,
}

impl Family {
    /// The names `models.toml` uses, in the order of [`Family::ALL`].
    pub const NAMES: [&'static str; 5] = ["llama", "mixtral", "qwen3", "qwen3_moe", "gpt_oss"];
    /// Every family.
    pub const ALL: [Family; 5] = [
        Family::Llama,
        Family::Mixtral,
        Family::Qwen3,
        Family::Qwen3Moe,
        Family::GptOss,
    ];

    /// The family named `name`.
    pub fn parse(name: &str) -> Option<Family> {
        Family::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Family::ALL[i])
    }
}

/// A mixture of experts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moe {
    /// Experts per layer (`num_local_experts`, `num_experts`).
    pub experts: u32,
    /// Experts each token runs through (`num_experts_per_tok`).
    pub experts_per_token: u32,
    /// One expert's MLP width (`moe_intermediate_size`, or `intermediate_size` for Mixtral
    /// and gpt-oss).
    pub intermediate_size: u32,
}

/// One model of the catalog: its architecture and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogModel {
    /// The architecture, named by the catalog name.
    pub arch: ModelArch,
    /// The Hugging Face repository (`meta-llama/Llama-3.1-70B`).
    pub hf_id: String,
    /// The layers' layout.
    pub family: Family,
    /// The dense MLP's width (`intermediate_size`).
    pub intermediate_size: u32,
    /// The mixture of experts, for a sparse model.
    pub moe: Option<Moe>,
    /// Bits per expert weight when the experts are stored quantized (gpt-oss: MXFP4, 4.25
    /// bits with the shared scales); the other weights take `dtype_bytes`.
    pub expert_weight_bits: Option<f64>,
    /// Tokens of KV kept by the sliding-window layers (gpt-oss: half its layers keep 128).
    pub sliding_window: Option<u32>,
    /// The longest context (`max_position_embeddings`).
    pub max_position_embeddings: u32,
    /// The publisher's own parameter figure, as text, to compare with ours.
    pub published_parameters: String,
    /// The `config.json` the numbers come from.
    pub source: String,
    /// A pinned copy of the same file that was read, where one was found.
    pub mirror: Option<String>,
    /// The model's licence.
    pub licence: String,
}

impl CatalogModel {
    /// The weights' bytes, all GPUs together: every parameter at `dtype_bytes`, except the
    /// experts' matrices of a model that stores them quantized ([`Self::expert_weight_bits`]).
    /// For gpt-oss-20b this is 13.8 GB where [`ModelArch::weight_bytes`] (all at bf16) says
    /// 41.8 GB.
    pub fn weight_bytes(&self) -> u64 {
        let (Some(bits), Some(moe)) = (self.expert_weight_bits, self.moe) else {
            return self.arch.weight_bytes();
        };
        let expert_params = u64::from(self.arch.layers)
            * u64::from(moe.experts)
            * 3
            * u64::from(self.arch.hidden)
            * u64::from(moe.intermediate_size);
        let other = self.arch.params_total.saturating_sub(expert_params);
        let experts = (expert_params as f64 * bits / 8.0).round() as u64;
        other * u64::from(self.arch.dtype_bytes) + experts
    }
}

/// Parses catalog text (the embedded one, or a test's), checking every entry.
pub fn parse_models(text: &str) -> Result<Vec<CatalogModel>, CatalogFileError> {
    let raw = entries::<RawModel>(FILE, text, "model")?;
    let mut out: Vec<CatalogModel> = Vec::with_capacity(raw.len());
    for entry in raw {
        let err = |message: String| invalid(FILE, text, entry.span, message);
        let model = entry
            .value
            .check()
            .map_err(|m| err(format!("{}: {m}", entry.value.name)))?;
        let clash = out.iter().find(|m| {
            m.arch.name.eq_ignore_ascii_case(&model.arch.name)
                || m.hf_id.eq_ignore_ascii_case(&model.hf_id)
        });
        if let Some(other) = clash {
            return Err(err(format!(
                "{}: name or hf_id already used by {}",
                model.arch.name, other.arch.name
            )));
        }
        out.push(model);
    }
    Ok(out)
}

/// The embedded catalog, parsed once, in file order.
pub fn models() -> &'static [CatalogModel] {
    static MODELS: OnceLock<Vec<CatalogModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        // Checked by the test `the_embedded_catalog_parses`: a broken file cannot ship.
        parse_models(MODELS_TOML).expect("the embedded model catalog is valid")
    })
}

/// The catalog entry named `name` (its catalog name or its Hugging Face id, ignoring case).
pub fn model_entry(name: &str) -> Option<&'static CatalogModel> {
    models()
        .iter()
        .find(|m| m.arch.name.eq_ignore_ascii_case(name) || m.hf_id.eq_ignore_ascii_case(name))
}

/// The architecture of the model named `name` (catalog name or Hugging Face id, ignoring
/// case).
pub fn model_by_name(name: &str) -> Option<ModelArch> {
    model_entry(name).map(|m| m.arch.clone())
}

/// The catalog names, in file order: what an "expected one of" message lists.
pub fn model_names() -> Vec<&'static str> {
    models().iter().map(|m| m.arch.name.as_str()).collect()
}

/// One `[[model]]` as written.
struct RawModel {
    name: String,
    hf_id: String,
    arch: String,
    parameters_total: u64,
    parameters_active: u64,
    published_parameters: String,
    layers: u32,
    hidden_size: u32,
    intermediate_size: u32,
    attention_heads: u32,
    kv_heads: u32,
    head_dim: u32,
    vocab_size: u32,
    tie_word_embeddings: bool,
    dtype_bytes: u32,
    max_position_embeddings: u32,
    num_experts: Option<u32>,
    experts_per_token: Option<u32>,
    moe_intermediate_size: Option<u32>,
    expert_weight_bits: Option<f64>,
    sliding_window: Option<u32>,
    source: String,
    mirror: Option<String>,
    licence: String,
}

impl<'de> Deserialize<'de> for RawModel {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        table(value, |t| {
            let name = t.required("name").ok();
            let hf_id = t.required("hf_id").ok();
            let arch = t.required("arch").ok();
            let parameters_total = t.required("parameters_total").ok();
            let parameters_active = t.required("parameters_active").ok();
            let published_parameters = t.required("published_parameters").ok();
            let layers = t.required("layers").ok();
            let hidden_size = t.required("hidden_size").ok();
            let intermediate_size = t.required("intermediate_size").ok();
            let attention_heads = t.required("attention_heads").ok();
            let kv_heads = t.required("kv_heads").ok();
            let head_dim = t.required("head_dim").ok();
            let vocab_size = t.required("vocab_size").ok();
            let tie_word_embeddings = t.required("tie_word_embeddings").ok();
            let dtype_bytes = t.required("dtype_bytes").ok();
            let max_position_embeddings = t.required("max_position_embeddings").ok();
            let num_experts = t.optional("num_experts");
            let experts_per_token = t.optional("experts_per_token");
            let moe_intermediate_size = t.optional("moe_intermediate_size");
            let expert_weight_bits = t.optional::<Number>("expert_weight_bits").map(|n| n.0);
            let sliding_window = t.optional("sliding_window");
            let source = t.required("source").ok();
            let mirror = t.optional("mirror");
            let licence = t.required("licence").ok();
            Some(RawModel {
                name: name?,
                hf_id: hf_id?,
                arch: arch?,
                parameters_total: parameters_total?,
                parameters_active: parameters_active?,
                published_parameters: published_parameters?,
                layers: layers?,
                hidden_size: hidden_size?,
                intermediate_size: intermediate_size?,
                attention_heads: attention_heads?,
                kv_heads: kv_heads?,
                head_dim: head_dim?,
                vocab_size: vocab_size?,
                tie_word_embeddings: tie_word_embeddings?,
                dtype_bytes: dtype_bytes?,
                max_position_embeddings: max_position_embeddings?,
                num_experts,
                experts_per_token,
                moe_intermediate_size,
                expert_weight_bits,
                sliding_window,
                source: source?,
                mirror,
                licence: licence?,
            })
        })
    }
}

impl RawModel {
    /// The checked entry, or what is wrong with it.
    fn check(&self) -> Result<CatalogModel, String> {
        let family = Family::parse(&self.arch).ok_or_else(|| {
            format!(
                "arch: unknown family {:?}: expected one of {}",
                self.arch,
                Family::NAMES.join(", ")
            )
        })?;
        let positive = [
            ("layers", self.layers),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("attention_heads", self.attention_heads),
            ("kv_heads", self.kv_heads),
            ("head_dim", self.head_dim),
            ("vocab_size", self.vocab_size),
            ("dtype_bytes", self.dtype_bytes),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{key}: must be at least 1"));
        }
        if !self.attention_heads.is_multiple_of(self.kv_heads) {
            return Err(format!(
                "kv_heads: {} does not divide attention_heads {}",
                self.kv_heads, self.attention_heads
            ));
        }
        if self.parameters_active == 0 || self.parameters_active > self.parameters_total {
            return Err("parameters_active: must be in 1..=parameters_total".into());
        }
        let moe = match (
            self.num_experts,
            self.experts_per_token,
            self.moe_intermediate_size,
        ) {
            (None, None, None) => None,
            (Some(experts), Some(experts_per_token), Some(intermediate_size))
                if experts_per_token >= 1
                    && experts_per_token <= experts
                    && intermediate_size >= 1 =>
            {
                Some(Moe {
                    experts,
                    experts_per_token,
                    intermediate_size,
                })
            }
            _ => {
                return Err(
                    "num_experts, experts_per_token and moe_intermediate_size: give all \
                            three (1 <= experts_per_token <= num_experts) or none"
                        .into(),
                )
            }
        };
        if moe.is_some() != matches!(family, Family::Mixtral | Family::Qwen3Moe | Family::GptOss) {
            return Err(format!(
                "arch {}: experts given for a dense family, or missing for a sparse one",
                self.arch
            ));
        }
        if (moe.is_none()) != (self.parameters_active == self.parameters_total) {
            return Err(
                "parameters_active: equals parameters_total exactly for a dense model".into(),
            );
        }
        if let Some(bits) = self.expert_weight_bits {
            if moe.is_none() || !(bits > 0.0 && bits <= 32.0) {
                return Err("expert_weight_bits: a number of bits in (0, 32], for experts".into());
            }
        }
        Ok(CatalogModel {
            arch: ModelArch {
                name: self.name.clone(),
                params_total: self.parameters_total,
                params_active: self.parameters_active,
                layers: self.layers,
                hidden: self.hidden_size,
                heads: self.attention_heads,
                kv_heads: self.kv_heads,
                head_dim: self.head_dim,
                vocab: self.vocab_size,
                tied_embeddings: self.tie_word_embeddings,
                dtype_bytes: self.dtype_bytes,
                kv_dtype_bytes: self.dtype_bytes,
            },
            hf_id: self.hf_id.clone(),
            family,
            intermediate_size: self.intermediate_size,
            moe,
            expert_weight_bits: self.expert_weight_bits,
            sliding_window: self.sliding_window,
            max_position_embeddings: self.max_position_embeddings,
            published_parameters: self.published_parameters.clone(),
            source: self.source.clone(),
            mirror: self.mirror.clone(),
            licence: self.licence.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameter count from the architecture, re-implemented from the research's
    /// `params.py` (its docstring holds the formula): embeddings, LM head unless tied, per
    /// layer the attention projections (plus Qwen3's q/k norms, gpt-oss's biases and sinks),
    /// the SwiGLU MLP or the experts with their router, two norms; and the final norm.
    /// Returns (total, active).
    fn count_params(m: &CatalogModel) -> (u64, u64) {
        let a = &m.arch;
        let (h, layers, nh, kv, hd, v) = (
            u64::from(a.hidden),
            u64::from(a.layers),
            u64::from(a.heads),
            u64::from(a.kv_heads),
            u64::from(a.head_dim),
            u64::from(a.vocab),
        );
        let mut attn = h * nh * hd + 2 * h * kv * hd + nh * hd * h;
        if matches!(m.family, Family::Qwen3 | Family::Qwen3Moe) {
            attn += 2 * hd;
        }
        if m.family == Family::GptOss {
            attn += nh * hd + 2 * kv * hd + h + nh;
        }
        let (mlp_total, mlp_active) = match m.moe {
            Some(moe) => {
                let (e, k, mi) = (
                    u64::from(moe.experts),
                    u64::from(moe.experts_per_token),
                    u64::from(moe.intermediate_size),
                );
                let mut per_expert = 3 * h * mi;
                let mut router = h * e;
                if m.family == Family::GptOss {
                    per_expert += 2 * mi + h;
                    router += e;
                }
                (e * per_expert + router, k * per_expert + router)
            }
            None => {
                let mlp = 3 * h * u64::from(m.intermediate_size);
                (mlp, mlp)
            }
        };
        let embed = v * h;
        let head = if a.tied_embeddings { 0 } else { v * h };
        let norms = 2 * h;
        (
            embed + head + layers * (attn + mlp_total + norms) + h,
            embed + head + layers * (attn + mlp_active + norms) + h,
        )
    }

    #[test]
    fn the_embedded_catalog_parses() {
        let all = parse_models(MODELS_TOML).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 9);
        assert_eq!(models().len(), 9);
        for name in [
            "llama-3.1-8b",
            "llama-3.1-70b",
            "llama-3.2-3b",
            "mistral-7b",
            "mixtral-8x7b",
            "qwen3-8b",
            "qwen3-32b",
            "qwen3-30b-a3b",
            "gpt-oss-20b",
        ] {
            assert!(model_by_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn every_parameter_count_follows_from_the_architecture() {
        for m in models() {
            let (total, active) = count_params(m);
            for (what, listed, counted) in [
                ("total", m.arch.params_total, total),
                ("active", m.arch.params_active, active),
            ] {
                let error = (listed as f64 - counted as f64).abs() / counted as f64;
                assert!(
                    error <= 0.005,
                    "{}: {what} {listed} listed, {counted} from the architecture ({:.3} %)",
                    m.arch.name,
                    error * 100.0
                );
            }
        }
        // The published figures, for the two models the step-time fit uses.
        let l8 = model_entry("llama-3.1-8b").unwrap();
        assert_eq!(count_params(l8).0, 8_030_261_248, "safetensors metadata");
        let mix = model_entry("mixtral-8x7b").unwrap();
        let (total, active) = count_params(mix);
        assert_eq!((total / 100_000_000, active / 100_000_000), (467, 128));
    }

    #[test]
    fn kv_bytes_per_token_of_llama_70b_is_2_80_8_128_2() {
        let m = model_by_name("llama-3.1-70b").unwrap();
        assert_eq!(m.kv_bytes_per_token(), 327_680);
        assert_eq!(m.kv_bytes_per_token(), 2 * 80 * 8 * 128 * 2);
        // Qwen3-30B-A3B keeps 4 KV heads over 48 layers.
        let q = model_by_name("qwen3-30b-a3b").unwrap();
        assert_eq!(q.kv_bytes_per_token(), 2 * 48 * 4 * 128 * 2);
    }

    #[test]
    fn names_and_hugging_face_ids_find_a_model_ignoring_case() {
        let by_name = model_by_name("Llama-3.1-70B").unwrap();
        let by_id = model_by_name("meta-llama/Llama-3.1-70B").unwrap();
        let lower_id = model_by_name("META-LLAMA/llama-3.1-70b").unwrap();
        assert_eq!(by_name, by_id);
        assert_eq!(by_id, lower_id);
        assert_eq!(by_name.name, "llama-3.1-70b");
        assert_eq!(
            (by_name.layers, by_name.hidden, by_name.heads),
            (80, 8192, 64)
        );
        assert!(model_by_name("llama-3.1-7b").is_none());
        assert!(model_by_name("").is_none());
        assert_eq!(model_names().len(), 9);
        assert_eq!(model_names()[0], "llama-3.1-8b", "file order");
    }

    #[test]
    fn mixture_of_experts_models_carry_active_parameters() {
        let q = model_entry("qwen3-30b-a3b").unwrap();
        assert_eq!(
            q.moe,
            Some(Moe {
                experts: 128,
                experts_per_token: 8,
                intermediate_size: 768
            })
        );
        assert_eq!(q.arch.params_active, 3_353_032_704);
        assert!(q.arch.params_active < q.arch.params_total / 9);
        // Dense models run every parameter.
        let d = model_by_name("qwen3-32b").unwrap();
        assert_eq!(d.params_active, d.params_total);
    }

    #[test]
    fn quantized_experts_take_their_own_bytes() {
        let g = model_entry("gpt-oss-20b").unwrap();
        // Experts: 24 layers × 32 × 3 × 2880 × 2880 = 19,110,297,600 weights at 4.25 bits
        // (10,152,345,600 B); the other 1,804,459,584 parameters at 2 B (3,608,919,168 B).
        assert_eq!(g.weight_bytes(), 10_152_345_600 + 3_608_919_168);
        assert_eq!(g.arch.weight_bytes(), 2 * 20_914_757_184);
        let l = model_entry("llama-3.1-8b").unwrap();
        assert_eq!(l.weight_bytes(), 2 * 8_030_261_248);
    }

    fn one(extra: &str) -> String {
        let base = model_entry("llama-3.1-8b").unwrap();
        let mut text = String::from("[[model]]\n");
        for line in MODELS_TOML
            .split("[[model]]")
            .nth(1)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
        {
            text.push_str(line);
            text.push('\n');
        }
        assert!(text.contains(&base.hf_id));
        text.push_str(extra);
        text
    }

    #[test]
    fn broken_entries_are_errors_with_their_line() {
        assert_eq!(parse_models(&one("")).unwrap().len(), 1);
        let unknown = parse_models(&one("flavour = \"x\"\n")).unwrap_err();
        assert!(unknown.to_string().contains("flavour"), "{unknown}");
        let twice = format!("{}{}", one(""), one(""));
        let e = parse_models(&twice).unwrap_err();
        assert!(e.message.contains("already used"), "{e}");
        assert!(e.line > 20, "points at the second entry: {e}");
        let zero = one("").replace("kv_heads = 8", "kv_heads = 0");
        assert!(parse_models(&zero)
            .unwrap_err()
            .message
            .contains("kv_heads"));
        let family = one("").replace("arch = \"llama\"", "arch = \"rwkv\"");
        let e = parse_models(&family).unwrap_err();
        assert!(e.message.contains("expected one of llama"), "{e}");
        assert_eq!(e.line, 1, "the entry's start: {e}");
        let half_moe = one("num_experts = 8\n");
        assert!(parse_models(&half_moe)
            .unwrap_err()
            .message
            .contains("num_experts"));
    }
}
