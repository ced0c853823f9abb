//! Background jobs and webhooks: deliveries signed so a receiver can verify them, retried
//! with backoff until a flaky receiver takes them, dead-lettered (visible in the API and
//! retryable) when a receiver never does; one shared queue worked by two hosts and many
//! concurrent runners without running a job twice; a health recompute joins the write that
//! owes it and never makes it fail, pending or running. Team-tier tests run on the machine's
//! real PostgreSQL and Redis with a receiver on loopback (which the operator's allow-list
//! names: without it, loopback, link-local and private destinations are refused, at
//! creation and again at delivery, and the delivery log shows only a failure class).

mod common;

use common::Marcus;
use common::board::ok;
use common::receiver::{Received, Receiver};
use common::team::{PrivateRedis, team, wait_until};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The flag naming non-public webhook destinations, and the loopback receivers' address.
const ALLOW: &str = "--webhook-allow";
const LOOPBACK: &str = "127.0.0.1";

/// The `v1,` signature a receiver computes with its own HMAC: the Standard Webhooks scheme
/// over "id.timestamp.body" with `key`.
fn expected_signature(key: &[u8], r: &Received) -> String {
    use base64::Engine as _;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(r.header("webhook-id").as_bytes());
    mac.update(b".");
    mac.update(r.header("webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// Verifies a delivery as a receiver would: the key is the base64 after `whsec_`.
fn signature_verifies(secret: &str, r: &Received) -> bool {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("generated secrets are base64");
    let expected = expected_signature(&key, r);
    r.header("webhook-signature")
        .split_whitespace()
        .any(|s| s == expected)
}

fn subscribe(m: &Marcus, project: &str, body: Value) -> Value {
    let a = m.post_json(&format!("/api/projects/{project}/webhooks"), &body);
    assert_eq!(a.status, 201, "{}", a.text_prefix());
    a.json()["webhook"].clone()
}

fn project_with_one_task(m: &Marcus, name: &str) -> String {
    let created = ok(
        m,
        "create_project",
        json!({"project_name": name, "tasks": [{"name": "only"}]}),
    );
    created["project_id"].as_str().unwrap().to_string()
}

#[test]
fn deliveries_are_signed_retried_with_backoff_and_dead_lettered() {
    let Some(team) = team("webhook deliveries") else {
        return;
    };
    let m = Marcus::start_env(&["--jobs-interval-ms", "100", ALLOW, LOOPBACK], &team.env());
    let rx = Receiver::start();
    rx.script("/flaky", &[500, 500, 204]);
    rx.script("/down", &[503]);
    let project = project_with_one_task(&m, "hooks");
    let assigned = json!(["task_assigned"]);
    let good = subscribe(
        &m,
        &project,
        json!({"url": format!("{}/ok", rx.base), "events": assigned}),
    );
    let flaky = subscribe(
        &m,
        &project,
        json!({"url": format!("{}/flaky", rx.base), "events": assigned, "max_attempts": 5}),
    );
    let down = subscribe(
        &m,
        &project,
        json!({"url": format!("{}/down", rx.base), "events": assigned, "max_attempts": 3}),
    );
    let secret = good["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{good}");
    let listed = m.get(&format!("/api/projects/{project}/webhooks")).json();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 3);
    assert!(
        !listed.to_string().contains(&secret),
        "secrets are shown once, at creation"
    );

    ok(
        &m,
        "register_agent",
        json!({"agent_id": "a1", "name": "a1", "role": "dev", "project_id": project}),
    );
    let next = ok(&m, "request_next_task", json!({"agent_id": "a1"}));
    let task_id = next["task"]["id"].as_str().unwrap().to_string();

    // The healthy receiver gets one signed, fresh delivery of the event.
    wait_until(Duration::from_secs(20), || rx.got("/ok").len() == 1)
        .expect("delivery to the healthy receiver");
    let got = &rx.got("/ok")[0];
    assert!(signature_verifies(&secret, got), "signature: {got:?}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ts: u64 = got.header("webhook-timestamp").parse().unwrap();
    assert!(now.abs_diff(ts) < 60, "timestamp {ts} vs now {now}");
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["type"], "task_assigned");
    assert_eq!(body["data"]["task_id"], task_id.as_str());
    assert_eq!(body["id"], got.header("webhook-id"));
    let mut tampered = got.clone();
    tampered.body = br#"{"type":"task_completed"}"#.to_vec();
    assert!(
        !signature_verifies(&secret, &tampered),
        "a changed body fails"
    );

    // The receiver that fails twice gets the same delivery on the third try, after backoff.
    wait_until(Duration::from_secs(30), || rx.got("/flaky").len() == 3)
        .expect("three tries at the flaky receiver");
    let tries = rx.got("/flaky");
    let ids: HashSet<&str> = tries.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 1, "retries carry the same delivery id");
    assert_eq!(
        tries.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 500, 204]
    );
    let gap1 = tries[1].at - tries[0].at;
    let gap2 = tries[2].at - tries[1].at;
    assert!(gap1 >= Duration::from_millis(450), "first backoff {gap1:?}");
    assert!(
        gap2 >= Duration::from_millis(950),
        "second backoff doubles: {gap2:?}"
    );
    let flaky_id = flaky["id"].as_str().unwrap();
    // The attempt is logged once the receiver's answer is in: wait for it.
    let log_of = |id: &str| m.get(&format!("/api/webhooks/{id}/deliveries")).json();
    wait_until(Duration::from_secs(10), || {
        log_of(flaky_id)["deliveries"][0]["status"] == "delivered"
    });
    let log = log_of(flaky_id);
    let delivery = &log["deliveries"][0];
    assert_eq!(delivery["status"], "delivered", "{log}");
    let codes: Vec<u64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 204], "{log}");

    // The receiver that always fails ends in dead letter after its three attempts.
    let down_id = down["id"].as_str().unwrap();
    let dead = wait_until(Duration::from_secs(30), || {
        m.get("/api/jobs?status=dead").json()["jobs"]
            .as_array()
            .is_some_and(|j| !j.is_empty())
    });
    assert!(
        dead.is_some(),
        "no dead letter: {}",
        m.get("/api/jobs").json()
    );
    let jobs = m.get("/api/jobs?status=dead").json();
    let job = &jobs["jobs"][0];
    assert_eq!(job["payload"]["webhook_id"], down_id, "{jobs}");
    assert_eq!(job["attempts"], 3);
    assert_eq!(jobs["counts"]["dead"], 1);
    assert!(job["last_error"].as_str().unwrap().contains("503"), "{job}");
    assert_eq!(rx.got("/down").len(), 3, "no try after the last");
    let log = m.get(&format!("/api/webhooks/{down_id}/deliveries")).json();
    assert_eq!(log["deliveries"][0]["status"], "dead", "{log}");

    // A person fixes the receiver and retries the dead letter: it is delivered and leaves
    // the queue.
    rx.script("/down", &[503, 503, 503, 200]);
    let job_id = job["id"].as_str().unwrap();
    let retried = m.post_json(&format!("/api/jobs/{job_id}/retry"), &json!({}));
    assert_eq!(retried.status, 200, "{}", retried.text_prefix());
    assert_eq!(
        m.post_json(&format!("/api/jobs/{job_id}/retry"), &json!({}))
            .error()
            .0,
        409
    );
    wait_until(Duration::from_secs(20), || {
        m.get(&format!("/api/jobs/{job_id}")).status == 404
    })
    .expect("the retried job completes");
    assert_eq!(rx.got("/down").len(), 4);
    let log = m.get(&format!("/api/webhooks/{down_id}/deliveries")).json();
    assert_eq!(log["deliveries"][0]["status"], "delivered", "{log}");

    // Only the subscribed kind was delivered, and the metrics count what happened.
    assert!(
        rx.all().iter().all(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["type"] == "task_assigned"
        })
    );
    let metrics = String::from_utf8(m.get("/metrics").body).unwrap();
    for outcome in ["succeeded", "retried", "dead"] {
        let series = format!("marcus_jobs_total{{job=\"webhook-delivery\",outcome=\"{outcome}\"}}");
        assert!(metrics.contains(&series), "{series} in {metrics}");
    }

    // Deleting a subscription stops its deliveries.
    assert_eq!(m.delete(&format!("/api/webhooks/{flaky_id}")).status, 200);
    assert_eq!(m.get(&format!("/api/webhooks/{flaky_id}")).error().0, 404);
}

#[test]
fn two_hosts_and_racing_runners_share_the_queue_without_running_a_job_twice() {
    let Some(team) = team("shared job queue") else {
        return;
    };
    // Both hosts run the queue on their own timers, and eight clients call the runner
    // directly on both at once.
    let a = Marcus::start_env(&["--jobs-interval-ms", "50", ALLOW, LOOPBACK], &team.env());
    let b = Marcus::start_env(&["--jobs-interval-ms", "50", ALLOW, LOOPBACK], &team.env());
    let rx = Receiver::start();
    let project = project_with_one_task(&a, "shared");
    subscribe(
        &a,
        &project,
        json!({"url": format!("{}/all", rx.base), "events": ["tasks_created"]}),
    );
    const EVENTS: usize = 60;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..EVENTS {
                let m = if i % 2 == 0 { &a } else { &b };
                let r = m.post_json(
                    &format!("/api/projects/{project}/tasks"),
                    &json!({"tasks": [{"name": format!("t{i}")}]}),
                );
                assert_eq!(r.status, 201, "{}", r.text_prefix());
            }
        });
        for n in 0..8 {
            let m = if n % 2 == 0 { &a } else { &b };
            let rx = &rx;
            s.spawn(move || {
                let deadline = std::time::Instant::now() + Duration::from_secs(90);
                while rx.all().len() < EVENTS && std::time::Instant::now() < deadline {
                    let r = m.post_json("/api/jobs/run?limit=5", &json!({}));
                    assert_eq!(r.status, 200, "{}", r.text_prefix());
                }
            });
        }
    });
    // Give any double run time to show itself before counting.
    std::thread::sleep(Duration::from_secs(1));
    let got = rx.got("/all");
    let ids: HashSet<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(got.len(), EVENTS, "each delivery ran once");
    assert_eq!(ids.len(), EVENTS, "no delivery ran twice");
    let tasks: HashSet<String> = got
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            v["data"]["data"]["task_ids"][0]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    assert_eq!(tasks.len(), EVENTS, "every event delivered: {tasks:?}");
    let drained = wait_until(Duration::from_secs(10), || {
        a.get("/api/jobs?kind=webhook-delivery").json()["total"] == 0
    });
    assert!(
        drained.is_some(),
        "queue drained: {}",
        a.get("/api/jobs").json()
    );
}

#[test]
fn webhooks_need_the_team_tier_and_bad_requests_are_refused() {
    let solo = Marcus::start(&[]);
    let project = project_with_one_task(&solo, "solo");
    let refused = solo.post_json(
        &format!("/api/projects/{project}/webhooks"),
        &json!({"url": "http://127.0.0.1:9/h"}),
    );
    assert_eq!(refused.status, 403, "{}", refused.text_prefix());
    assert_eq!(refused.error_code(), "feature_unavailable");
    assert_eq!(
        solo.get("/api/features").json()["capabilities"]["webhooks"],
        false
    );

    // The job API answers clear errors on any tier.
    assert_eq!(solo.get("/api/jobs?status=lost").error().0, 400);
    assert_eq!(solo.get("/api/jobs?limit=0").error().0, 400);
    assert_eq!(
        solo.post_json("/api/jobs/run?limit=x", &json!({}))
            .error()
            .0,
        400
    );
    assert_eq!(solo.get("/api/jobs/job-nope").error().0, 404);
    assert_eq!(
        solo.post_json("/api/jobs/job-nope/retry", &json!({}))
            .error()
            .0,
        404
    );
    assert_eq!(solo.get("/api/webhooks/wh-nope").error().0, 404);
    assert_eq!(solo.delete("/api/jobs").error().0, 405);

    let Some(team) = team("webhook validation") else {
        return;
    };
    let m = Marcus::start_env(&["--jobs-interval-ms", "0", ALLOW, LOOPBACK], &team.env());
    assert_eq!(
        m.get("/api/features").json()["capabilities"]["webhooks"],
        true
    );
    let project = project_with_one_task(&m, "checks");
    for (body, says) in [
        (json!({"url": "ftp://x/h"}), "http://"),
        (
            json!({"url": "http://x/h", "events": ["task_done"]}),
            "unknown event kind",
        ),
        (
            json!({"url": "http://x/h", "max_attempts": 99}),
            "max_attempts",
        ),
        (json!({"url": "http://x/h", "secret": "short"}), "secret"),
        (json!({"link": "http://x/h"}), "invalid webhook"),
    ] {
        let a = m.post_json(&format!("/api/projects/{project}/webhooks"), &body);
        assert_eq!(a.status, 400, "{body}: {}", a.text_prefix());
        assert!(
            a.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(says),
            "{body}: {}",
            a.text_prefix()
        );
    }
    let missing = m.post_json("/api/projects/nope/webhooks", &json!({"url": "http://x/h"}));
    assert_eq!(missing.status, 404);
    // A subscription with a chosen secret: the receiver verifies with it.
    let rx = Receiver::start();
    let hook = subscribe(
        &m,
        &project,
        json!({"url": format!("{}/mine", rx.base), "secret": "a-secret-of-our-own"}),
    );
    assert_eq!(hook["secret"], "a-secret-of-our-own");
    ok(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [{"name": "more"}]}),
    );
    let ran = m.post_json("/api/jobs/run", &json!({})).json();
    assert_eq!(ran["jobs"][0]["outcome"], "succeeded", "{ran}");
    let got = rx.got("/mine");
    assert_eq!(got.len(), 1);
    // A raw (non-whsec) secret is the key itself.
    assert_eq!(
        got[0].header("webhook-signature"),
        expected_signature(b"a-secret-of-our-own", &got[0])
    );
}

/// A TCP listener on loopback that counts the connections it accepts (and answers none).
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, accepted)
}

#[test]
fn private_destinations_are_refused_at_creation_and_at_delivery_unless_allowed() {
    let Some(team) = team("webhook destinations") else {
        return;
    };
    let rx = Receiver::start();
    let rx_port = rx.base.rsplit(':').next().unwrap().to_string();
    let (trap_port, trap_connections) = counting_listener();
    let closed_port = PrivateRedis::free_port();
    // Host A's operator also allowed `localhost` by name; host B allows only the receiver
    // and one closed port, so what A accepted, B refuses when it delivers.
    let a_allow = format!("127.0.0.1:{rx_port},127.0.0.1:{closed_port},localhost");
    let b_allow = format!("127.0.0.1:{rx_port},127.0.0.1:{closed_port}");
    let a = Marcus::start_env(&["--jobs-interval-ms", "0", ALLOW, &a_allow], &team.env());
    let b = Marcus::start_env(
        &["--jobs-interval-ms", "0"],
        &[team.env(), vec![("MARCUS_WEBHOOK_ALLOW", b_allow.as_str())]].concat(),
    );
    let project = project_with_one_task(&a, "destinations");
    let hooks = format!("/api/projects/{project}/webhooks");

    // Creation: Redis, the metadata service, loopback in any spelling, private ranges and
    // `localhost` are refused with a clear reason; an allowed address on another port too.
    let redis_port = team
        .redis_url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/');
    for url in [
        format!("http://127.0.0.1:{redis_port}/"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]:8080/h".to_string(),
        "http://2130706433/h".to_string(),
        "http://[::ffff:127.0.0.1]/h".to_string(),
        "http://10.0.0.8/h".to_string(),
        "https://192.168.1.1/h".to_string(),
        format!("http://localhost:{trap_port}/h"),
    ] {
        let refused = b.post_json(&hooks, &json!({ "url": url }));
        assert_eq!(
            refused.error(),
            (400, "destination_not_allowed".to_string()),
            "{url}: {}",
            refused.text_prefix()
        );
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains("MARCUS_WEBHOOK_ALLOW"), "{message}");
    }
    let redis_on_a = a.post_json(
        &hooks,
        &json!({"url": format!("http://127.0.0.1:{redis_port}/")}),
    );
    assert_eq!(redis_on_a.error().0, 400, "the allow-list names ports");
    assert_eq!(
        b.get(&hooks).json()["webhooks"],
        json!([]),
        "nothing was stored"
    );

    // Delivery: A accepted a name that resolves to loopback; B, running the job, refuses it
    // without connecting. The allowed receiver gets its delivery; the closed port fails
    // with a class, not the transport's words.
    let events = json!(["tasks_created"]);
    let trap = subscribe(
        &a,
        &project,
        json!({"url": format!("http://localhost:{trap_port}/h"), "events": events}),
    );
    subscribe(
        &a,
        &project,
        json!({"url": format!("{}/ok", rx.base), "events": events}),
    );
    let closed = subscribe(
        &a,
        &project,
        json!({"url": format!("http://127.0.0.1:{closed_port}/h"), "events": events}),
    );
    ok(
        &a,
        "create_tasks",
        json!({"project_id": project, "tasks": [{"name": "more"}]}),
    );
    let ran = b.post_json("/api/jobs/run", &json!({}));
    assert_eq!(ran.status, 200, "{}", ran.text_prefix());
    assert_eq!(
        rx.got("/ok").len(),
        1,
        "the allowed receiver got its delivery"
    );
    let first_attempt = |hook: &Value| {
        let id = hook["id"].as_str().unwrap();
        let log = b.get(&format!("/api/webhooks/{id}/deliveries")).json();
        log["deliveries"][0]["attempts"][0].clone()
    };
    let refused = first_attempt(&trap);
    assert_eq!(refused["error"], "destination_refused", "{refused}");
    assert_eq!(refused["status_code"], Value::Null);
    assert_eq!(
        trap_connections.load(Ordering::SeqCst),
        0,
        "the refused destination saw no connection"
    );
    let failed = first_attempt(&closed);
    assert_eq!(failed["error"], "connection_failed", "{failed}");
    let jobs = b.get("/api/jobs?kind=webhook-delivery").json();
    let errors: Vec<&str> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["last_error"].as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{jobs}");
    for e in &errors {
        assert!(
            e.ends_with("destination_refused") || e.ends_with("connection_failed"),
            "a job error carries only the class: {e}"
        );
        assert!(!e.contains("os error") && !e.contains("127.0.0.1"), "{e}");
    }

    // Both hosts still serve.
    for host in [&a, &b] {
        assert_eq!(host.get("/api/features").status, 200);
        assert_eq!(
            host.get(&hooks).json()["webhooks"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }
}

/// The stored job document `id` (through the raw storage API, which `--debug-routes` opens
/// to the board's collections) and its version.
fn stored_job(m: &Marcus, id: &str) -> (Value, u64) {
    let doc = m.get(&format!("/api/storage/jobs/{id}"));
    assert_eq!(doc.status, 200, "{}", doc.text_prefix());
    let doc = doc.json();
    (doc["data"].clone(), doc["version"].as_u64().unwrap())
}

#[test]
fn a_pending_or_running_health_recompute_never_fails_a_write_and_a_later_change_runs_it_again() {
    // No runner of its own: the test runs the queue itself and plays a runner that holds the
    // job through the raw storage API.
    let m = Marcus::start(&["--jobs-interval-ms", "0", "--debug-routes"]);
    let project = project_with_one_task(&m, "recompute");
    let id = format!("project-health-{project}");
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "a1", "name": "a1", "role": "dev", "project_id": project}),
    );
    let next = ok(&m, "request_next_task", json!({"agent_id": "a1"}));
    let task = next["task"]["id"].as_str().unwrap().to_string();
    let blocked = ok(
        &m,
        "report_blocker",
        json!({"agent_id": "a1", "task_id": task, "blocker_description": "waiting"}),
    );
    let (queued, _) = stored_job(&m, &id);
    assert_eq!(
        queued["status"], "queued",
        "a blocked task owes a recompute: {queued}"
    );

    // Another change that moves the status while one is pending: it lands, one job stays.
    ok(
        &m,
        "resolve_blocker",
        json!({"blocker_id": blocked["blocker_id"], "resolution": "arrived"}),
    );
    let listed = m
        .get(&format!(
            "/api/jobs?kind=project-health&project_id={project}"
        ))
        .json();
    assert_eq!(listed["total"], 1, "one recompute per project: {listed}");

    // A runner claims it and is still running it when the board changes again.
    let (mut held, version) = stored_job(&m, &id);
    held["status"] = json!("running");
    held["attempts"] = json!(1);
    held["lease_until"] = json!(4_102_444_800_000u64);
    let claim = m.request(
        "PUT",
        &format!("/api/storage/jobs/{id}"),
        &[
            ("content-type", "application/json"),
            ("if-match", &version.to_string()),
        ],
        Some(held.to_string().as_bytes()),
    );
    assert_eq!(claim.status, 200, "{}", claim.text_prefix());
    let claimed_version = claim.json()["version"].as_u64().unwrap();
    let next = ok(&m, "request_next_task", json!({"agent_id": "a1"}));
    assert_eq!(next["task"]["id"], task.as_str(), "{next}");
    ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "a1", "task_id": task, "status": "completed", "progress": 100}),
    );
    let (again, _) = stored_job(&m, &id);
    assert_eq!(
        (&again["status"], &again["attempts"]),
        (&json!("queued"), &json!(0)),
        "the change queued the recompute again: {again}"
    );

    // The runner's finish (removing the job it claimed) loses its compare-and-swap and
    // leaves the new recompute queued.
    let finish = m.request(
        "DELETE",
        &format!("/api/storage/jobs/{id}"),
        &[("if-match", &claimed_version.to_string())],
        None,
    );
    assert_eq!(finish.error().0, 409, "{}", finish.text_prefix());
    assert_eq!(stored_job(&m, &id).0["status"], "queued");

    // The recompute runs, leaves, and the status it computed is the cached answer.
    let ran = m.post_json("/api/jobs/run", &json!({})).json();
    let outcome = ran["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id.as_str())
        .unwrap_or_else(|| panic!("the recompute ran: {ran}"));
    assert_eq!(outcome["outcome"], "succeeded", "{ran}");
    assert_eq!(m.get(&format!("/api/jobs/{id}")).error().0, 404);
    let status = m.get(&format!("/api/projects/{project}"));
    assert_eq!(status.header("x-marcus-cache").as_deref(), Some("hit"));
}
