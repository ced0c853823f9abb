//! Request budgets on the real binary: a principal's budget runs out into `429 rate_limited`
//! with `Retry-After` and the `RateLimit-*` headers while another principal goes on; requests
//! without credentials share their address's budget, and refused credentials spend it ten
//! times faster; the local admin of a loopback server has no limit; in the team tier two
//! hosts share one budget through Redis.

mod common;

use common::Marcus;
use std::path::Path;
use std::process::Command;

fn make_token(dir: &Path, name: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_marcus"));
    cmd.args([
        "token",
        "create",
        "--role",
        "viewer",
        "--name",
        name,
        "--quiet",
        "--data-dir",
    ])
    .arg(dir)
    .env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn get(m: &Marcus, token: Option<&str>) -> common::Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    m.request("GET", "/api/projects", &headers, None)
}

fn number(a: &common::Answer, header: &str) -> u64 {
    a.header(header)
        .unwrap_or_else(|| panic!("no {header} on {} {}", a.status, a.text_prefix()))
        .parse()
        .unwrap()
}

#[test]
fn a_principal_spends_its_own_budget_and_then_waits() {
    let dir = tempfile::tempdir().unwrap();
    let ci = make_token(dir.path(), "ci", &[]);
    let other = make_token(dir.path(), "other", &[]);
    let m = Marcus::spawn(
        Some(dir.path()),
        &["--require-auth", "--rate-limit", "4"],
        &[],
    );
    for left in (0..4).rev() {
        let a = get(&m, Some(&ci));
        assert_eq!(a.status, 200, "{}", a.text_prefix());
        assert_eq!(number(&a, "ratelimit-limit"), 4);
        assert_eq!(number(&a, "ratelimit-remaining"), left);
    }
    let refused = get(&m, Some(&ci));
    assert_eq!(refused.error(), (429, "rate_limited".into()));
    assert!(number(&refused, "retry-after") >= 1);
    assert_eq!(number(&refused, "ratelimit-remaining"), 0);
    assert!(number(&refused, "ratelimit-reset") >= 1);
    // Another principal has its own budget.
    assert_eq!(get(&m, Some(&other)).status, 200);
}

#[test]
fn anonymous_requests_share_their_address_budget_and_failures_spend_it_faster() {
    let m = Marcus::start(&["--require-auth", "--rate-limit-anonymous", "25"]);
    // A refused credential costs ten requests: two pass as 401, the third is slowed down.
    let bad = "mcs_0000000000000000000000000000000000aa";
    assert_eq!(get(&m, Some(bad)).status, 401);
    assert_eq!(get(&m, Some(bad)).status, 401);
    let slowed = get(&m, Some(bad));
    assert_eq!(slowed.error(), (429, "rate_limited".into()));
    assert!(number(&slowed, "retry-after") >= 1);
    // The same address without credentials spends what is left (public routes included):
    // 25 - 2 × 10 = 5 requests, one more if the budget refilled meanwhile (one per 2.4 s).
    let passed = (0..10)
        .take_while(|_| m.request("GET", "/healthz", &[], None).status == 200)
        .count();
    assert!((5..=6).contains(&passed), "{passed} passed");
    assert_eq!(
        m.request("GET", "/healthz", &[], None).status,
        429,
        "the address is out of budget"
    );
}

#[test]
fn the_local_admin_of_a_loopback_server_has_no_limit() {
    let m = Marcus::start(&["--rate-limit", "2", "--rate-limit-anonymous", "2"]);
    for _ in 0..10 {
        let a = get(&m, None);
        assert_eq!(a.status, 200);
        assert!(a.header("ratelimit-limit").is_none());
    }
}

#[test]
fn two_hosts_share_one_budget_through_redis() {
    let Some(team) = common::team::team("rate limits across hosts") else {
        return;
    };
    let env = team.env();
    let dir = tempfile::tempdir().unwrap();
    let token = make_token(dir.path(), "ci", &env);
    let args = ["--require-auth", "--rate-limit", "6"];
    let a = Marcus::spawn(None, &args, &env);
    let b = Marcus::spawn(None, &args, &env);
    // The window may turn over during the test; then the count starts again and the
    // refusal comes later. Six requests spread over both hosts, then the seventh is refused
    // unless a new minute began.
    loop {
        let started_minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60;
        let mut statuses = Vec::new();
        for i in 0..7 {
            let host = if i % 2 == 0 { &a } else { &b };
            statuses.push(get(host, Some(&token)).status);
        }
        let same_minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60
            == started_minute;
        if same_minute {
            assert_eq!(&statuses[..6], &[200; 6], "{statuses:?}");
            assert_eq!(statuses[6], 429, "{statuses:?}");
            let on_b = get(&b, Some(&token));
            assert_eq!(on_b.error(), (429, "rate_limited".into()));
            break;
        }
        // A minute boundary fell inside the attempt: wait for a fresh window and retry.
        std::thread::sleep(std::time::Duration::from_secs(61));
    }
}
