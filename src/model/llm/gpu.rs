//! An accelerator by its datasheet: peak throughput, memory and its bandwidth, and the link
//! between the GPUs of one server.

/// How the GPUs of one server talk to each other (what a tensor-parallel all-reduce crosses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterconnectKind {
    /// NVIDIA NVLink (through NVSwitch on 8-GPU servers).
    NvLink,
    /// PCIe, through the host bridge or a PCIe switch.
    Pcie,
    /// AMD Infinity Fabric.
    InfinityFabric,
    /// AWS NeuronLink.
    NeuronLink,
}

/// One accelerator.
#[derive(Debug, Clone, PartialEq)]
pub struct Gpu {
    /// The catalog name, such as `H100-SXM`.
    pub name: String,
    /// Memory \[bytes\] (the vendor's nominal capacity).
    pub memory_bytes: u64,
    /// Peak memory bandwidth \[bytes/s\].
    pub memory_bandwidth: f64,
    /// Peak dense FP16/BF16 tensor throughput \[FLOP/s\] (without structured sparsity).
    pub fp16_flops: f64,
    /// Peak dense FP8 tensor throughput \[FLOP/s\], where the GPU has FP8 tensor cores.
    pub fp8_flops: Option<f64>,
    /// The link between the GPUs of one server.
    pub interconnect: InterconnectKind,
    /// The link's bandwidth per GPU and per direction \[bytes/s\].
    pub link_bandwidth: f64,
}
