//! Stage one of a `[[class]]` table: its name and share, where it goes (a pool, a path or a
//! queue), its service time (or its tokens, for an LLM class), and its message sizes.

use std::path::Path;

use crate::model::distribution::ServiceTime;
use crate::model::fleet::llm::TokenCount;
use crate::model::topology::transfer::MAX_MESSAGE_BYTES;
use crate::scenario::llm::read_tokens;
use crate::scenario::reader::keys::{Bytes, Key, Kind, Name, Nested, Positive, Text};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::scenario::service::read_service;

/// A `[[class]]` table.
pub struct RawClass {
    pub name: Option<Located<String>>,
    pub share: Option<Located<f64>>,
    pub pool: Option<Located<String>>,
    pub path: Option<Located<String>>,
    pub queue: Option<Located<String>>,
    pub service: Option<ServiceTime>,
    pub service_by_type: Vec<(Located<String>, ServiceTime)>,
    /// `input_tokens` / `output_tokens`: present (`Some`), and read (`value: Some`) or broken.
    pub input_tokens: Option<Located<Option<TokenCount>>>,
    pub output_tokens: Option<Located<Option<TokenCount>>>,
    pub request_size: Option<Located<u64>>,
    pub response_size: Option<Located<u64>>,
    pub at: Located<()>,
}

/// A class's `request_size` or `response_size` (the key): at most 1 GB (issue 14, item 13).
#[derive(Debug, Clone, Copy)]
struct MessageSize(&'static str);

impl Kind for MessageSize {
    type Value = u64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<u64>> {
        let key = self.0;
        let size = Bytes.read(r, node)?;
        if size.value > MAX_MESSAGE_BYTES {
            r.error(
                &size,
                format!(
                    "a {key} above 1GB is not one request's ({} bytes)",
                    size.value
                ),
                Some(format!("such as {key} = \"20KB\"; at most \"1GB\"")),
            );
            return None;
        }
        Some(size)
    }
}

const NAME: Key<Name> = Key::required("name", Name, "name the class, such as name = \"predict\"");
const SHARE: Key<Positive> = Key::optional("share", Positive);
const POOL: Key<Text> = Key::optional("pool", Text);
const PATH: Key<Text> = Key::optional("path", Text);
const QUEUE: Key<Text> = Key::optional("queue", Text);
const INPUT_TOKENS: Key<Nested> = Key::optional("input_tokens", Nested);
const OUTPUT_TOKENS: Key<Nested> = Key::optional("output_tokens", Nested);
/// A token-based class takes its time from its tokens and the instance type's LLM profile.
const TOKEN_SERVICE: Key<Nested> = Key::optional("service", Nested);
const SERVICE: Key<Nested> = Key::required(
    "service",
    Nested,
    "give the service time, such as service = { distribution = \"exponential\", mean = \"1s\" }, or input_tokens and output_tokens for an LLM class",
);
const SERVICE_BY_TYPE: Key<Nested> = Key::optional("service_by_type", Nested);
const REQUEST_SIZE: Key<MessageSize> = Key::optional("request_size", MessageSize("request_size"));
const RESPONSE_SIZE: Key<MessageSize> =
    Key::optional("response_size", MessageSize("response_size"));

/// Reads a `[[class]]` table.
pub fn read_class(r: &mut Reader<'_>, node: Node<'_, '_>, base_dir: &Path) -> Option<RawClass> {
    let at = node.at();
    let mut f = r.table(node, "a request class table")?;
    let name = f.read(r, &NAME);
    let share = f.read(r, &SHARE);
    let pool = f.read(r, &POOL);
    let path = f.read(r, &PATH);
    let queue = f.read(r, &QUEUE);
    let input_tokens = f.read_nested(r, &INPUT_TOKENS, read_tokens);
    let output_tokens = f.read_nested(r, &OUTPUT_TOKENS, read_tokens);
    let service_key = if input_tokens.is_some() || output_tokens.is_some() {
        &TOKEN_SERVICE
    } else {
        &SERVICE
    };
    let service = f
        .node(r, service_key)
        .and_then(|n| read_service(r, n, base_dir));
    let mut service_by_type = Vec::new();
    if let Some(n) = f.node(r, &SERVICE_BY_TYPE) {
        if let Some(t) = r.table(n, "a table of instance type name = service time") {
            service_by_type = read_service_map(r, t, base_dir);
        }
    }
    let request_size = f.read(r, &REQUEST_SIZE);
    let response_size = f.read(r, &RESPONSE_SIZE);
    f.finish(r);
    Some(RawClass {
        name,
        share,
        pool,
        path,
        queue,
        service,
        service_by_type,
        input_tokens,
        output_tokens,
        request_size,
        response_size,
        at,
    })
}

/// Reads every `type = { ... }` entry; the keys are checked against instance types later.
fn read_service_map(
    r: &mut Reader<'_>,
    f: Fields<'_, '_>,
    base_dir: &Path,
) -> Vec<(Located<String>, ServiceTime)> {
    let entries: Vec<(String, Node<'_, '_>)> = f.entries();
    entries
        .into_iter()
        .filter_map(|(key, node)| {
            let key = node.locate(key);
            read_service(r, node, base_dir).map(|s| (key, s))
        })
        .collect()
}
