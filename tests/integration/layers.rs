//! The layer test (issue 15, item 1): every path that names another module of the crate —
//! `crate::…` and `super::…` in `src/**`, `fleetsim::…` in `src/main.rs`, in `use` items and in
//! code alike — must point to a module its own module may use, by the table of
//! `docs/architecture.md` ("Layout", the column "may use"). The table a reader sees is the table
//! this test enforces: it reads it from the document, never from a copy here.
//!
//! As rust-analyzer keeps its rules as code that reads the tree
//! (`crates/rust-analyzer/tests/slow-tests/tidy.rs`: `files_are_tidy` walks every source file,
//! `check_lsp_extensions_docs` keeps a document and the code in step), this reads text, not
//! types: a small tokenizer skips comments, strings and character literals, follows `use`
//! trees (`use crate::{a::B, c::{self, D}}`) and inline modules (for `super::`), and resolves
//! each path to the longest module prefix that is a file of `src/`. A name the crate root
//! re-exports (`crate::Scenario`) counts as the public API (`lib.rs`) or as what it re-exports,
//! whichever the importer may use.
//!
//! The one place for exceptions is [`SHIMS`]: an old path a move between layers leaves behind
//! while branches merge (issue 15 used it; it is empty now). A path through a shim is judged by
//! where it now points, and the shim's own `pub use` line is allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The marker every shim's line carries.
const SHIM_MARKER: &str = "shim: remove after issue 15 merges";

/// THE ONE PLACE EXCEPTIONS ARE LISTED. The `pub use` shims that keep an old path working while
/// branches merge (`// shim: remove after issue 15 merges`), as (the file holding the shim, the
/// old path, where it points now). Empty since issue 15's branches merged: the test fails on a
/// shim without its entry, and on an entry whose shim is gone.
const SHIMS: &[Shim] = &[];

/// A `pub use` shim: `old` (a path from the crate root) now means `new`; `at` holds the line.
#[derive(Debug, Clone, Copy)]
struct Shim {
    at: &'static str,
    old: &'static str,
    new: &'static str,
}

#[test]
fn every_import_respects_the_layer_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("docs/architecture.md"))
        .expect("docs/architecture.md holds the layer table");
    let mut files = Vec::new();
    collect_rust_files(&root.join("src"), root, &mut files);
    assert!(
        files.len() > 50,
        "src/ should hold the crate's files, found {}",
        files.len()
    );
    let problems = check(&table, &files, SHIMS);
    assert!(
        problems.is_empty(),
        "{} import(s) break the layer table of docs/architecture.md (move the item to the layer \
         where it belongs, pass a plain value across, or change the table on purpose):\n{}",
        problems.len(),
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every `.rs` file below `dir`, as (path relative to `root` with `/`, text), sorted.
fn collect_rust_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rust_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap();
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The table.

/// A row's key: a module path from the crate root (`["model", "traffic"]`); `[]` is `lib.rs`,
/// `["main.rs"]` the binary.
type Key = Vec<String>;

/// The layer table of `docs/architecture.md`.
#[derive(Debug)]
struct Table {
    /// Each row's key, with the rows it may use (already expanded: `model/*`, `*`).
    may_use: BTreeMap<Key, BTreeSet<Key>>,
    /// Each row's "may use" cell as written, for messages.
    written: BTreeMap<Key, String>,
}

/// The key of a module name as the table writes it: `world/`, `model/traffic`, `lib.rs`.
fn key_of(name: &str) -> Key {
    let name = name.trim().trim_end_matches('/');
    match name {
        "lib.rs" => Vec::new(),
        "main.rs" => vec!["main.rs".to_string()],
        _ => name
            .trim_end_matches(".rs")
            .split(['/', ':'])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// How the table writes `key`.
fn show_key(key: &[String]) -> String {
    if key.is_empty() {
        "lib.rs".into()
    } else {
        key.join("/")
    }
}

/// The backticked words of a cell.
fn backticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Reads the table under the heading "Layout" of `doc`: rows `| `module` | owns | may use |
/// must not know about |`. Panics (a broken document is a failed test) on a malformed table.
fn parse_table(doc: &str) -> Table {
    let mut lines = doc
        .lines()
        .skip_while(|l| !(l.starts_with("## ") && l.contains("Layout")))
        .skip(1)
        .skip_while(|l| !l.trim_start().starts_with('|'))
        .take_while(|l| l.trim_start().starts_with('|'));
    let cells = |line: &str| -> Vec<String> {
        let line = line.trim().trim_start_matches('|').trim_end_matches('|');
        line.split('|').map(|c| c.trim().to_string()).collect()
    };
    let header = cells(lines.next().expect("the Layout section has a table"));
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("the layer table has no column \"{name}\": {header:?}"))
    };
    let (module, may, must_not) = (
        column("module"),
        column("may use"),
        column("must not know about"),
    );
    let mut rows: Vec<(Key, Vec<String>, Vec<String>, String)> = Vec::new();
    for line in lines.skip(1) {
        let c = cells(line);
        let names = backticked(&c[module]);
        assert_eq!(names.len(), 1, "a row names one module: {line}");
        rows.push((
            key_of(names[0]),
            backticked(&c[may])
                .into_iter()
                .map(str::to_string)
                .collect(),
            backticked(&c[must_not])
                .into_iter()
                .map(str::to_string)
                .collect(),
            c[may].clone(),
        ));
    }
    assert!(!rows.is_empty(), "the layer table has no rows");
    let keys: Vec<Key> = rows.iter().map(|r| r.0.clone()).collect();
    let expand = |name: &str, row: &Key| -> Vec<Key> {
        if name == "*" {
            return keys.clone();
        }
        if let Some(prefix) = name.strip_suffix("/*") {
            let prefix = key_of(prefix);
            let found: Vec<Key> = keys
                .iter()
                .filter(|k| k.len() > prefix.len() && k.starts_with(&prefix))
                .cloned()
                .collect();
            assert!(
                !found.is_empty(),
                "{}: no row matches `{name}`",
                show_key(row)
            );
            return found;
        }
        let key = key_of(name);
        assert!(
            keys.contains(&key),
            "{}: `{name}` is not a row of the table",
            show_key(row)
        );
        vec![key]
    };
    let mut may_use = BTreeMap::new();
    let mut written = BTreeMap::new();
    for (key, may, must_not, cell) in &rows {
        assert!(!may_use.contains_key(key), "{} has two rows", show_key(key));
        let allowed: BTreeSet<Key> = may.iter().flat_map(|m| expand(m, key)).collect();
        // The two columns say the same from both sides: nothing may be in both.
        for m in must_not {
            for k in expand(m, key) {
                assert!(
                    !allowed.contains(&k) || k == *key,
                    "{}: `{}` is both in \"may use\" and in \"must not know about\"",
                    show_key(key),
                    show_key(&k)
                );
            }
        }
        may_use.insert(key.clone(), allowed);
        written.insert(key.clone(), cell.clone());
    }
    Table { may_use, written }
}

impl Table {
    /// The row a module belongs to: the longest row key that is a prefix of its path (`lib.rs`
    /// is the crate root's own row, no module's prefix).
    fn row_of(&self, module: &[String]) -> Option<&Key> {
        if module.is_empty() {
            return self.may_use.keys().find(|k| k.is_empty());
        }
        self.may_use
            .keys()
            .filter(|k| !k.is_empty() && module.starts_with(k))
            .max_by_key(|k| k.len())
    }

    fn allows(&self, from: &Key, to: &Key) -> bool {
        from == to || self.may_use[from].contains(to)
    }
}

// ---------------------------------------------------------------------------------------------
// The tokenizer.

/// A token of Rust source, with its line (from 1).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// The tokens of `text` that paths are made of: identifiers and punctuation. Comments (line,
/// block, nested, doc), string literals (plain, raw, byte, C), character literals and lifetimes
/// are skipped; numbers come out as identifiers, harmlessly.
fn tokenize(text: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < n {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if at(i, "//") {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < n {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_start(&chars, i) {
            // r"..", r#".."#, br"..", cr#".."#: no escapes, ends at `"` and as many `#`.
            let hashes = chars[i..i + len].iter().filter(|c| **c == '#').count();
            i += len;
            while i < n
                && !(chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')))
            {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 1 + hashes;
        } else if c == '"' || ((c == 'b' || c == 'c') && chars.get(i + 1) == Some(&'"')) {
            i += if c == '"' { 1 } else { 2 };
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(chars.get(i) == Some(&'\n'));
                i += 1;
            }
            i += 1;
        } else if c == '\'' || (c == 'b' && chars.get(i + 1) == Some(&'\'')) {
            // A character literal ('a', '\n', '\u{7FFF}', b'x') or a lifetime ('a, 'static).
            let start = if c == '\'' { i + 1 } else { i + 2 };
            if chars.get(start) == Some(&'\\') {
                // Past the backslash and the escaped character (which may be a quote).
                let mut j = start + 2;
                while j < n && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if chars.get(start + 1) == Some(&'\'') {
                i = start + 2;
            } else {
                // A lifetime: skip the quote, its name comes out as an identifier.
                i = start;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let mut word: String = chars[start..i].iter().collect();
            // A raw identifier, r#type, is the identifier.
            if word == "r" && chars.get(i) == Some(&'#') {
                i += 1;
                let s = i;
                while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                word = chars[s..i].iter().collect();
            }
            out.push((Tok::Ident(word), line));
        } else if at(i, "::") {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// The length of a raw string's opening (`r"`, `r##"`, `br#"`, `cr"`) at `i`, if one starts
/// there (and `i` does not continue an identifier).
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some(j + 1 - i)
}

// ---------------------------------------------------------------------------------------------
// Paths.

/// A path as written in a file: its segments (from `crate`, `super`, `fleetsim` or, in a `use`
/// of the crate root, a module's name), the module it was written in, and its line.
#[derive(Debug, Clone, PartialEq)]
struct Written {
    segments: Vec<String>,
    /// The name it binds, for a `use` (its last segment, or its `as` name).
    binds: Option<String>,
    module: Vec<String>,
    line: usize,
}

/// Reads a use tree at `toks[*i]` below `prefix`, pushing each leaf path; `*i` ends after it.
fn use_tree(
    toks: &[(Tok, usize)],
    i: &mut usize,
    prefix: Vec<String>,
    module: &[String],
    out: &mut Vec<Written>,
) {
    let mut path = prefix;
    let line = toks.get(*i).map_or(0, |t| t.1);
    loop {
        match toks.get(*i).map(|t| &t.0) {
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i).map(|t| &t.0) {
                        Some(Tok::Punct('}')) | None => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        _ => use_tree(toks, i, path.clone(), module, out),
                    }
                }
            }
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push(Written {
                    segments: path,
                    binds: None,
                    module: module.to_vec(),
                    line,
                });
                return;
            }
            Some(Tok::Ident(word)) if word != "as" => {
                if word != "self" || path.is_empty() {
                    path.push(word.clone());
                }
                *i += 1;
                if matches!(toks.get(*i).map(|t| &t.0), Some(Tok::PathSep)) {
                    *i += 1;
                    continue;
                }
                let mut binds = path.last().cloned();
                if matches!(toks.get(*i).map(|t| &t.0), Some(Tok::Ident(w)) if w == "as") {
                    if let Some((Tok::Ident(alias), _)) = toks.get(*i + 1) {
                        binds = Some(alias.clone());
                    }
                    *i += 2;
                }
                out.push(Written {
                    segments: path,
                    binds,
                    module: module.to_vec(),
                    line,
                });
                return;
            }
            _ => return,
        }
    }
}

/// Every path of `text` (the file of module `module`; `crate_name` is `fleetsim` for the
/// binary) that names a module of the crate: `crate::`, `super::` and `crate_name::` paths
/// anywhere, and, in the crate root, `use` items of its own modules (`pub use metrics::X`).
/// Inline modules (`mod tests { … }`) are followed, so that `super::` resolves from them.
fn paths_of(
    text: &str,
    module: &[String],
    crate_name: Option<&str>,
    root_modules: &BTreeSet<String>,
) -> Vec<Written> {
    let toks = tokenize(text);
    let mut out = Vec::new();
    // Inline modules open at a brace depth: (name, depth inside).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let here = |inline: &[(String, usize)]| -> Vec<String> {
        let mut m = module.to_vec();
        m.extend(inline.iter().map(|(n, _)| n.clone()));
        m
    };
    let starts_path = |word: &str| word == "crate" || word == "super" || crate_name == Some(word);
    let mut i = 0;
    while i < toks.len() {
        let (tok, _) = &toks[i];
        match tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d > depth) {
                    inline.pop();
                }
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Punct('{'), _))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    inline.push((name.clone(), depth + 1));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(w) if w == "use" => {
                let mut j = i + 1;
                let m = here(&inline);
                // `use ::std`, `use std::…`: only the crate's own paths count.
                let first = match toks.get(j) {
                    Some((Tok::Ident(f), _)) => Some(f.clone()),
                    Some((Tok::Punct('{'), _)) => Some(String::new()),
                    _ => None,
                };
                let own = first.as_deref().is_some_and(|f| {
                    starts_path(f)
                        || (module.is_empty() && (f.is_empty() || root_modules.contains(f)))
                });
                if own {
                    use_tree(&toks, &mut j, Vec::new(), &m, &mut out);
                    i = j;
                    continue;
                }
            }
            Tok::Ident(w)
                if starts_path(w)
                    && matches!(toks.get(i + 1), Some((Tok::PathSep, _)))
                    && !matches!(
                        i.checked_sub(1).map(|p| &toks[p].0),
                        Some(Tok::Punct('$')) | Some(Tok::PathSep)
                    ) =>
            {
                let mut j = i;
                let mut segments = Vec::new();
                let line = toks[i].1;
                loop {
                    match toks.get(j) {
                        Some((Tok::Ident(s), _)) => segments.push(s.clone()),
                        Some((Tok::Punct('{'), _)) => {
                            // `crate::{a, b}` outside a `use` (a macro's input): a use tree.
                            use_tree(&toks, &mut j, segments.clone(), &here(&inline), &mut out);
                            segments.clear();
                            break;
                        }
                        _ => break,
                    }
                    j += 1;
                    if !matches!(toks.get(j), Some((Tok::PathSep, _))) {
                        break;
                    }
                    j += 1;
                    // `Vec::<T>` and the like: a generic argument ends the path.
                    if matches!(toks.get(j), Some((Tok::Punct('<'), _))) {
                        break;
                    }
                }
                if !segments.is_empty() {
                    out.push(Written {
                        segments,
                        binds: None,
                        module: here(&inline),
                        line,
                    });
                }
                i = j.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The path `w` names, from the crate root: `super` and `crate` resolved against the module it
/// was written in; `None` for a path that does not leave its own module (`self::…`).
fn absolute(w: &Written, crate_name: Option<&str>) -> Option<Vec<String>> {
    let mut segs = w.segments.iter().peekable();
    let mut base: Vec<String>;
    match segs.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segs.next();
            base = Vec::new();
        }
        Some(s) if crate_name == Some(s) => {
            segs.next();
            base = Vec::new();
        }
        Some("super") => {
            base = w.module.clone();
            while segs.peek().map(|s| s.as_str()) == Some("super") {
                segs.next();
                base.pop();
            }
        }
        Some("self") => return None,
        // A `use` in the crate root, of its own module.
        _ => base = w.module.clone(),
    }
    base.extend(segs.cloned());
    Some(base)
}

// ---------------------------------------------------------------------------------------------
// The check.

/// An import the table forbids, or a table or shim that does not fit the tree.
#[derive(Debug, Clone, PartialEq)]
struct Problem {
    file: String,
    line: usize,
    what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.what)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.what)
        }
    }
}

/// The module path of a file of `src/` (`src/model/fleet/mod.rs` is `model::fleet`;
/// `src/lib.rs` the root, `[]`; `src/main.rs` the binary, `["main.rs"]`).
fn module_of_file(file: &str) -> Vec<String> {
    let rel = file.strip_prefix("src/").unwrap_or(file);
    if rel == "main.rs" {
        return vec!["main.rs".into()];
    }
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn segments(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

/// Every problem of `files` (path relative to the repository, text) against the table in `doc`,
/// with `shims` as the only exceptions.
fn check(doc: &str, files: &[(String, String)], shims: &[Shim]) -> Vec<Problem> {
    let table = parse_table(doc);
    let mut problems = Vec::new();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(f, _)| module_of_file(f)).collect();
    let root_modules: BTreeSet<String> = modules
        .iter()
        .filter(|m| m.len() == 1 && m[0] != "main.rs")
        .map(|m| m[0].clone())
        .collect();
    // What the crate root re-exports: name -> where it points.
    let mut reexports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some((_, lib)) = files.iter().find(|(f, _)| f == "src/lib.rs") {
        for w in paths_of(lib, &[], None, &root_modules) {
            if let (Some(name), Some(path)) = (&w.binds, absolute(&w, None)) {
                if path.first().is_some_and(|f| root_modules.contains(f)) {
                    reexports.insert(name.clone(), path);
                }
            }
        }
    }
    // The longest prefix of `path` that is a module of `src/`, if any.
    let module_prefix = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|k| path[..k].to_vec())
            .find(|p| modules.contains(p))
    };
    // `path` with the shims applied, until none applies.
    let through_shims = |mut path: Vec<String>| -> Vec<String> {
        for _ in 0..8 {
            let Some(s) = shims.iter().find(|s| path.starts_with(&segments(s.old))) else {
                break;
            };
            let old = segments(s.old).len();
            let mut new = segments(s.new);
            new.extend(path.drain(old..));
            path = new;
        }
        path
    };
    let mut shims_seen = vec![false; shims.len()];
    for (file, text) in files {
        let module = module_of_file(file);
        let Some(from) = table.row_of(&module).cloned() else {
            problems.push(Problem {
                file: file.clone(),
                line: 0,
                what: format!(
                    "the module `{}` has no row in the layer table: add one (what it owns, what it may use)",
                    show_key(&module)
                ),
            });
            continue;
        };
        let crate_name = (file == "src/main.rs").then_some("fleetsim");
        let written = paths_of(
            text,
            if crate_name.is_some() { &[] } else { &module },
            crate_name,
            &root_modules,
        );
        // A marked line must be the `pub use` of a listed shim: the path it re-exports is the
        // shim's new place (a formatter that moves a comment onto another line is caught too).
        let mut marked = BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            if !line.contains(SHIM_MARKER) {
                continue;
            }
            marked.insert(n + 1);
            let on_line: Vec<Vec<String>> = written
                .iter()
                .filter(|w| w.line == n + 1)
                .filter_map(|w| absolute(w, crate_name))
                .collect();
            let mut listed = false;
            for (k, s) in shims.iter().enumerate() {
                if s.at == file && on_line.iter().any(|p| p.starts_with(&segments(s.new))) {
                    shims_seen[k] = true;
                    listed = true;
                }
            }
            if !listed {
                problems.push(Problem {
                    file: file.clone(),
                    line: n + 1,
                    what: "a line marked as a shim that is not the `pub use` of a shim listed in \
                           SHIMS (tests/integration/layers.rs)"
                        .into(),
                });
            }
        }
        for w in written {
            let Some(path) = absolute(&w, crate_name) else {
                continue;
            };
            let path = through_shims(path);
            // A shim's own line points at its new place from the old one.
            if marked.contains(&w.line)
                && shims
                    .iter()
                    .any(|s| s.at == file && path.starts_with(&segments(s.new)))
            {
                continue;
            }
            let shown = w.segments.join("::");
            // The crate root's own items and re-exports: the public API.
            let targets: Vec<Key> = match path.first() {
                None => vec![Vec::new()],
                Some(first) if !root_modules.contains(first) => {
                    let mut t = vec![Vec::new()];
                    let to = reexports.get(first).map(|to| through_shims(to.clone()));
                    if let Some(row) = to
                        .and_then(|to| module_prefix(&to))
                        .and_then(|m| table.row_of(&m))
                    {
                        t.push(row.clone());
                    }
                    t
                }
                Some(_) => match module_prefix(&path).and_then(|m| table.row_of(&m)) {
                    Some(row) => vec![row.clone()],
                    None => {
                        problems.push(Problem {
                            file: file.clone(),
                            line: w.line,
                            what: format!("`{shown}`: its module has no row in the layer table"),
                        });
                        continue;
                    }
                },
            };
            if targets.iter().any(|t| table.allows(&from, t)) {
                continue;
            }
            problems.push(Problem {
                file: file.clone(),
                line: w.line,
                what: format!(
                    "`{shown}` reaches `{}`, which `{}` may not use (it may use: {})",
                    show_key(targets.last().expect("a target")),
                    show_key(&from),
                    table.written[&from]
                ),
            });
        }
    }
    for (k, s) in shims.iter().enumerate() {
        if !shims_seen[k] {
            problems.push(Problem {
                file: s.at.to_string(),
                line: 0,
                what: format!(
                    "the shim {} -> {} is listed but {} holds no `pub use` of it marked `{SHIM_MARKER}`: remove it from SHIMS",
                    s.old, s.new, s.at
                ),
            });
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// The checker's own tests, on fixtures.

/// A table of three layers: `low` below `mid` below `top`, and the crate root.
const FIXTURE_DOC: &str = "\
# fixture

## Layout (src/)
| module | owns | may use | must not know about |
|---|---|---|---|
| `lib.rs` | the root | `*` | |
| `low` | the bottom | nothing | `mid`, `top` |
| `mid/` | the middle | `low` | `top` |
| `mid/inner` | a part of the middle | `low`, `mid` | `top` |
| `top` | the top | `low`, `mid/*`, `mid` | |
| `main.rs` | the binary | `lib.rs`, `top` | `low` |

## Something else
| not | a | layer |
";

fn fixture(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

fn lib_rs() -> (&'static str, &'static str) {
    (
        "src/lib.rs",
        "pub mod low;\npub mod mid;\npub mod top;\npub use top::Api;\npub use mid::Thing as Renamed;\npub fn run() {}\n",
    )
}

#[test]
fn a_planted_violation_is_named_with_its_file_line_and_rule() {
    let files = fixture(&[
        lib_rs(),
        (
            "src/low.rs",
            "//! The bottom.\n\nuse std::fmt;\n\nuse crate::mid::Thing;\n",
        ),
        (
            "src/mid/mod.rs",
            "pub mod inner;\nuse crate::low::Base;\npub struct Thing;\n",
        ),
        (
            "src/mid/inner.rs",
            "use super::Thing;\nuse super::super::low;\n",
        ),
        (
            "src/top.rs",
            "use crate::{low::Base, mid::{self, inner::X}};\n",
        ),
        (
            "src/main.rs",
            "use fleetsim::top::Api;\nfn main() { fleetsim::run(); }\n",
        ),
    ]);
    let problems = check(FIXTURE_DOC, &files, &[]);
    assert_eq!(
        problems,
        vec![Problem {
            file: "src/low.rs".into(),
            line: 5,
            what:
                "`crate::mid::Thing` reaches `mid`, which `low` may not use (it may use: nothing)"
                    .into(),
        }],
        "{problems:#?}"
    );
    assert_eq!(
        problems[0].to_string(),
        "src/low.rs:5: `crate::mid::Thing` reaches `mid`, which `low` may not use (it may use: nothing)"
    );
}

#[test]
fn paths_in_code_super_from_inline_modules_and_the_binary_are_judged() {
    let files = fixture(&[
        lib_rs(),
        (
            "src/low.rs",
            "pub struct Base;\nmod tests {\n    use super::super::top;\n}\n",
        ),
        (
            "src/mid/mod.rs",
            "pub mod inner;\nfn f() -> u32 {\n    crate::top::VALUE\n}\n",
        ),
        ("src/mid/inner.rs", ""),
        ("src/top.rs", ""),
        (
            "src/main.rs",
            "fn main() {\n    let x = fleetsim::low::Base;\n}\n",
        ),
    ]);
    let lines: Vec<(String, usize)> = check(FIXTURE_DOC, &files, &[])
        .into_iter()
        .map(|p| (p.file, p.line))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("src/low.rs".into(), 3),
            ("src/mid/mod.rs".into(), 3),
            ("src/main.rs".into(), 2),
        ]
    );
}

#[test]
fn comments_strings_and_characters_hide_no_path_and_fake_none() {
    let text = r####"
// crate::top::A
/* crate::top::B /* nested crate::top::C */ still a comment crate::top::D */
/// crate::top::E
const S: &str = "crate::top::F \" crate::top::G";
const R: &str = r#"crate::top::H " crate::top::I"#;
const B: &[u8] = b"crate::top::J";
const C: char = '"';
const Q: char = '\'';
fn f<'a>(x: &'a str) -> &'a str { x }
pub(crate) fn g() {}
macro_rules! m { () => { $crate::top::K } }
use crate::mid::Seen;
"####;
    let found: Vec<String> = paths_of(text, &["low".to_string()], None, &BTreeSet::new())
        .into_iter()
        .map(|w| format!("{}@{}", w.segments.join("::"), w.line))
        .collect();
    assert_eq!(found, vec!["crate::mid::Seen@13".to_string()]);
}

#[test]
fn use_trees_are_followed_to_every_leaf() {
    let text = "use crate::{a::{b, c::D as E}, f::*, g::{self}};\nuse super::h;\n";
    let found: Vec<(String, Option<String>)> = paths_of(
        text,
        &["x".to_string(), "y".to_string()],
        None,
        &BTreeSet::new(),
    )
    .into_iter()
    .map(|w| (w.segments.join("::"), w.binds))
    .collect();
    let s = |p: &str, b: Option<&str>| (p.to_string(), b.map(str::to_string));
    assert_eq!(
        found,
        vec![
            s("crate::a::b", Some("b")),
            s("crate::a::c::D", Some("E")),
            s("crate::f", None),
            s("crate::g", Some("g")),
            s("super::h", Some("h")),
        ]
    );
}

#[test]
fn the_crate_roots_reexports_count_as_the_api_or_as_what_they_name() {
    // `top` may not use the root (`lib.rs` is not in its list) but may use what `Renamed`
    // names (`mid`); `low` may use neither.
    let files = fixture(&[
        lib_rs(),
        ("src/low.rs", "use crate::Renamed;\n"),
        ("src/mid/mod.rs", "pub mod inner;\n"),
        ("src/mid/inner.rs", ""),
        (
            "src/top.rs",
            "use crate::Renamed;\nfn f() { crate::run() }\n",
        ),
        ("src/main.rs", "use fleetsim::Renamed;\n"),
    ]);
    let problems: Vec<(String, usize)> = check(FIXTURE_DOC, &files, &[])
        .into_iter()
        .map(|p| (p.file, p.line))
        .collect();
    assert_eq!(
        problems,
        vec![("src/low.rs".into(), 1), ("src/top.rs".into(), 2)]
    );
}

#[test]
fn a_shim_is_judged_by_where_it_points_and_must_be_listed() {
    // `mid::Old` moved to `low::New`; the shim in `mid/mod.rs` keeps the old path.
    let files = fixture(&[
        lib_rs(),
        (
            "src/low.rs",
            "pub struct New;\n",
        ),
        (
            "src/mid/mod.rs",
            "pub mod inner;\npub use crate::low::New as Old; // shim: remove after issue 15 merges\n",
        ),
        ("src/mid/inner.rs", "use crate::mid::Old;\n"),
        ("src/top.rs", "use crate::mid::Old;\n"),
        ("src/main.rs", ""),
    ]);
    let shim = Shim {
        at: "src/mid/mod.rs",
        old: "mid::Old",
        new: "low::New",
    };
    assert_eq!(check(FIXTURE_DOC, &files, &[shim]), vec![]);
    // Unlisted, the marked line is named.
    let problems = check(FIXTURE_DOC, &files, &[]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(
        (problems[0].file.as_str(), problems[0].line),
        ("src/mid/mod.rs", 2)
    );
    // A shim from a lower layer up: its own line passes, a user below it is judged by the
    // new place (here `low`, which may not use `top`).
    let up = fixture(&[
        lib_rs(),
        (
            "src/low.rs",
            "pub use crate::top::Moved as Old; // shim: remove after issue 15 merges\n",
        ),
        ("src/mid/mod.rs", "pub mod inner;\nuse crate::low::Old;\n"),
        ("src/mid/inner.rs", ""),
        ("src/top.rs", "use crate::low::Old;\n"),
        ("src/main.rs", ""),
    ]);
    let shim = Shim {
        at: "src/low.rs",
        old: "low::Old",
        new: "top::Moved",
    };
    let problems: Vec<(String, usize)> = check(FIXTURE_DOC, &up, &[shim])
        .into_iter()
        .map(|p| (p.file, p.line))
        .collect();
    assert_eq!(problems, vec![("src/mid/mod.rs".into(), 2)]);
    // A listed shim that is gone is named too.
    let gone = Shim {
        at: "src/top.rs",
        old: "top::Gone",
        new: "low::New",
    };
    let listed = Shim {
        at: "src/mid/mod.rs",
        old: "mid::Old",
        new: "low::New",
    };
    let problems = check(FIXTURE_DOC, &files, &[listed, gone]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].what.contains("top::Gone"), "{}", problems[0]);
}

#[test]
fn a_marker_on_a_line_that_is_not_the_shim_is_refused() {
    // As a formatter sorting `use` items may leave a trailing comment behind.
    let files = fixture(&[
        lib_rs(),
        ("src/low.rs", "pub struct New;\n"),
        (
            "src/mid/mod.rs",
            "pub mod inner;\npub use crate::low::New as Old;\npub use inner::X; // shim: remove after issue 15 merges\n",
        ),
        ("src/mid/inner.rs", "pub struct X;\n"),
        ("src/top.rs", ""),
        ("src/main.rs", ""),
    ]);
    let shim = Shim {
        at: "src/mid/mod.rs",
        old: "mid::Old",
        new: "low::New",
    };
    let lines: Vec<(String, usize)> = check(FIXTURE_DOC, &files, &[shim])
        .into_iter()
        .map(|p| (p.file, p.line))
        .collect();
    assert_eq!(
        lines,
        vec![("src/mid/mod.rs".into(), 3), ("src/mid/mod.rs".into(), 0)]
    );
}

#[test]
fn a_module_without_a_row_and_a_row_against_itself_are_refused() {
    let files = fixture(&[
        lib_rs(),
        ("src/low.rs", ""),
        ("src/mid/mod.rs", "pub mod inner;\n"),
        ("src/mid/inner.rs", ""),
        ("src/top.rs", ""),
        ("src/main.rs", ""),
        ("src/stray.rs", "use crate::low::X;\n"),
    ]);
    let problems = check(FIXTURE_DOC, &files, &[]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].what.contains("`stray` has no row"),
        "{}",
        problems[0]
    );
    let contradictory = FIXTURE_DOC.replace(
        "| `mid/` | the middle | `low` | `top` |",
        "| `mid/` | the middle | `low` | `low` |",
    );
    let result = std::panic::catch_unwind(|| parse_table(&contradictory));
    assert!(result.is_err(), "a row may not both use and not know `low`");
}
