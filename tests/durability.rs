//! Data survives restarts and crashes; concurrent compare-and-swap has one winner.

mod common;

use common::Marcus;
use serde_json::json;

#[test]
fn sigterm_exits_cleanly_and_data_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    assert_eq!(
        m.put_json("/api/storage/keep/a", &json!({"x": 1})).status,
        200
    );
    let status = m.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(dir.path().join("marcus.db").exists());

    let m2 = Marcus::start_in(dir.path(), &[]);
    let got = m2.get("/api/storage/keep/a");
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["data"], json!({"x": 1}));
}

#[test]
fn acknowledged_write_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    for i in 0..20 {
        assert_eq!(
            m.put_json(&format!("/api/storage/crash/d{i}"), &json!({"i": i}))
                .status,
            200
        );
    }
    m.kill9();
    let m2 = Marcus::start_in(dir.path(), &[]);
    for i in 0..20 {
        let got = m2.get(&format!("/api/storage/crash/d{i}"));
        assert_eq!(got.status, 200, "d{i} lost after kill -9");
        assert_eq!(got.json()["data"], json!({"i": i}));
    }
}

#[test]
fn concurrent_compare_and_swap_has_exactly_one_winner() {
    let m = Marcus::start(&[]);
    assert_eq!(
        m.put_json("/api/storage/race/doc", &json!({"owner": null}))
            .status,
        200
    );
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let m = &m;
                s.spawn(move || {
                    let body = json!({"owner": i}).to_string();
                    m.request(
                        "PUT",
                        "/api/storage/race/doc",
                        &[("if-match", "1")],
                        Some(body.as_bytes()),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(m.get("/api/storage/race/doc").json()["version"], 2);
}
