//! The Kubernetes controllers of `[pool.autoscaling]`: an HPA (`hpa`) and a KEDA
//! ScaledObject (`keda`), with the HPA `behavior` both share, read with the API server's and
//! KEDA's admission rules.
//!
//! Sources: kubernetes/kubernetes `pkg/apis/autoscaling/validation/validation.go`
//! (`validateScalingRules`: at least one policy, `periodSeconds` in 1..=1800,
//! `stabilizationWindowSeconds` in 0..=3600; metric targets "must be positive") and
//! `pkg/apis/autoscaling/v2/defaults.go` (an empty `metrics` list is 80 % CPU; a missing
//! behavior direction takes its defaults); kedacore/keda
//! `apis/keda/v1alpha1/scaledobject_types.go` (`CheckReplicaCountBoundsAreValid`:
//! `idleReplicaCount` must be below the HPA's minimum, `minReplicaCount` or 1 if that is 0)
//! and the ScaledObject specification's defaults (<https://keda.sh/docs/latest/reference/scaledobject-spec/>).
//!
//! It must not know the AWS policies nor the pool.

pub mod behavior;
pub mod hpa;
pub mod keda;
