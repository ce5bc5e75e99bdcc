//! The instance lifecycle: one state machine from launch to termination, with the warm pool's
//! states beside it. What a state means — billed or not, counted toward desired capacity or not,
//! taking traffic or not, passing which health check — is a property of the state, defined here
//! once (ARCHITECTURE.md, "Instance lifecycle").
//!
//! ```text
//!             launch                 boot done        model loaded      warm-up done
//!  (none) ───────────▶ Pending ─────────▶ Loading ─────────▶ Warming ─────────▶ InService
//!    ▲                                      ▲                   ▲                  │  │
//!    │                      from Stopped /  │Hibernated         │from Running      │  │ scale-in
//!    │                         (skips boot) │                   │(skips boot+load) │  │
//!    │                 warm pool: Stopped · Hibernated · Running ◀── return ───────┘  │
//!    └──────── Terminated ◀──── deregistration delay / work done ──── Draining ◀──────┘
//! ```
//!
//! Sources: AWS EC2 Auto Scaling user guide, "Amazon EC2 Auto Scaling instance lifecycle"
//! (Pending and InService count toward desired capacity; Terminating does not) and "Warm pools
//! for Amazon EC2 Auto Scaling" (warm states Stopped, Running and Hibernated; a stopped instance
//! is billed for its volumes only, a hibernated one for its volumes and saved RAM, a running one
//! in full; instances in the warm pool do not count toward desired capacity); ELB "Deregistration
//! delay" (a draining target finishes in-flight requests and gets no new ones, default 300 s);
//! EC2 billing starts when an instance enters the running state, so booting is billed.
//! Model loading and warm-up are the GPU server's own phases after boot: a shallow check (the
//! process answers) passes from loading on, a deep check (a test inference) only once warm.
//! It must not know when or why instances launch: that is the autoscaler's decision.

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceState {
    /// Launched: the host is provisioned and the OS and serving container boot.
    Pending,
    /// Booted: the model's weights load into GPU memory.
    Loading,
    /// Loaded: warm-up (compilation, CUDA graphs, first batches) before it is ready.
    Warming,
    /// Ready and registered: takes traffic.
    InService,
    /// Leaving: takes no new requests, finishes the ones it holds (deregistration delay).
    Draining,
    /// Gone.
    Terminated,
    /// In the warm pool, stopped: volumes kept, must boot again.
    WarmStopped,
    /// In the warm pool, hibernated: volumes and RAM kept, resumes instead of booting.
    WarmHibernated,
    /// In the warm pool, running: booted and loaded, only warm-up left.
    WarmRunning,
}

/// What an instance in a state costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// The instance's full hourly price.
    Full,
    /// Its storage only (a stopped or hibernated warm-pool instance).
    StorageOnly,
    /// Nothing.
    None,
}

/// The phases an instance passes through to serve: how long each takes is the caller's (a
/// duration distribution per phase and instance type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Provisioning and boot (or resume from hibernation).
    Boot,
    /// Model load.
    Load,
    /// Warm-up.
    WarmUp,
}

impl InstanceState {
    /// Every state, in lifecycle order.
    pub const ALL: [InstanceState; 9] = [
        InstanceState::Pending,
        InstanceState::Loading,
        InstanceState::Warming,
        InstanceState::InService,
        InstanceState::Draining,
        InstanceState::Terminated,
        InstanceState::WarmStopped,
        InstanceState::WarmHibernated,
        InstanceState::WarmRunning,
    ];

    /// The name used in results (timeline columns `instances_<name>`).
    pub fn name(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Loading => "loading",
            InstanceState::Warming => "warming",
            InstanceState::InService => "in_service",
            InstanceState::Draining => "draining",
            InstanceState::Terminated => "terminated",
            InstanceState::WarmStopped => "warm_stopped",
            InstanceState::WarmHibernated => "warm_hibernated",
            InstanceState::WarmRunning => "warm_running",
        }
    }

    /// What it costs: booting is billed (EC2 bills from the running state, and the host runs
    /// while the OS boots), a stopped or hibernated warm instance pays for storage only.
    pub fn billing(self) -> Billing {
        match self {
            InstanceState::Terminated => Billing::None,
            InstanceState::WarmStopped | InstanceState::WarmHibernated => Billing::StorageOnly,
            _ => Billing::Full,
        }
    }

    /// Counted toward the group's desired capacity (AWS: Pending and InService are; Terminating
    /// and warm-pool instances are not).
    pub fn counts_toward_desired(self) -> bool {
        matches!(
            self,
            InstanceState::Pending
                | InstanceState::Loading
                | InstanceState::Warming
                | InstanceState::InService
        )
    }

    /// A balancer may send it new requests.
    pub fn takes_new_requests(self) -> bool {
        self == InstanceState::InService
    }

    /// It still serves what it holds (in service, or draining).
    pub fn serves(self) -> bool {
        matches!(self, InstanceState::InService | InstanceState::Draining)
    }

    /// A shallow health check (the process answers) passes.
    pub fn passes_shallow_check(self) -> bool {
        matches!(
            self,
            InstanceState::Loading
                | InstanceState::Warming
                | InstanceState::InService
                | InstanceState::Draining
        )
    }

    /// A deep health check (model loaded, GPU healthy, a test inference) passes.
    pub fn passes_deep_check(self) -> bool {
        self.serves()
    }

    /// In the warm pool.
    pub fn is_warm_pool(self) -> bool {
        matches!(
            self,
            InstanceState::WarmStopped | InstanceState::WarmHibernated | InstanceState::WarmRunning
        )
    }

    /// The phase an instance in this state is going through, if it is on its way to service.
    pub fn phase(self) -> Option<Phase> {
        match self {
            InstanceState::Pending => Some(Phase::Boot),
            InstanceState::Loading => Some(Phase::Load),
            InstanceState::Warming => Some(Phase::WarmUp),
            _ => None,
        }
    }

    /// The state an instance enters when it is started toward service: a new launch boots
    /// (provisioning, OS, container and model download); a warm-pool instance skips what its
    /// state has already done. A stopped or hibernated one was provisioned and has its model
    /// on local disk, but GPU memory does not survive a stop: it loads again. A running one is
    /// booted and loaded: only warm-up is left. `None` for states that cannot be started.
    pub fn start(launch_from: Option<InstanceState>) -> Option<InstanceState> {
        match launch_from {
            None => Some(InstanceState::Pending),
            Some(InstanceState::WarmStopped | InstanceState::WarmHibernated) => {
                Some(InstanceState::Loading)
            }
            Some(InstanceState::WarmRunning) => Some(InstanceState::Warming),
            Some(_) => None,
        }
    }

    /// The state after the current phase completes.
    pub fn after_phase(self) -> Option<InstanceState> {
        match self {
            InstanceState::Pending => Some(InstanceState::Loading),
            InstanceState::Loading => Some(InstanceState::Warming),
            InstanceState::Warming => Some(InstanceState::InService),
            _ => None,
        }
    }

    /// The phases from `from` (a launch when `None`, else a warm-pool state) to service, in
    /// order: the ones a warm pool skips are missing.
    pub fn phases_to_service(from: Option<InstanceState>) -> Vec<Phase> {
        let mut phases = Vec::new();
        let mut state = InstanceState::start(from);
        while let Some(s) = state {
            match s.phase() {
                Some(p) => phases.push(p),
                None => break,
            }
            state = s.after_phase();
        }
        phases
    }

    /// Whether moving from this state to `to` is a transition of the lifecycle.
    pub fn can_become(self, to: InstanceState) -> bool {
        use InstanceState::*;
        match (self, to) {
            (Pending, Loading) | (Loading, Warming) | (Warming, InService) => true,
            (InService, Draining) | (Draining, Terminated) => true,
            // Scale-in may cut a launch short, and a failure can end any running state.
            (Pending | Loading | Warming | InService, Terminated) => true,
            // Scale-in returns instances to the warm pool when reuse on scale-in is on.
            (Draining, WarmStopped | WarmHibernated | WarmRunning) => true,
            // The pool fills with new instances that boot (and load, for Running) first.
            (Pending | Loading | Warming, WarmStopped | WarmHibernated | WarmRunning) => true,
            (WarmStopped | WarmHibernated, Loading) | (WarmRunning, Warming) => true,
            (WarmStopped | WarmHibernated | WarmRunning, Terminated) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InstanceState::*;
    use super::*;

    #[test]
    fn a_launch_goes_through_every_phase_and_a_warm_pool_skips_what_it_has_done() {
        assert_eq!(
            InstanceState::phases_to_service(None),
            vec![Phase::Boot, Phase::Load, Phase::WarmUp]
        );
        assert_eq!(
            InstanceState::phases_to_service(Some(WarmStopped)),
            vec![Phase::Load, Phase::WarmUp]
        );
        assert_eq!(
            InstanceState::phases_to_service(Some(WarmHibernated)),
            vec![Phase::Load, Phase::WarmUp]
        );
        assert_eq!(
            InstanceState::phases_to_service(Some(WarmRunning)),
            vec![Phase::WarmUp]
        );
        assert_eq!(InstanceState::start(Some(InService)), None);
    }

    #[test]
    fn only_in_service_takes_new_requests_and_draining_still_serves() {
        for s in InstanceState::ALL {
            assert_eq!(s.takes_new_requests(), s == InService, "{s:?}");
        }
        assert!(Draining.serves() && !Draining.takes_new_requests());
        assert!(!Warming.serves());
    }

    #[test]
    fn capacity_and_billing_follow_aws() {
        // Pending and InService count toward desired capacity; terminating and warm ones don't.
        let counted: Vec<_> = InstanceState::ALL
            .into_iter()
            .filter(|s| s.counts_toward_desired())
            .collect();
        assert_eq!(counted, vec![Pending, Loading, Warming, InService]);
        assert_eq!(WarmStopped.billing(), Billing::StorageOnly);
        assert_eq!(WarmHibernated.billing(), Billing::StorageOnly);
        assert_eq!(WarmRunning.billing(), Billing::Full);
        assert_eq!(Pending.billing(), Billing::Full);
        assert_eq!(Terminated.billing(), Billing::None);
    }

    #[test]
    fn a_shallow_check_passes_while_the_model_loads_and_a_deep_one_only_when_ready() {
        assert!(!Pending.passes_shallow_check());
        assert!(Loading.passes_shallow_check() && !Loading.passes_deep_check());
        assert!(Warming.passes_shallow_check() && !Warming.passes_deep_check());
        assert!(InService.passes_deep_check());
    }

    #[test]
    fn transitions_follow_the_diagram_and_nothing_comes_back_from_terminated() {
        assert!(Pending.can_become(Loading));
        assert!(
            !Pending.can_become(InService),
            "no phase is skipped on a launch"
        );
        assert!(InService.can_become(Draining));
        assert!(Draining.can_become(WarmStopped), "reuse on scale-in");
        assert!(WarmRunning.can_become(Warming) && !WarmRunning.can_become(Pending));
        assert!(WarmStopped.can_become(Loading) && !WarmStopped.can_become(Pending));
        for s in InstanceState::ALL {
            assert!(!Terminated.can_become(s), "{s:?}");
        }
        // Every step of every path to service is a transition.
        for from in [
            None,
            Some(WarmStopped),
            Some(WarmHibernated),
            Some(WarmRunning),
        ] {
            let mut s = InstanceState::start(from).unwrap();
            if let Some(f) = from {
                assert!(f.can_become(s), "{f:?} -> {s:?}");
            }
            while let Some(next) = s.after_phase() {
                assert!(s.can_become(next));
                s = next;
            }
            assert_eq!(s, InService);
        }
        let names: std::collections::BTreeSet<_> =
            InstanceState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), InstanceState::ALL.len());
    }
}
