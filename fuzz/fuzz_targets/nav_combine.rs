//! Any queued alerts of one phone: NAV's combining never panics, every alert is either in
//! the SMS or left out (in order: once one is left out, all later ones are), and the SMS
//! holds the first alert.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::backends::nav::combine::combine;

fuzz_target!(|texts: Vec<String>| {
    let alerts: Vec<(i64, String)> = texts.into_iter().enumerate().map(|(i, t)| (i as i64, t)).collect();
    let c = combine(&alerts);
    let ids: Vec<i64> = c.sent.iter().chain(&c.ignored).copied().collect();
    assert_eq!(ids, alerts.iter().map(|a| a.0).collect::<Vec<_>>());
    if let Some((_, first)) = alerts.first() {
        assert_eq!(c.sent.first(), Some(&0));
        assert!(c.text.starts_with(first.as_str()) || c.text.starts_with("1: "));
    }
});
