//! Any text as smsgw.toml, and as a gammu-smsdrc to import: errors, never panics; an
//! imported config is something `config check` can read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|text: &str| {
    if let Err(e) = smsgw::config::Config::parse(text, Path::new("fuzz.toml")) {
        assert!(e.line <= text.lines().count() + 1);
    }
    let imported = smsgw::import::gammu_to_toml(text, "fuzz.rc");
    let _ = smsgw::config::Config::parse(&imported, Path::new("imported.toml"));
});
