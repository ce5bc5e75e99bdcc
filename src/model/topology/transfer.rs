//! Data transfer: how many bytes a request and its response carry, and what clouds charge per
//! GB to send them to the internet or to another region.
//!
//! Default prices are list prices for the first volume tier in North America (2026):
//! - AWS, "Amazon EC2 On-Demand Pricing", Data Transfer: out to the internet, first 10 TB/month,
//!   $0.09/GB; to another AWS region (US), $0.02/GB.
//! - Google Cloud, "Network pricing" (Premium Tier internet egress, 0–1 TiB/month, North
//!   America) $0.12/GB; "data transfer between regions within North America" $0.02/GB.
//! - Azure, "Bandwidth pricing" (internet egress via the Microsoft premium global network,
//!   first 10 TB/month after the first 100 GB) $0.087/GB; between regions within North
//!   America $0.02/GB.

/// The largest request or response a class may carry \[bytes\]: 1 GB (a generated video is
/// megabytes). With it, bytes summed over any run fit their 128-bit counters and every
/// per-GB charge stays finite (issue 14, item 13).
pub const MAX_MESSAGE_BYTES: u64 = 1_000_000_000;

/// Bytes carried by one request and its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferSizes {
    /// Request body and headers \[bytes\]. Default 2 KB.
    pub request: u64,
    /// Response \[bytes\]. Default 20 KB.
    pub response: u64,
}

impl Default for TransferSizes {
    fn default() -> Self {
        TransferSizes {
            request: 2_000,
            response: 20_000,
        }
    }
}

/// What one cloud charges per GB (10^9 bytes) it sends out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CloudPrices {
    /// To the internet (and so to another cloud) [USD/GB].
    pub internet_egress_per_gb: f64,
    /// To another region of the same cloud [USD/GB].
    pub inter_region_per_gb: f64,
}

impl CloudPrices {
    /// The list prices of a known cloud (`aws`, `gcp`, `azure`); `None` for another name.
    pub fn default_for(cloud: &str) -> Option<CloudPrices> {
        let (internet, inter_region) = match cloud {
            "aws" => (0.09, 0.02),
            "gcp" => (0.12, 0.02),
            "azure" => (0.087, 0.02),
            _ => return None,
        };
        Some(CloudPrices {
            internet_egress_per_gb: internet,
            inter_region_per_gb: inter_region,
        })
    }
}
