//! A transformer's architecture, as its published `config.json` gives it: what the step time
//! and the KV cache's size follow from.

/// A decoder-only transformer (dense or mixture-of-experts).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelArch {
    /// The catalog name, such as `llama-3.1-70b`, or the scenario's own name for the model.
    pub name: String,
    /// All parameters, embeddings included: what the weights take in memory.
    pub params_total: u64,
    /// Parameters one token runs through (the active experts only, for a mixture of experts).
    pub params_active: u64,
    /// Decoder layers (`num_hidden_layers`).
    pub layers: u32,
    /// The residual stream's width (`hidden_size`).
    pub hidden: u32,
    /// Query heads (`num_attention_heads`).
    pub heads: u32,
    /// Key/value heads (`num_key_value_heads`; fewer than `heads` with grouped-query attention).
    pub kv_heads: u32,
    /// One head's width (`head_dim`, else `hidden_size / num_attention_heads`).
    pub head_dim: u32,
    /// Vocabulary size (`vocab_size`): the LM head's width.
    pub vocab: u32,
    /// True if the LM head shares the input embedding's weights (`tie_word_embeddings`).
    pub tied_embeddings: bool,
    /// Bytes per weight (2 for bf16/fp16, 1 for fp8).
    pub dtype_bytes: u32,
    /// Bytes per cached key or value element (the weights' by default; 1 for an fp8 KV cache).
    pub kv_dtype_bytes: u32,
}

impl ModelArch {
    /// The weights' bytes, all GPUs together.
    pub fn weight_bytes(&self) -> u64 {
        self.params_total
            .saturating_mul(u64::from(self.dtype_bytes))
    }

    /// The KV cache's bytes per token, all layers, keys and values, all GPUs together:
    /// `2 × layers × kv_heads × head_dim × kv_dtype_bytes`.
    pub fn kv_bytes_per_token(&self) -> u64 {
        2 * u64::from(self.layers)
            * u64::from(self.kv_heads)
            * u64::from(self.head_dim)
            * u64::from(self.kv_dtype_bytes)
    }

    /// Parameters in the matrix multiplies one token runs through, the embedding and the LM
    /// head excepted (the embedding is a lookup; the LM head runs only for sampled tokens).
    pub fn matmul_params(&self) -> u64 {
        let embedding = u64::from(self.vocab) * u64::from(self.hidden);
        let head = if self.tied_embeddings { 0 } else { embedding };
        self.params_active.saturating_sub(embedding + head)
    }
}
