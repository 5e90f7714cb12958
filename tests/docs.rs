//! The committed man pages and shell completions match the code: a new option, subcommand
//! or config key that is not in them fails here. Refresh with
//! `cargo run -- doc man man` and `cargo run -- doc completions contrib/completions`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn check(kind: &str, committed: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["doc", kind])
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(st.success());
    let fresh = files(tmp.path());
    let old = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(committed));
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        old.keys().collect::<Vec<_>>(),
        "{committed} has other files than `smsgw doc {kind}` makes: run `cargo run -- doc {kind} {committed}`"
    );
    for (name, text) in &fresh {
        assert!(
            old.get(name) == Some(text),
            "{committed}/{name} is stale: run `cargo run -- doc {kind} {committed}` and commit"
        );
    }
}

#[test]
fn man_pages_are_fresh() {
    check("man", "man");
}

#[test]
fn completions_are_fresh() {
    check("completions", "contrib/completions");
}

#[test]
fn every_config_key_is_in_the_man_page() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/smsgw.toml.5"))
            .unwrap();
    for k in smsgw::config::KEYS {
        assert!(
            page.contains(&format!("\\fB{}\\fR", k.name.replace('-', "\\-"))),
            "{} is not in smsgw.toml(5)",
            k.name
        );
    }
}

#[test]
fn every_shipped_config_passes_config_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in ["contrib", "contrib/examples"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "toml") {
                let c = smsgw::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
                // A packaged service started before the config was edited must not spend
                // one of the SIM's three PIN tries.
                assert!(
                    c.phones.iter().all(|p| p.pin.is_none()),
                    "{} sets a PIN: ship it commented out",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2);
}
