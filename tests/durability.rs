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
