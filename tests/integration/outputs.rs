//! Result folders (issue 14, items 9, 10, 11 and 15): all-or-nothing folders, one writer at a
//! time, never a folder fleetsim did not write deleted; run names checked before simulating;
//! `merge` trusting nothing it reads; CSV text cells neutralised; exit codes that tell causes
//! apart; and a fault test that kills runs at many moments and checks the folder each time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::files_under;
use fleetsim::layout;

/// The binary under test.
fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_fleetsim")
}

fn fleetsim(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let out = fleetsim(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Four single-slot servers behind random dispatch, a least-connections variant and a bigger
/// fleet; a scheduled action so that scaling_events.csv has rows.
const SCENARIO: &str = r#"
name = "outputs"
duration = "10m"
seed = 100
[traffic]
rate = "3.2/s"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 4
[pool.autoscaling]
min = 1
max = 6
scheduled = { action = [{ at = "60s", desired = 5 }] }
[balancer]
algorithm = "random"
[[class]]
name = "a"
service = { distribution = "exponential", mean = "1s" }
[slo]
p99 = "1h"
[[variant]]
name = "least_conn"
balancer.algorithm = "least_connections"
[[variant]]
name = "bigger"
pool = [{ name = "p", instances = 5 }]
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_reused_out_holds_only_the_new_runs_files() {
    let tmp = tempfile::tempdir().unwrap();
    let with_variants = write(tmp.path(), "v.toml", SCENARIO);
    let single = write(
        tmp.path(),
        "s.toml",
        &SCENARIO[..SCENARIO.find("[[variant]]").unwrap()],
    );
    let out = tmp.path().join("out");
    ok(&["run", &with_variants, "--out", s(&out)]);
    assert!(out.join("least_conn/summary.json").is_file());
    ok(&["run", &single, "--out", s(&out)]);
    // The variants' folders and the comparison are gone with the run that wrote them.
    let fresh = tmp.path().join("fresh");
    ok(&["run", &single, "--out", s(&fresh)]);
    assert_eq!(files_under(&out), files_under(&fresh));
    assert!(!out.join("least_conn").exists() && !out.join("comparison.csv").exists());
    // Nothing of fleetsim's is left beside the folder.
    assert_eq!(entries(tmp.path()), ["fresh", "out", "s.toml", "v.toml"]);
}

#[test]
fn a_folder_fleetsim_did_not_write_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let mine = tmp.path().join("thesis");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("chapter1.tex"), "years of work").unwrap();
    for command in ["run", "check"] {
        let out = fleetsim(&[command, &file, "--out", s(&mine)]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let e = stderr(&out);
        assert!(
            e.contains("is not a fleetsim result folder")
                && e.contains("chapter1.tex")
                && e.contains("help: "),
            "{e}"
        );
    }
    // A file as --out is refused the same way.
    let file_out = tmp.path().join("notes.txt");
    std::fs::write(&file_out, "x").unwrap();
    let out = fleetsim(&["run", &file, "--out", s(&file_out)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(entries(&mine), ["chapter1.tex"]);
    assert_eq!(std::fs::read(file_out).unwrap(), b"x");
    assert_eq!(entries(tmp.path()), ["notes.txt", "thesis", "v.toml"]);
    // An empty folder is taken.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ok(&["run", &file, "--out", s(&empty)]);
    assert!(empty.join(layout::MARKER).is_file());
}

#[test]
fn exit_codes_tell_causes_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let out = tmp.path().join("out");
    // 0: success.
    assert_eq!(ok(&["run", &file, "--out", s(&out)]).status.code(), Some(0));
    // 1: a gate failed.
    let strict = write(
        tmp.path(),
        "strict.toml",
        &SCENARIO.replace("p99 = \"1h\"", "p99 = \"1ms\""),
    );
    let failed = fleetsim(&["check", &strict, "--out", s(&tmp.path().join("c"))]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    // 2: bad input, and bad usage.
    let broken = write(tmp.path(), "broken.toml", "name = \"x\"\nduration = 3\n");
    assert_eq!(fleetsim(&["run", &broken]).status.code(), Some(2));
    assert_eq!(fleetsim(&["run"]).status.code(), Some(2));
    // 3: the output folder cannot be created (a path under a regular file: a failure of the
    // file system that does not depend on the user, as permissions would for root).
    let under_file = tmp.path().join("v.toml").join("out");
    let e = fleetsim(&["run", &file, "--out", s(&under_file)]);
    assert_eq!(e.status.code(), Some(3), "{}", stderr(&e));
    assert!(stderr(&e).contains("help: "), "{}", stderr(&e));
    let e = fleetsim(&["merge", "--out", s(&under_file), s(&out)]);
    assert_eq!(e.status.code(), Some(3), "{}", stderr(&e));
    let e = fleetsim(&["compare", s(&out), s(&out), "--out", s(&under_file)]);
    assert_eq!(e.status.code(), Some(3), "{}", stderr(&e));
    // 3: another run holds the folder (this test holds its lock as a run does).
    let before = files_under(&out);
    let holder = fleetsim::report::staging::Staging::begin(&out).unwrap();
    for args in [
        vec!["run", &file, "--out", s(&out)],
        vec!["check", &file, "--out", s(&out)],
        vec!["report", s(&out)],
    ] {
        let e = fleetsim(&args);
        assert_eq!(e.status.code(), Some(3), "{args:?}: {}", stderr(&e));
        assert!(
            stderr(&e).contains("is being written by another fleetsim run"),
            "{}",
            stderr(&e)
        );
    }
    drop(holder);
    assert_eq!(files_under(&out), before);
    // The codes are documented where a user looks.
    let help = String::from_utf8(ok(&["--help"]).stdout).unwrap();
    for code in ["0 ", "1 ", "2 ", "3 ", "130"] {
        assert!(help.contains(&format!("\n  {code}")), "{code} in\n{help}");
    }
}

/// A run long enough to be interrupted after it has started writing.
fn long_scenario(dir: &Path) -> String {
    write(
        dir,
        "long.toml",
        &SCENARIO.replace("duration = \"10m\"", "duration = \"12h\""),
    )
}

/// Waits until `parent` holds a staging folder for `out_name`, or `child` ended; true if it
/// appeared.
fn wait_for_staging(parent: &Path, out_name: &str, child: &mut std::process::Child) -> bool {
    let prefix = format!(".{out_name}.fleetsim-staging-");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if entries(parent).iter().any(|e| e.starts_with(&prefix)) {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

fn signal(child: &std::process::Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid; it touches no memory.
    unsafe {
        libc::kill(child.id() as libc::pid_t, sig);
    }
}

#[test]
fn an_interrupted_run_exits_130_and_leaves_the_previous_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let long = long_scenario(tmp.path());
    let parent = tmp.path().join("p");
    let out = parent.join("out");
    ok(&["run", &file, "--out", s(&out)]);
    let before = files_under(&out);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let mut child = Command::new(bin())
            .args(["run", &long, "--out", s(&out), "--threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(wait_for_staging(&parent, "out", &mut child));
        signal(&child, sig);
        let status = child.wait_with_output().unwrap();
        assert_eq!(status.status.code(), Some(130), "{}", stderr(&status));
        assert_eq!(files_under(&out), before);
        // No staging folder, no lock file.
        assert_eq!(entries(&parent), ["out"]);
    }
}

#[test]
fn an_error_after_staging_began_leaves_no_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let parent = tmp.path().join("p");
    let out = parent.join("out");
    ok(&["run", &file, "--out", s(&out)]);
    // A result folder whose run lost its timeline: `report` copies the folder into its staging
    // folder, fails drawing that run's charts, and must leave the folder as it was.
    std::fs::remove_file(out.join("bigger/timeline.csv")).unwrap();
    let before = files_under(&out);
    let e = fleetsim(&["report", s(&out)]);
    assert_eq!(e.status.code(), Some(2), "{}", stderr(&e));
    assert_eq!(files_under(&out), before);
    assert_eq!(entries(&parent), ["out"]);
    // A merge that fails on its last shard, after copying the others' files.
    let shards: Vec<PathBuf> = (0..2).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        ok(&["run", &file, "--shard", &format!("{i}/2"), "--out", s(dir)]);
    }
    std::fs::write(shards[1].join("least_conn/summary.json"), "{").unwrap();
    let merged = parent.join("merged");
    let e = fleetsim(&["merge", "--out", s(&merged), s(&shards[0]), s(&shards[1])]);
    assert_eq!(e.status.code(), Some(2), "{}", stderr(&e));
    assert_eq!(entries(&parent), ["out"]);
}

#[test]
fn report_check_and_merge_write_whole_folders_too() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let out = tmp.path().join("out");
    ok(&["run", &file, "--out", s(&out)]);
    let run = files_under(&out);
    // `report` remakes the same files.
    ok(&["report", s(&out)]);
    assert_eq!(files_under(&out), run);
    // `check` writes what `run` does, and its verdict.
    let checked = tmp.path().join("checked");
    ok(&["check", &file, "--out", s(&checked)]);
    let c = files_under(&checked);
    assert!(c.contains_key(layout::SLO_MD) && c.contains_key(layout::MARKER));
    assert_eq!(entries(tmp.path()), ["checked", "out", "v.toml"]);
}

/// Every name a full result folder holds, but the runs' and replications' folders, is one the
/// writers take from `report::layout`, so the names a run may not take cover everything
/// written (a writer that adds a file without listing it fails here).
#[test]
fn every_name_written_is_in_the_layouts_list() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let runs = ["base", "least_conn", "bigger"];
    let mut folders = Vec::new();
    for (name, extra) in [
        ("flat", None),
        ("variants", Some(vec![])),
        ("reps", Some(vec!["--replications", "2"])),
        ("shard", Some(vec!["--replications", "2", "--shard", "0/2"])),
    ] {
        let out = tmp.path().join(name);
        let scenario = if extra.is_none() {
            write(
                tmp.path(),
                "single.toml",
                &SCENARIO[..SCENARIO.find("[[variant]]").unwrap()],
            )
        } else {
            file.clone()
        };
        let mut args = vec!["check", scenario.as_str(), "--out", s(&out)];
        if let Some(extra) = &extra {
            if extra.contains(&"--shard") {
                args[0] = "run";
            }
            args.extend(extra);
        }
        let o = fleetsim(&args);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
        if !args.contains(&"--shard") {
            ok(&["report", s(&out)]);
        }
        folders.push(out);
    }
    let mut seen = std::collections::BTreeSet::new();
    for root in &folders {
        for (path, _) in files_under(root) {
            let parts: Vec<&str> = path.split('/').collect();
            for (depth, part) in parts.iter().enumerate() {
                let is_run = depth == 0 && runs.contains(part);
                let is_rep = depth <= 1 && layout::is_replication_dir(part);
                let in_charts = depth > 0 && parts[depth - 1] == layout::CHARTS_DIR;
                if is_run || is_rep || in_charts {
                    continue;
                }
                assert!(
                    layout::WRITTEN.contains(part),
                    "{part} (in {path}) is written but not listed in report::layout::WRITTEN"
                );
                seen.insert(part.to_string());
            }
        }
    }
    // And the list has nothing that is never written (but regions.csv, written with regions).
    for name in layout::WRITTEN {
        assert!(
            seen.contains(*name) || *name == layout::REGIONS_CSV,
            "{name} is listed but never written"
        );
    }
}

/// Variants named like the files of a result folder, in any case, or like one another in
/// another case, or naming a pool that does not exist, are refused before anything runs.
#[test]
fn run_names_and_variant_elements_are_checked_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let base = &SCENARIO[..SCENARIO.find("[[variant]]").unwrap()];
    let cases: &[(&str, &[&str])] = &[
        (
            "[[variant]]\nname = \"Report.HTML\"\nseed = 2\n",
            &["variant[0].name", "report.html", "help: "],
        ),
        (
            "[[variant]]\nname = \"rep-1\"\nseed = 2\n",
            &["variant[0].name", "replication", "help: "],
        ),
        (
            "[[variant]]\nname = \"BASE\"\nseed = 2\n",
            &["variant[0].name", "base", "help: "],
        ),
        (
            "[[variant]]\nname = \"charts\"\nseed = 2\n",
            &["variant[0].name", "charts"],
        ),
        (
            "[[variant]]\nname = \"fast\"\nseed = 2\n[[variant]]\nname = \"Fast\"\nseed = 3\n",
            &["variant[1].name", "only in case", "help: "],
        ),
        (
            "[[variant]]\nname = \"v\"\npool = [{ name = \"P\", instances = 3 }]\n",
            &[
                "pool[0].name",
                "no pool named \"P\"; there are: p",
                "did you mean \"p\"",
            ],
        ),
        (
            "[[variant]]\nname = \"v\"\npool = [{ name = \"p\", instances = 3 }, { name = \"p\", instances = 5 }]\n",
            &["pool[1].name", "pool \"p\" is given twice"],
        ),
    ];
    for (i, (variants, expects)) in cases.iter().enumerate() {
        let file = write(
            tmp.path(),
            &format!("c{i}.toml"),
            &format!("{base}{variants}"),
        );
        let out = tmp.path().join(format!("out{i}"));
        let o = fleetsim(&["run", &file, "--out", s(&out)]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "case {i}: {e}");
        // Located: file:line:col.
        assert!(e.contains(&format!("c{i}.toml:")), "case {i}: {e}");
        for x in *expects {
            assert!(e.contains(x), "case {i}: `{x}` not in\n{e}");
        }
        assert!(!out.exists(), "case {i} wrote output");
    }
    // --set run names differing only in case.
    let file = write(tmp.path(), "grid.toml", base);
    let o = fleetsim(&[
        "run",
        &file,
        "--set",
        "name=run,RUN",
        "--out",
        s(&tmp.path().join("grid")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("only in case") && stderr(&o).contains("help: "),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("grid").exists());
}

/// A pool and a variant whose names start with `-` (allowed names): their CSV cells are
/// neutralised, and everything that reads the folder back still finds them.
#[test]
fn csv_text_cells_are_neutralised_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SCENARIO
        .replace("name = \"p\"", "name = \"-p\"")
        .replace(
            "name = \"p\", instances = 5",
            "name = \"-p\", instances = 5",
        )
        .replace("name = \"bigger\"", "name = \"-bigger\"");
    let file = write(tmp.path(), "neg.toml", &text);
    let out = tmp.path().join("out");
    ok(&["check", &file, "--out", s(&out)]);
    ok(&["report", s(&out)]);
    let comparison = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    assert!(comparison.contains("\n'-bigger,"), "{comparison}");
    let events = std::fs::read_to_string(out.join("base/scaling_events.csv")).unwrap();
    assert!(events.contains(",\"'-p\",scheduled,"), "{events}");
    // Read back under their own names.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("-bigger") && !html.contains("'-bigger"));
    let slo = std::fs::read_to_string(out.join("slo.md")).unwrap();
    assert!(
        slo.contains("-bigger") && !slo.contains("'-bigger"),
        "{slo}"
    );
    let cmp = ok(&["compare", s(&out), s(&out)]);
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert!(
        text.contains("-bigger") && !text.contains("'-bigger"),
        "{text}"
    );
}

/// Shards of the scenario at `file` (`n` of them, 2 replications) in `tmp/<prefix><i>`.
fn shards(tmp: &Path, file: &str, prefix: &str, n: u32, seed: &str) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let dir = tmp.join(format!("{prefix}{i}"));
            ok(&[
                "run",
                file,
                "--replications",
                "2",
                "--seed",
                seed,
                "--shard",
                &format!("{i}/{n}"),
                "--out",
                s(&dir),
            ]);
            dir
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in files_under(from) {
        let path = to.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Edits the manifest of `shard` with `f`.
fn edit_manifest(shard: &Path, f: impl Fn(&mut serde_json::Value)) {
    let path = shard.join("shard.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut m);
    std::fs::write(path, serde_json::to_vec(&m).unwrap()).unwrap();
}

#[test]
fn merge_refuses_shards_that_do_not_fit_or_reach_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let good = shards(tmp.path(), &file, "s", 2, "1");
    let other_seed = shards(tmp.path(), &file, "seed", 2, "7");
    let three = shards(tmp.path(), &file, "three", 3, "1");
    let other_name = write(
        tmp.path(),
        "other.toml",
        &SCENARIO.replace("name = \"outputs\"", "name = \"other\""),
    );
    let other_scenario = shards(tmp.path(), &other_name, "other", 2, "1");
    let parent = tmp.path().join("merged");
    std::fs::create_dir(&parent).unwrap();
    let out = parent.join("out");
    // A secret outside every shard, that a hostile shard tries to pull in or overwrite.
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "secret").unwrap();

    // Each case: a pair of shard folders (the second possibly tampered with), and what the
    // refusal must say.
    let tampered = |name: &str, edit: &dyn Fn(&Path)| -> PathBuf {
        let dir = tmp.path().join(name);
        copy_tree(&good[1], &dir);
        edit(&dir);
        dir
    };
    let cases: Vec<(Vec<PathBuf>, &str)> = vec![
        (vec![good[0].clone(), other_seed[1].clone()], "seed"),
        (
            vec![good[0].clone(), three[1].clone()],
            "shard counts differ",
        ),
        (vec![good[0].clone(), other_scenario[1].clone()], "scenario"),
        (vec![good[0].clone(), good[0].clone()], "given twice"),
        (vec![good[0].clone()], "1/2 are missing"),
        (
            vec![
                good[0].clone(),
                tampered("escape_dir", &|d| {
                    edit_manifest(d, |m| m["jobs"][1]["dir"] = "../../../x".into())
                }),
            ],
            "its folder is",
        ),
        (
            vec![
                good[0].clone(),
                tampered("escape_run", &|d| {
                    edit_manifest(d, |m| {
                        for j in m["jobs"].as_array_mut().unwrap() {
                            if j["run"] == "bigger" {
                                j["run"] = "../bigger".into();
                            }
                        }
                    })
                }),
            ],
            "is not usable",
        ),
        (
            vec![
                good[0].clone(),
                tampered("absolute_dir", &|d| {
                    edit_manifest(d, |m| m["jobs"][1]["dir"] = "/tmp/x".into())
                }),
            ],
            "its folder is",
        ),
        (
            vec![
                good[0].clone(),
                tampered("index", &|d| edit_manifest(d, |m| m["index"] = 5.into())),
            ],
            "not a shard",
        ),
        (
            vec![
                good[0].clone(),
                tampered("symlink", &|d| {
                    let victim = d.join("base/rep-2/timeline.csv");
                    std::fs::remove_file(&victim).unwrap();
                    std::os::unix::fs::symlink(&secret, &victim).unwrap();
                }),
            ],
            "symbolic link",
        ),
        (
            vec![
                good[0].clone(),
                tampered("formula", &|d| {
                    let f = d.join("base/rep-2/scaling_events.csv");
                    let mut text = std::fs::read_to_string(&f).unwrap();
                    text.push_str("61,=HYPERLINK(\"http://x\"),scheduled,1,2,x\n");
                    std::fs::write(f, text).unwrap();
                }),
            ],
            "formula",
        ),
        (
            vec![
                good[0].clone(),
                tampered("wrong_summary", &|d| {
                    // Another job's summary in this job's place.
                    std::fs::copy(
                        good[0].join("base/rep-1/summary.json"),
                        d.join("base/rep-2/summary.json"),
                    )
                    .unwrap();
                }),
            ],
            "where the manifest says",
        ),
    ];
    for (dirs, expect) in &cases {
        let mut args = vec!["merge", "--out", s(&out)];
        args.extend(dirs.iter().map(|d| s(d)));
        let o = fleetsim(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{expect}: {e}");
        assert!(e.contains(expect) && e.contains("help: "), "{expect}: {e}");
        assert!(
            entries(&parent).is_empty(),
            "{expect}: {:?}",
            entries(&parent)
        );
        assert_eq!(std::fs::read(&secret).unwrap(), b"secret");
    }
    assert!(!tmp.path().join("x").exists());
    // The merged folder may not hold a shard: it would replace it.
    let o = fleetsim(&["merge", "--out", s(&good[0]), s(&good[0]), s(&good[1])]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds the shard"), "{}", stderr(&o));
    assert!(good[0].join("shard.json").is_file());
    // And the good shards merge.
    ok(&["merge", "--out", s(&out), s(&good[1]), s(&good[0])]);
    let all = tmp.path().join("all");
    ok(&[
        "run",
        &file,
        "--replications",
        "2",
        "--seed",
        "1",
        "--out",
        s(&all),
    ]);
    assert_eq!(files_under(&all), files_under(&out));
}

/// The fault test: runs killed (SIGKILL, SIGINT) at moments spread from before they start to
/// after they end, into a fresh folder or over a previous run's. After each kill the folder is
/// absent (fresh), the previous run's untouched, or the complete new run; after SIGINT nothing
/// is left beside it; and the next run into it gives the complete run and removes whatever a
/// SIGKILL left. It asserts the invariant whatever moment a kill landed on, so the timing of
/// the machine cannot make it fail.
#[test]
fn killed_runs_leave_the_folder_absent_previous_or_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "v.toml", SCENARIO);
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            &file,
            "--replications",
            "2",
            "--threads",
            "2",
            "--out",
            s(out),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let reference_dir = tmp.path().join("reference");
    let started = Instant::now();
    ok(&args(&reference_dir)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let full = started.elapsed();
    let reference = files_under(&reference_dir);
    // The previous run: another seed, so that it differs from the new one in every file.
    let previous_dir = tmp.path().join("previous");
    let mut prev_args = args(&previous_dir);
    prev_args.extend(["--seed".to_string(), "9".to_string()]);
    let started = Instant::now();
    ok(&prev_args.iter().map(String::as_str).collect::<Vec<_>>());
    let full = full.max(started.elapsed());
    let previous = files_under(&previous_dir);
    assert_ne!(previous, reference);

    // Delays from 0 to past the end of a run, denser early (startup, first files); `None`:
    // once the run has ended (twice, for a fresh folder and a previous one).
    let mut delays: Vec<Option<Duration>> = [0, 1, 2, 5, 10, 20, 40]
        .iter()
        .map(|ms| Some(Duration::from_millis(*ms)))
        .collect();
    for k in 1..=8 {
        delays.push(Some(full * k / 8));
    }
    delays.extend([Some(full * 3 / 2), None, None]);
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for (sig, sig_name) in [(libc::SIGKILL, "KILL"), (libc::SIGINT, "INT")] {
        for (i, delay) in delays.iter().enumerate() {
            let parent = tmp.path().join(format!("{sig_name}-{i}"));
            let out = parent.join("out");
            let with_previous = i % 2 == 1;
            if with_previous {
                copy_tree(&previous_dir, &out);
            }
            let mut child = Command::new(bin())
                .args(args(&out))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let status = match delay {
                Some(delay) => {
                    std::thread::sleep(*delay);
                    signal(&child, sig);
                    child.wait().unwrap()
                }
                None => {
                    let status = child.wait().unwrap();
                    // Its pid is free now: there is no process left to signal.
                    assert!(status.success());
                    status
                }
            };
            let case = format!("SIG{sig_name} after {delay:?} (previous run: {with_previous})");
            // The folder: absent, the previous run's, or the whole new one.
            let outcome = if !out.exists() {
                assert!(!with_previous, "{case}: the previous folder is gone");
                "absent"
            } else {
                let now = files_under(&out);
                if now == reference {
                    "complete"
                } else {
                    assert!(
                        with_previous && now == previous,
                        "{case}: neither the previous folder nor the complete new one: {:?}",
                        now.keys().collect::<Vec<_>>()
                    );
                    "previous"
                }
            };
            *outcomes.entry(outcome).or_default() += 1;
            // How the process ended.
            use std::os::unix::process::ExitStatusExt;
            if sig == libc::SIGINT {
                assert!(
                    status.code() == Some(130)
                        || status.success()
                        || status.signal() == Some(libc::SIGINT),
                    "{case}: {status:?}"
                );
                // An interrupted run removes its staging folder and lock itself.
                let left: Vec<String> = entries(&parent)
                    .into_iter()
                    .filter(|e| e != "out")
                    .collect();
                assert!(left.is_empty(), "{case}: left {left:?}");
            } else {
                assert!(
                    status.success() || status.signal() == Some(libc::SIGKILL),
                    "{case}: {status:?}"
                );
            }
            // The next run completes and leaves nothing beside the folder.
            ok(&args(&out).iter().map(String::as_str).collect::<Vec<_>>());
            assert!(
                files_under(&out) == reference,
                "{case}: the next run differs"
            );
            assert_eq!(entries(&parent), ["out"], "{case}");
        }
    }
    // Not an assertion on timing, only a record of what the kills met.
    eprintln!("outcomes: {outcomes:?} (a run takes {full:?})");
}
