//! The coordination board through the JSON API: races, leases, graph validation,
//! blockers and the OpenAPI document.

mod common;

use common::Marcus;
use common::board::{ok, thirty_two_agents_complete_500_tasks, tool};
use serde_json::{Value, json};
use std::time::Duration;

#[test]
fn thirty_two_agents_on_two_processes_complete_500_tasks_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    // `--debug-routes` lets the race read the durable event log through the raw storage API.
    let a = Marcus::start_in(dir.path(), &["--debug-routes"]);
    let b = Marcus::start_in(dir.path(), &[]);
    thirty_two_agents_complete_500_tasks(&a, &b);
}

#[test]
fn expired_lease_goes_to_another_agent_and_the_old_holder_is_refused() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "lease", "options": {"lease_seconds": 2}, "tasks": [{"name": "only"}]}),
    );
    let project = p["project_id"].as_str().unwrap();
    for agent in ["old", "new"] {
        ok(
            &m,
            "register_agent",
            json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}),
        );
    }
    let first = ok(&m, "request_next_task", json!({"agent_id": "old"}));
    let task_id = first["task"]["id"].as_str().unwrap().to_string();
    assert_eq!(first["lease_token"], 1);
    let busy = ok(&m, "request_next_task", json!({"agent_id": "new"}));
    assert_eq!(busy["success"], false);
    assert!((1..=30).contains(&busy["retry_after_seconds"].as_u64().unwrap()));

    std::thread::sleep(Duration::from_millis(2300));
    let second = ok(&m, "request_next_task", json!({"agent_id": "new"}));
    assert_eq!(second["task"]["id"], task_id.as_str());
    assert_eq!(second["lease_token"], 2);
    assert!(second["recovery_note"].as_str().unwrap().contains("old"));

    let progress = tool(
        &m,
        "report_task_progress",
        json!({"agent_id": "old", "task_id": task_id, "status": "in_progress", "progress": 90}),
    );
    assert_eq!(
        (progress.status, progress.error_code().as_str()),
        (409, "not_task_holder")
    );
    let blocker = tool(
        &m,
        "report_blocker",
        json!({"agent_id": "old", "task_id": task_id, "blocker_description": "stale"}),
    );
    assert_eq!(blocker.error_code(), "not_task_holder");
    let completion = tool(
        &m,
        "report_task_progress",
        json!({"agent_id": "old", "task_id": task_id, "status": "completed"}),
    );
    assert_eq!(
        (completion.status, completion.error_code().as_str()),
        (409, "stale_completion")
    );

    // Nothing the old holder sent changed the new holder's lease.
    let task = &ok(&m, "get_task_context", json!({"task_id": task_id}))["context"]["task"];
    assert_eq!(task["lease"]["agent_id"], "new");
    assert_eq!(task["lease"]["token"], 2);
    assert_eq!(task["progress"], 0);
    let done = ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "new", "task_id": task_id, "status": "completed", "lease_token": 2}),
    );
    assert_eq!(done["status"], "done");
}

#[test]
fn cycles_and_unknown_dependencies_are_rejected_whole() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "graph", "tasks": [{"name": "base"}]}),
    );
    let project = p["project_id"].as_str().unwrap();
    let cycle = tool(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [
            {"name": "x", "dependencies": ["z"]}, {"name": "y", "dependencies": ["x"]}, {"name": "z", "dependencies": ["y", "base"]}
        ]}),
    );
    assert_eq!(cycle.status, 400);
    let msg = cycle.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("cycle") && msg.contains('x') && msg.contains('y') && msg.contains('z'),
        "{msg}"
    );
    let unknown = tool(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [{"name": "w", "dependencies": ["ghost"]}]}),
    );
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    let bad_project = tool(
        &m,
        "create_project",
        json!({"project_name": "bad", "tasks": [{"name": "a", "dependencies": ["a"]}]}),
    );
    assert_eq!(bad_project.status, 400);
    assert_eq!(
        ok(&m, "list_projects", json!({}))["count"],
        1,
        "the refused project was not written"
    );
    let tasks = ok(&m, "get_all_board_tasks", json!({"project_id": project}));
    assert_eq!(tasks["count"], 1, "nothing half-written");
    let missing = tool(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [{"description": "no name"}]}),
    );
    assert_eq!(missing.status, 400);
}

#[test]
fn blocked_task_is_resolved_and_finished() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "blocked", "tasks": [{"name": "a"}, {"name": "b", "dependencies": ["a"]}]}),
    );
    let project = p["project_id"].as_str().unwrap();
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "ag", "name": "ag", "role": "dev", "project_id": project}),
    );
    let t = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    let task_id = t["task"]["id"].as_str().unwrap().to_string();
    let blocked = ok(
        &m,
        "report_blocker",
        json!({"agent_id": "ag", "task_id": task_id, "blocker_description": "needs credentials", "severity": "high"}),
    );
    let blocker_id = blocked["blocker_id"].as_str().unwrap().to_string();
    let waiting = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    assert_eq!(waiting["success"], false);
    assert!(
        waiting["retry_reason"]
            .as_str()
            .unwrap()
            .contains("blocked"),
        "{waiting}"
    );
    let health = ok(&m, "check_board_health", json!({"project_id": project}));
    assert!(health["health"]["score"].as_u64().unwrap() <= 100);

    let resolved = m.post_json(
        &format!("/api/blockers/{blocker_id}/resolve"),
        &json!({"resolution": "credentials added"}),
    );
    assert_eq!(resolved.status, 200);
    assert_eq!(resolved.json()["task_status"], "todo");
    let again = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    assert_eq!(again["task"]["id"], task_id.as_str());
    ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "ag", "task_id": task_id, "status": "completed"}),
    );
    let b = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    assert_eq!(b["task"]["name"], "b");
    let un = m.post_json(
        &format!("/api/tasks/{}/unassign", b["task"]["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(un.json()["status"], "todo");
}

#[test]
fn openapi_document_matches_the_routes() {
    let m = Marcus::start(&[]);
    let doc = m.get("/api/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{} paths", paths.len());
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete: String = path
                .split('/')
                .map(|seg| match seg {
                    "{tool}" => "ping",
                    s if s.starts_with('{') => "x1",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = method.to_ascii_uppercase();
            let body: Option<&[u8]> = if method == "POST" || method == "PUT" {
                Some(b"{}")
            } else {
                None
            };
            let a = m.request(
                &method,
                &concrete,
                &[("content-type", "application/json")],
                body,
            );
            assert_ne!(
                a.status, 405,
                "{method} {concrete} is documented but not routed"
            );
            // HEAD answers carry no body to read the message from.
            if a.status == 404 && method != "HEAD" {
                let message = a.json()["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                assert!(
                    !message.starts_with("no route"),
                    "{method} {concrete} is documented but not routed: {message}"
                );
            }
        }
    }
    // And a route that exists is documented.
    assert!(paths.contains_key("/api/agents/{agent_id}/next-task"));
    for path in [
        "/readyz",
        "/metrics",
        "/api/events/stream",
        "/api/ws",
        "/api/jobs",
        "/api/jobs/{id}/retry",
        "/api/projects/{project_id}/webhooks",
        "/api/webhooks/{id}/deliveries",
        "/api/tools/register_agent",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // Every operation names the answers any request may get; bodies are described.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let codes = |status: &str| {
                responses[status]["description"]
                    .as_str()
                    .unwrap()
                    .to_string()
            };
            assert!(
                codes("403").contains("origin_not_allowed"),
                "{method} {path}"
            );
            assert!(codes("403").contains("host_not_allowed"), "{method} {path}");
            if op.get("requestBody").is_some() {
                assert!(
                    codes("415").contains("unsupported_media_type"),
                    "{method} {path}"
                );
                assert!(
                    codes("413").contains("payload_too_large"),
                    "{method} {path}"
                );
            }
            let host_served = [
                "/readyz",
                "/metrics",
                "/api/events/stream",
                "/api/ws",
                "/api/admin/tokens",
                "/api/admin/tokens/{token_id}",
                "/api/admin/tenants",
                "/api/admin/tenants/{tenant}",
                "/api/admin/tenants/{tenant}/disable",
                "/api/admin/tenants/{tenant}/enable",
                "/api/admin/tenants/{tenant}/quotas",
                "/.well-known/oauth-protected-resource/mcp",
            ];
            if !host_served.contains(&path.as_str()) {
                assert!(codes("500").contains("guest_trap"), "{method} {path}");
            }
        }
    }
    let register =
        &paths["/api/agents"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(register["properties"]["agent_id"]["maxLength"], 200);
    assert!(register["properties"]["agent_id"]["pattern"].is_string());
    // The team-tier route documents its solo-tier answer, and the solo tier gives it.
    let subscribe = &paths["/api/projects/{project_id}/webhooks"]["post"]["responses"]["403"];
    assert!(
        subscribe["description"]
            .as_str()
            .unwrap()
            .contains("feature_unavailable")
    );
    let project = ok(&m, "create_project", json!({"project_name": "hooks"}))["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = m.post_json(
        &format!("/api/projects/{project}/webhooks"),
        &json!({"url": "http://127.0.0.1:9/hook"}),
    );
    assert_eq!(refused.error(), (403, "feature_unavailable".to_string()));
    assert_eq!(m.get("/healthz").status, 200);
}

#[test]
fn the_lease_sweep_returns_a_lapsed_task_without_anyone_asking() {
    let m = Marcus::start(&["--sweep-interval-ms", "200", "--jobs-interval-ms", "100"]);
    let created = ok(
        &m,
        "create_project",
        json!({"project_name": "sweep", "options": {"lease_seconds": 1}, "tasks": [{"name": "only"}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "gone", "name": "gone", "role": "dev", "project_id": project}),
    );
    let first = ok(&m, "request_next_task", json!({"agent_id": "gone"}));
    let task_id = first["task"]["id"].as_str().unwrap().to_string();

    // Nobody asks for work: the sweep alone puts the task back and says so.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let task = loop {
        let t = m.get(&format!("/api/tasks/{task_id}")).json();
        let status = t["context"]["task"]["status"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if status == "todo" {
            break t;
        }
        assert!(std::time::Instant::now() < deadline, "still {status}: {t}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        task.to_string().contains("gone"),
        "recovery note names the old holder: {task}"
    );
    let events = m
        .get(&format!("/api/projects/{project}/events?since=0&limit=100"))
        .json();
    let expired: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "lease_expired")
        .collect();
    assert_eq!(
        expired.len(),
        1,
        "one expiry event, however often the sweep ran: {events}"
    );
    assert_eq!(expired[0]["data"]["by"], "lease-sweep");

    // Running the job by hand finds nothing more to do; unknown jobs and GET are refused.
    let again = m.post_json("/api/jobs/lease-sweep", &json!({})).json();
    assert_eq!(again["expired"], json!([]));
    assert_eq!(m.get("/api/jobs/nap").error().0, 404);
    assert_eq!(m.get("/api/jobs/lease-sweep").error().0, 405);
    // The sweep is one periodic job in the shared queue, run by the host's job runner.
    let sweep = m.get("/api/jobs/periodic-lease-sweep").json();
    assert_eq!(sweep["job"]["every_ms"], 200, "{sweep}");
    assert_eq!(sweep["job"]["kind"], "lease-sweep", "{sweep}");
    let metrics = String::from_utf8(m.get("/metrics").body).unwrap();
    assert!(
        metrics.contains("marcus_jobs_total{job=\"lease-sweep\",outcome=\"succeeded\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("marcus_leases_total{event=\"expired\"} 1"),
        "{metrics}"
    );
}

#[test]
fn status_health_and_analytics_give_one_forecast() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "forecast", "tasks": [
            {"name": "schema", "estimated_hours": 2},
            {"name": "api", "dependencies": ["schema"], "estimated_hours": 20},
            {"name": "ui", "dependencies": ["api"], "estimated_hours": 25},
            {"name": "docs", "estimated_hours": 1}
        ]}),
    );
    let project = p["project_id"].as_str().unwrap().to_string();
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "a", "name": "a", "project_id": project}),
    );
    // A fast first completion makes a high pace: the chain of estimates still bounds the ETA.
    let first = ok(&m, "request_next_task", json!({"agent_id": "a"}));
    let id = first["task"]["id"].as_str().unwrap();
    ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "a", "task_id": id, "status": "completed"}),
    );
    let status = ok(&m, "get_project_status", json!({"project_id": project}));
    let analytics = m.get(&format!("/api/projects/{project}/analytics")).json();
    let eta = status["status"]["eta_hours"].as_f64().unwrap();
    assert_eq!(
        Some(eta),
        analytics["forecast"]["projected_hours"].as_f64(),
        "{status} {analytics}"
    );
    assert!(
        eta >= analytics["forecast"]["hours_by_critical_path"]
            .as_f64()
            .unwrap(),
        "the ETA is never shorter than the critical path: {eta}"
    );
}
