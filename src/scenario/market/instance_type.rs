//! `[[instance_type]]` tables: by catalog name (with overrides) or the user's own, each with
//! its prices, speed, weight, and the spot and LLM keys read by their topics. Stage two
//! resolves catalog names and fills the defaults.

use std::path::Path;

use super::spot_price::{read_spot_price, resolve_spot, RawSpotPrice};
use crate::model::fleet::llm_server::LlmServer;
use crate::model::fleet::InstanceType;
use crate::model::market::catalog::{self, CatalogEntry, Cloud, Lookup};
use crate::model::market::interruptions::{SpotAvailability, SpotInterruptions};
use crate::model::market::spot_price::SpotPriceSpec;
use crate::scenario::llm::{read_llm, RawLlm};
use crate::scenario::llm_engine::resolve_engine;
use crate::scenario::reader::keys::{Key, Kind, Name, Nested, OneOf, Positive, Price, Text, Whole};
use crate::scenario::reader::{check_unique, Located, Names, Node, Reader};
use crate::scenario::spot::availability::read_spot_availability;
use crate::scenario::spot::interruptions::read_spot_interruptions;
use crate::time::SimDuration;

/// An `[[instance_type]]` table.
pub struct RawInstanceType {
    pub name: Option<Located<String>>,
    pub cloud: Option<Located<&'static str>>,
    pub region: Option<Located<String>>,
    pub concurrency: Option<Located<u64>>,
    pub speed: Option<Located<f64>>,
    pub price_per_hour: Option<Located<f64>>,
    pub spot_price: Option<Located<RawSpotPrice>>,
    pub weight: Option<Located<u64>>,
    /// Present but broken reads as `value: None` (reported).
    pub spot_interruptions: Option<Located<Option<SpotInterruptions>>>,
    /// Present but broken reads as `value: None` (reported).
    pub spot_availability: Option<Located<Option<SpotAvailability>>>,
    /// `llm = { ... }`: present (`Some`), and read (`Some(Some)`) or broken (reported).
    pub llm: Option<Option<Located<RawLlm>>>,
    /// `price` and `concurrency` were written (perhaps broken, then already reported).
    pub gives_price: bool,
    pub gives_concurrency: bool,
}

const NAME: Key<Name> = Key::required(
    "name",
    Name,
    "name the instance type, such as name = \"g5.xlarge\" (from the catalog) or \"a100\"",
);
const CLOUD: Key<OneOf> = Key::optional("cloud", OneOf(Cloud::NAMES));
const REGION: Key<Text> = Key::optional("region", Text);
const CONCURRENCY: Key<Whole> = Key::optional("concurrency", Whole(1, 1_000_000));
const SPEED: Key<Positive> = Key::optional("speed", Positive);
const PRICE: Key<Price> = Key::optional("price", Price);
const SPOT_PRICE: Key<Nested> = Key::optional("spot_price", Nested);
const WEIGHT: Key<Whole> = Key::optional("weight", Whole(1, 1000));
const SPOT_INTERRUPTIONS: Key<Nested> = Key::optional("spot_interruptions", Nested);
const SPOT_AVAILABILITY: Key<Nested> = Key::optional("spot_availability", Nested);
const LLM: Key<Nested> = Key::optional("llm", Nested);

/// Reads an `[[instance_type]]` table.
pub fn read_instance_type(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<RawInstanceType> {
    let mut f = r.table(node, "an instance type table")?;
    let concurrency = f.node(r, &CONCURRENCY);
    let price = f.node(r, &PRICE);
    let t = RawInstanceType {
        gives_price: price.is_some(),
        gives_concurrency: concurrency.is_some(),
        name: f.read(r, &NAME),
        cloud: f.read(r, &CLOUD),
        region: f.read(r, &REGION),
        concurrency: concurrency.and_then(|n| CONCURRENCY.kind.read(r, n)),
        speed: f.read(r, &SPEED),
        price_per_hour: price.and_then(|n| PRICE.kind.read(r, n)),
        spot_price: f
            .node(r, &SPOT_PRICE)
            .and_then(|n| read_spot_price(r, n, base_dir)),
        weight: f.read(r, &WEIGHT),
        spot_interruptions: f.read_nested(r, &SPOT_INTERRUPTIONS, |r, n| {
            read_spot_interruptions(r, n, base_dir)
        }),
        spot_availability: f.read_nested(r, &SPOT_AVAILABILITY, |r, n| {
            read_spot_availability(r, n, base_dir)
        }),
        llm: f.node(r, &LLM).map(|n| read_llm(r, n, base_dir)),
    };
    f.finish(r);
    Some(t)
}

/// The names of the `[[instance_type]]` tables that have one, for references to them.
pub fn type_names(types: &[RawInstanceType]) -> Names<'_> {
    types
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
        .collect()
}

/// Stage two: at least one type, each named once and resolved ([`validate_instance_type`]);
/// `None` if any is wrong (every problem reported).
pub fn validate_instance_types(
    r: &mut Reader<'_>,
    raw: &[RawInstanceType],
    duration: Option<SimDuration>,
) -> Option<Vec<InstanceType>> {
    if raw.is_empty() {
        r.error_at(
            "instance_type",
            None,
            "no instance types",
            Some(
                "add one: [[instance_type]] name = \"g5.xlarge\" (from the catalog), or name = \"a100\" concurrency = 4 price = \"$4.10/h\""
                    .into(),
            ),
        );
        return None;
    }
    let names: Vec<&Located<String>> = raw.iter().filter_map(|t| t.name.as_ref()).collect();
    let unique = check_unique(
        r,
        &names,
        "instance type",
        "give each instance type its own name",
    );
    let mut ok = true;
    let mut out = Vec::new();
    for t in raw {
        match validate_instance_type(r, t, duration) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    ok.then_some(out).filter(|_| unique)
}

/// One `[[instance_type]]`, resolved against the catalog. A type that gives its own `price` and
/// `concurrency` and no `cloud` or `region` is the user's own: nothing comes from the catalog.
/// Any other is looked up by name (and cloud and region); the fields the file gives override
/// the catalog's.
fn validate_instance_type(
    r: &mut Reader<'_>,
    t: &RawInstanceType,
    duration: Option<SimDuration>,
) -> Option<InstanceType> {
    let name = t.name.as_ref()?;
    if (t.gives_price && t.price_per_hour.is_none())
        || (t.gives_concurrency && t.concurrency.is_none())
        || matches!(t.llm, Some(None))
    {
        // Broken, and already reported: a catalog lookup would only add noise.
        return None;
    }
    let llm = t.llm.as_ref().and_then(|l| l.as_ref());
    // An LLM type's slots are its batch: `max_batch` stands for `concurrency`.
    let own = t.gives_price
        && (t.gives_concurrency || llm.is_some())
        && t.cloud.is_none()
        && t.region.is_none();
    if !llm_concurrency_fits(r, llm, t.concurrency.as_ref()) {
        return None;
    }
    let entry = if own {
        None
    } else {
        Some(catalog_entry(r, t, name)?)
    };
    let price = t
        .price_per_hour
        .as_ref()
        .map(|p| p.value)
        .or(entry.map(|e| e.on_demand_usd_per_hour));
    let server =
        match llm.map(|l| &l.value) {
            None => None,
            Some(RawLlm::Profile(p)) => Some(LlmServer::Profile(p.clone())),
            Some(RawLlm::Engine(e)) => Some(LlmServer::Engine(std::sync::Arc::new(
                resolve_engine(r, e, &name.value, entry)?,
            ))),
        };
    let concurrency = server
        .as_ref()
        .map(LlmServer::slots)
        .or(t.concurrency.as_ref().map(|c| c.value as u32))
        .or(entry.map(|e| e.concurrency));
    let (price, concurrency) = (price?, concurrency?);
    let spot_price = match &t.spot_price {
        Some(s) => Some(resolve_spot(r, s, price, duration)?),
        None => entry
            .and_then(|e| e.spot_usd_per_hour)
            .map(|p| SpotPriceSpec::Constant { usd_per_hour: p }),
    };
    Some(InstanceType {
        name: name.value.clone(),
        concurrency,
        speed: t
            .speed
            .as_ref()
            .map(|s| s.value)
            .or(entry.map(|e| e.speed))
            .unwrap_or(1.0),
        price_per_hour: price,
        weight: t.weight.as_ref().map_or(1, |w| w.value as u32),
        cloud: entry.map(|e| e.cloud),
        region: entry.map(|e| e.region.clone()),
        gpu_model: entry.and_then(|e| e.gpu_model.clone()),
        llm: server,
        spot_price,
        // Broken: reported by stage one.
        spot_interruptions: match &t.spot_interruptions {
            Some(s) => Some(s.value.clone()?),
            None => None,
        },
        spot_availability: match &t.spot_availability {
            Some(a) => Some(std::sync::Arc::new(a.value.clone()?)),
            None => None,
        },
    })
}

/// An LLM type's `concurrency`, if given, is its `max_batch` (or its engine's
/// `max_num_seqs`); false if not (reported).
fn llm_concurrency_fits(
    r: &mut Reader<'_>,
    llm: Option<&Located<RawLlm>>,
    concurrency: Option<&Located<u64>>,
) -> bool {
    if let (Some(l), Some(c)) = (llm, concurrency) {
        let (slots, key) = match &l.value {
            RawLlm::Profile(p) => (Some(p.max_batch), "max_batch"),
            RawLlm::Engine(e) => (e.max_num_seqs(), "max_num_seqs"),
        };
        let Some(slots) = slots else {
            r.error(
                c,
                "an LLM engine's concurrency is its max_num_seqs",
                Some("remove concurrency and set llm.max_num_seqs".into()),
            );
            return false;
        };
        if c.value != u64::from(slots) {
            r.error(
                c,
                format!(
                    "an LLM instance type's concurrency is its {key} ({slots}), not {}",
                    c.value
                ),
                Some(format!("remove concurrency: {key} sets the slots")),
            );
            return false;
        }
    }
    true
}

/// The catalog's entry for type `t` named `name` (in its cloud and region, if given); `None`
/// if there is none, or several (reported).
fn catalog_entry(
    r: &mut Reader<'_>,
    t: &RawInstanceType,
    name: &Located<String>,
) -> Option<&'static CatalogEntry> {
    let cloud = t.cloud.as_ref().and_then(|c| Cloud::parse(c.value));
    let region = t.region.as_ref().map(|r| r.value.as_str());
    match catalog::lookup(catalog::catalog(), &name.value, cloud, region) {
        Lookup::Found(e) => Some(e),
        Lookup::Unknown { closest } => {
            let place = match (cloud, region) {
                (None, None) => String::new(),
                (c, r) => format!(
                    " ({}{})",
                    c.map_or("any cloud".into(), |c| c.as_str().to_string()),
                    r.map_or(String::new(), |r| format!(", region {r}"))
                ),
            };
            r.error(
                name,
                format!(
                    "there is no instance type \"{}\" in the catalog{place}",
                    name.value
                ),
                Some(format!(
                    "closest catalog names: {}; or give price and concurrency for a type of your own (`fleetsim catalog` lists the catalog)",
                    closest.join(", ")
                )),
            );
            None
        }
        Lookup::Ambiguous { candidates } => {
            let places: Vec<String> = candidates
                .iter()
                .map(|(c, r)| format!("{} {r}", c.as_str()))
                .collect();
            r.error(
                name,
                format!(
                    "the catalog has \"{}\" in several places: {}",
                    name.value,
                    places.join(", ")
                ),
                Some(format!(
                    "say which with region = \"{}\" (and cloud if needed)",
                    candidates[0].1
                )),
            );
            None
        }
    }
}
