//! A pool's autoscaler: one of the real controllers, each behind the one interface of
//! [`super::controller`] (`on_tick(observation) -> actions`).
//!
//! Adding a controller: its model file (its state, its `on_tick`), a variant of [`Autoscaler`]
//! here (with its spec's variant in `spec::Controller`), and its reader in `crate::scenario`.
//! The world does not change.

use crate::time::SimDuration;

use super::aws_group::AwsGroup;
use super::controller::{Reads, ScalingAction, ScalingObservation, Tick};
use super::hpa_controller::HpaController;
use super::keda_controller::KedaController;
use super::spec::{AutoscalingSpec, Controller as ControllerSpec};

/// A pool's autoscaler: one of the real controllers, each behind [`Autoscaler::on_tick`].
#[derive(Debug, Clone)]
pub enum Autoscaler {
    /// AWS EC2 Auto Scaling: its policies on one group.
    Aws(Box<AwsGroup>),
    /// A Kubernetes HPA.
    Hpa(Box<HpaController>),
    /// KEDA: a ScaledObject and the HPA it drives.
    Keda(Box<KedaController>),
}

impl Autoscaler {
    /// The controller `spec` describes, for a pool of `slots` instance slots.
    pub fn new(spec: &AutoscalingSpec, slots: usize) -> Self {
        match &spec.controller {
            ControllerSpec::Aws(a) => Autoscaler::Aws(Box::new(AwsGroup::new(a))),
            ControllerSpec::Hpa(h) => Autoscaler::Hpa(Box::new(HpaController::new(spec, h, slots))),
            ControllerSpec::Keda(k) => Autoscaler::Keda(Box::new(KedaController::new(spec, k))),
        }
    }

    /// The first wake-ups, as `(delay from the start, tick)`, in the order they must run when
    /// due together (samples before evaluations, scrapes before syncs).
    pub fn first_ticks(&self) -> Vec<(SimDuration, Tick)> {
        match self {
            Autoscaler::Aws(a) => a.first_ticks(),
            Autoscaler::Hpa(h) => h.first_ticks(),
            Autoscaler::Keda(k) => k.first_ticks(),
        }
    }

    /// The AWS instance warm-up of launches no policy makes (replacements and the like), set
    /// before the run; `None` outside AWS.
    pub fn launch_warmup(&self) -> Option<SimDuration> {
        match self {
            Autoscaler::Aws(a) => Some(a.launch_warmup()),
            Autoscaler::Hpa(_) | Autoscaler::Keda(_) => None,
        }
    }

    /// What the observation of `tick` must read (see [`Reads`]).
    pub fn reads(&self, tick: Tick) -> Reads<'_> {
        match self {
            Autoscaler::Aws(a) => a.reads(tick),
            Autoscaler::Hpa(h) => h.reads(tick),
            Autoscaler::Keda(k) => k.reads(tick),
        }
    }

    /// The controller wakes for `tick` and sees `obs`; it pushes what the world must do onto
    /// `actions` and returns when `tick` comes again (`None`: not again).
    pub fn on_tick(
        &mut self,
        tick: Tick,
        obs: &ScalingObservation<'_>,
        actions: &mut Vec<ScalingAction>,
    ) -> Option<SimDuration> {
        match self {
            Autoscaler::Aws(a) => a.on_tick(tick, obs, actions),
            Autoscaler::Hpa(h) => h.on_tick(tick, obs, actions),
            Autoscaler::Keda(k) => k.on_tick(tick, obs, actions),
        }
    }
}
