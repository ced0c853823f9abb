//! The dashboard in a real browser: Chromium driven over the DevTools protocol against the
//! real `marcus` binary. Every test collects console errors and uncaught exceptions and
//! fails on any; screenshots of each state land in `target/test-artifacts/dashboard/`.
//! Assertions are on content and behaviour, never on pixels.

mod common;

use base64::Engine as _;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, EventRequestPaused, FulfillRequestParams, HeaderEntry, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::{Page, ScreenshotParams};
use common::Marcus;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The first load of the page plus its data must stay under this many bytes.
const FIRST_LOAD_BUDGET: u64 = 100_000;
/// How long the page may take to show something.
const WAIT: Duration = Duration::from_secs(20);

/// Whether the browser suite can run: without Chromium it is skipped locally and fails in CI.
fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    common::team::skip(
        "dashboard browser suite",
        &format!("chromium at {CHROMIUM} (apt-get install chromium)"),
    );
    false
}

/// A headless Chromium with one page, and what it reported as errors.
struct Session {
    browser: Browser,
    viewport: Viewport,
    page: Page,
    errors: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Starts Chromium with a `width` x `height` viewport (a phone's when `mobile`) and a
    /// blank page that already listens for errors.
    async fn launch(width: u32, height: u32, mobile: bool) -> Self {
        Self::launch_with(width, height, mobile, &[]).await
    }

    /// [`Self::launch`] with further Chromium switches (name without dashes, value).
    async fn launch_with(width: u32, height: u32, mobile: bool, switches: &[(&str, &str)]) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let viewport = Viewport {
            width,
            height,
            device_scale_factor: Some(if mobile { 2.0 } else { 1.0 }),
            emulating_mobile: mobile,
            is_landscape: false,
            has_touch: mobile,
        };
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .user_data_dir(profile.path())
            .no_sandbox()
            .args([
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ])
            .args(switches.iter().copied())
            .window_size(width, height)
            .viewport(viewport.clone())
            .launch_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(60))
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config).await.expect("launching chromium");
        let mut tasks = vec![tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if event.is_err() {
                    break;
                }
            }
        })];
        let page = browser.new_page("about:blank").await.expect("new page");
        let errors = Arc::new(Mutex::new(Vec::new()));

        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .expect("console events");
        let sink = errors.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = console.next().await {
                if matches!(
                    e.r#type,
                    ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
                ) {
                    let args: Vec<String> = e
                        .args
                        .iter()
                        .map(|a| {
                            a.value
                                .as_ref()
                                .map(|v| v.to_string())
                                .or_else(|| a.description.clone())
                                .unwrap_or_default()
                        })
                        .collect();
                    sink.lock()
                        .unwrap()
                        .push(format!("console.error: {}", args.join(" ")));
                }
            }
        }));
        let mut exceptions = page
            .event_listener::<EventExceptionThrown>()
            .await
            .expect("exception events");
        let sink = errors.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = exceptions.next().await {
                let d = &e.exception_details;
                let what = d
                    .exception
                    .as_ref()
                    .and_then(|x| x.description.clone())
                    .unwrap_or_else(|| d.text.clone());
                sink.lock()
                    .unwrap()
                    .push(format!("uncaught exception: {what}"));
            }
        }));
        let mut log = page
            .event_listener::<EventEntryAdded>()
            .await
            .expect("log events");
        let sink = errors.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = log.next().await {
                if e.entry.level == LogEntryLevel::Error {
                    sink.lock().unwrap().push(format!(
                        "log error: {} ({})",
                        e.entry.text,
                        e.entry.url.clone().unwrap_or_default()
                    ));
                }
            }
        }));
        Self {
            browser,
            viewport,
            page,
            errors,
            tasks,
            _profile: profile,
        }
    }

    async fn goto(&self, url: &str) {
        self.page.goto(url).await.expect("navigating");
    }

    /// Evaluates a JavaScript expression and decodes its value.
    async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        self.page
            .evaluate(js)
            .await
            .unwrap_or_else(|e| panic!("evaluating {js}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("decoding the value of {js}: {e}"))
    }

    /// Waits until the JavaScript expression is true.
    async fn wait_for(&self, js: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let ok: bool = self
                .page
                .evaluate(format!("!!({js})"))
                .await
                .ok()
                .and_then(|v| v.into_value().ok())
                .unwrap_or(false);
            if ok {
                return;
            }
            if Instant::now() > deadline {
                let text: String = self.eval("document.body.innerText").await;
                panic!("timed out waiting for {what} ({js}); page text:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the first element matching `selector`.
    async fn text(&self, selector: &str) -> String {
        self.eval(&format!(
            "(document.querySelector({}) || {{innerText: ''}}).innerText",
            json!(selector)
        ))
        .await
    }

    /// Whether the element exists and is rendered (not hidden by itself or an ancestor).
    async fn visible(&self, selector: &str) -> bool {
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); return !!e && e.getClientRects().length > 0; }})()",
            json!(selector)
        ))
        .await
    }

    /// Sends one key press to whatever has the focus.
    async fn press(&self, key: &str) {
        self.page
            .find_element("body")
            .await
            .expect("body")
            .press_key(key)
            .await
            .unwrap_or_else(|e| panic!("pressing {key}: {e}"));
    }

    /// Presses Tab until the focused element matches `selector`, at most `limit` times;
    /// returns how many presses it took.
    async fn tab_to(&self, selector: &str, limit: usize) -> usize {
        for n in 1..=limit {
            self.press("Tab").await;
            let there: bool = self
                .eval(&format!(
                    "!!document.activeElement && document.activeElement.matches({})",
                    json!(selector)
                ))
                .await;
            if there {
                return n;
            }
        }
        let at: String = self
            .eval(
                "document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : 'none'",
            )
            .await;
        panic!("{selector} not reached with {limit} Tab presses; focus is on {at}");
    }

    /// Applies the session's viewport, `height` tall.
    async fn emulate(&self, height: u32) {
        let v = &self.viewport;
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                i64::from(v.width),
                i64::from(height),
                v.device_scale_factor.unwrap_or(1.0),
                v.emulating_mobile,
            ))
            .await
            .expect("device metrics");
    }

    /// Saves a PNG under target/test-artifacts/dashboard and prints its path: the whole page
    /// at the session's width, or only the viewport while a modal dialog covers it.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/dashboard");
        std::fs::create_dir_all(&dir).expect("artifact dir");
        let path = dir
            .canonicalize()
            .expect("artifact dir")
            .join(format!("{name}.png"));
        let modal_open: bool = self.eval("!!document.querySelector('dialog[open]')").await;
        let page_height: u32 = self.eval("document.documentElement.scrollHeight").await;
        let full = !modal_open && page_height > self.viewport.height;
        if full {
            self.emulate(page_height).await;
        }
        let png = self
            .page
            .save_screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
                &path,
            )
            .await
            .expect("screenshot");
        if full {
            self.emulate(self.viewport.height).await;
        }
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        assert!(path.exists(), "{} was not written", path.display());
        println!("screenshot: {}", path.display());
        path
    }

    /// Bytes transferred for the document and everything it fetched so far.
    async fn bytes_loaded(&self) -> (u64, Vec<(String, u64)>) {
        let entries: Vec<(String, u64)> = self
            .eval(
                "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))\
                 .map(e => [e.name, e.transferSize])",
            )
            .await;
        (entries.iter().map(|(_, n)| n).sum(), entries)
    }

    /// Takes the errors seen so far (for pages that are expected to be refused).
    fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.errors.lock().unwrap())
    }

    /// Fails with every console error and uncaught exception seen so far.
    fn assert_no_errors(&self) {
        let errors = self.errors.lock().unwrap();
        assert!(errors.is_empty(), "browser errors:\n{}", errors.join("\n"));
    }

    async fn close(mut self) {
        self.assert_no_errors();
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

fn created(answer: common::Answer) -> Value {
    assert!(
        answer.status < 300,
        "status {}: {}",
        answer.status,
        answer.text_prefix()
    );
    answer.json()
}

/// Creates a project of three tasks (UI depends on API) and an agent; returns the project
/// id and the ids by name.
fn seed_project(m: &Marcus) -> (String, Value) {
    let project = created(m.post_json(
        "/api/projects",
        &json!({"project_name": "Shop", "description": "A small web shop", "tasks": [
            {"name": "API", "description": "REST endpoints for the cart", "estimated_hours": 2},
            {"name": "UI", "dependencies": ["API"], "estimated_hours": 3},
            {"name": "Docs", "priority": "low"}
        ]}),
    ));
    let ids: serde_json::Map<String, Value> = project["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["id"].clone()))
        .collect();
    created(m.post_json(
        "/api/agents",
        &json!({"agent_id": "ada", "name": "Ada", "role": "Backend Developer", "skills": ["rust"]}),
    ));
    (
        project["project_id"].as_str().unwrap().to_string(),
        Value::Object(ids),
    )
}

#[test]
fn dashboard_assets_and_views_over_http() {
    let m = Marcus::start(&[]);
    let page = m.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html");
    let html = String::from_utf8(page.body.clone()).unwrap();
    let version = html
        .split("/assets/dashboard.js?v=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("versioned script link")
        .to_string();
    assert_eq!(version.len(), 16, "{version}");
    assert!(!html.contains("{{"), "unfilled placeholder");
    let etag = format!("\"{version}\"");
    let again = m.request("GET", "/", &[("if-none-match", &etag)], None);
    assert_eq!(again.status, 304);
    for (asset, ty) in [
        ("dashboard.js", "text/javascript"),
        ("dashboard.css", "text/css"),
    ] {
        let a = m.get(&format!("/assets/{asset}?v={version}"));
        assert_eq!(a.status, 200, "{asset}");
        assert_eq!(a.content_type, ty);
        assert!(a.body.len() > 1000);
        let agent = ureq::get(&format!("{}/assets/{asset}?v={version}", m.url))
            .call()
            .unwrap();
        assert_eq!(
            agent.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let stale = ureq::get(&format!("{}/assets/{asset}?v=0", m.url))
            .call()
            .unwrap();
        assert_eq!(stale.header("cache-control"), Some("no-cache"));
    }
    assert_eq!(
        m.get("/assets/nothing.js").error(),
        (404, "not_found".into())
    );
    assert_eq!(
        m.request("POST", "/", &[], Some(b"")).error().0,
        405,
        "the page is read-only"
    );
    let head = m.request("HEAD", "/", &[], None);
    assert_eq!(
        (head.status, head.body.len()),
        (200, 0),
        "HEAD answers like GET, without a body"
    );

    // The views the page reads.
    let (project, ids) = seed_project(&m);
    let queue = m.get(&format!("/api/projects/{project}/queue")).json();
    let ready: Vec<&str> = queue["queue"]["ready"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(ready, ["API", "Docs"], "priority and critical path order");
    assert_eq!(queue["queue"]["waiting"][0]["name"], "UI");
    assert_eq!(queue["queue"]["waiting"][0]["waiting_on"][0]["name"], "API");
    let next = m.post_json("/api/agents/ada/next-task", &json!({})).json();
    assert_eq!(
        next["task"]["id"], ids["API"],
        "the queue's head is handed out"
    );
    let api = ids["API"].as_str().unwrap();
    created(m.post_json(
        &format!("/api/tasks/{api}/progress"),
        &json!({"agent_id": "ada", "status": "in_progress", "progress": 40, "message": "routes drafted"}),
    ));
    created(m.post_json(
        &format!("/api/tasks/{api}/progress"),
        &json!({"agent_id": "ada", "status": "completed", "progress": 100, "message": "merged"}),
    ));
    let timeline = m.get(&format!("/api/tasks/{api}/timeline")).json();
    let kinds: Vec<&str> = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["progress", "completed"]);
    assert_eq!(timeline["timeline"][0]["text"], "routes drafted");
    let analytics = m.get(&format!("/api/projects/{project}/analytics")).json();
    assert_eq!(analytics["forecast"]["remaining_tasks"], 2);
    assert!(
        analytics["forecast"]["projected_completion_at"]
            .as_u64()
            .is_some()
    );
    let burndown = analytics["burndown"].as_array().unwrap();
    assert_eq!(burndown.last().unwrap()["remaining"], 2);
    assert_eq!(
        m.get("/api/projects/nope/queue").error(),
        (404, "project_not_found".into())
    );
    assert_eq!(
        m.get("/api/tasks/nope/timeline").error(),
        (404, "task_not_found".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_tier_fresh_server_shows_the_empty_state_and_upgrade_prompt() {
    if !chromium_available() {
        return;
    }
    let m = Marcus::start(&[]);
    let s = Session::launch(1280, 900, false).await;
    s.goto(&format!("{}/", m.url)).await;
    s.wait_for(
        "!document.getElementById('empty').hidden",
        "the empty state",
    )
    .await;

    let empty = s.text("#empty").await;
    assert!(empty.contains("No projects yet"), "{empty}");
    assert!(empty.contains("Create a project"), "{empty}");
    assert!(
        empty.contains(&format!("{}/api/projects", m.url)),
        "{empty}"
    );
    let mcp = format!("{}/mcp", m.url);
    assert_eq!(s.text("#empty .mcp-url").await, mcp);
    let copy_tag: String = s
        .eval("document.querySelector('#empty .copy-mcp').tagName")
        .await;
    assert_eq!(copy_tag, "BUTTON");

    // Solo: manual refresh, no live indicator, upgrade prompt, no team or analytics.
    let tier: String = s.eval("document.getElementById('tier').textContent").await;
    assert_eq!(tier, "solo");
    assert!(s.visible("#refresh").await, "refresh button");
    assert!(s.visible("#last-updated").await);
    assert!(s.visible("#auto-refresh").await);
    assert!(!s.visible("#live").await);
    assert!(s.visible("#upgrade").await);
    let upgrade = s.text("#upgrade").await;
    for needle in [
        "docs/scaling/adding-postgres.md",
        "docs/scaling/adding-redis.md",
        "Team view",
        "Webhooks",
    ] {
        assert!(upgrade.contains(needle), "{needle} missing: {upgrade}");
    }
    assert!(!s.visible("#team").await);
    assert!(!s.visible("#analytics").await);
    assert!(!s.visible("#board").await);

    let (bytes, entries) = s.bytes_loaded().await;
    println!("first load (empty state): {bytes} bytes: {entries:?}");
    assert!(
        entries.iter().any(|(n, _)| n.ends_with("/api/features")),
        "{entries:?}"
    );
    assert!(bytes > 10_000, "transfer sizes not measured: {entries:?}");
    assert!(bytes < FIRST_LOAD_BUDGET, "{bytes} bytes: {entries:?}");
    s.screenshot("solo-empty").await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_shows_an_agents_work_and_the_keyboard_reaches_task_details() {
    if !chromium_available() {
        return;
    }
    let m = Marcus::start(&[]);
    let (project, ids) = seed_project(&m);
    let api = ids["API"].as_str().unwrap().to_string();
    let ui = ids["UI"].as_str().unwrap().to_string();
    let s = Session::launch(1280, 900, false).await;
    s.goto(&format!("{}/", m.url)).await;
    s.wait_for(
        "document.querySelector('#queue-body [data-task]')",
        "the task queue",
    )
    .await;

    // Health and queue before any work.
    let health = s.text("#health").await;
    assert!(health.contains("Shop"), "{health}");
    assert!(health.contains("0 of 3 tasks done"), "{health}");
    assert!(
        health.contains("no pace yet"),
        "no completion yet: {health}"
    );
    assert!(health.contains("Velocity"), "{health}");
    assert!(health.contains("ETA"), "{health}");
    let ready: Vec<String> = s
        .eval("[...document.querySelectorAll('#queue-body .qsec:nth-child(1) button.task')].map(b => b.textContent)")
        .await;
    assert_eq!(ready, ["API", "Docs"]);
    assert!(s.text("#queue").await.contains("waits on API (todo)"));
    assert!(s.visible("#refresh").await);
    assert!(s.visible("#upgrade").await);
    assert!(!s.visible("#team").await);
    let (bytes, entries) = s.bytes_loaded().await;
    println!("first load (project board): {bytes} bytes");
    assert!(
        entries.iter().any(|(n, _)| n.contains("/queue")),
        "{entries:?}"
    );
    assert!(bytes < FIRST_LOAD_BUDGET, "{bytes} bytes: {entries:?}");
    s.screenshot("solo-board").await;

    // Turn the slow poll off so only the button can update the page.
    s.page
        .find_element("#auto-refresh")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        !s.eval::<bool>("document.getElementById('auto-refresh').checked")
            .await
    );
    let stamp_before = s.text("#last-updated").await;

    // An agent takes the head of the queue, reports, decides and completes it.
    let next = m.post_json("/api/agents/ada/next-task", &json!({})).json();
    assert_eq!(
        next["task"]["id"],
        json!(api),
        "the page's first ready task"
    );
    created(m.post_json(
        &format!("/api/tasks/{api}/progress"),
        &json!({"agent_id": "ada", "status": "in_progress", "progress": 60, "message": "cart routes done"}),
    ));
    created(m.post_json(
        &format!("/api/tasks/{api}/decisions"),
        &json!({"agent_id": "ada", "decision": "JSON over HTTP with axum"}),
    ));
    created(m.post_json(
        &format!("/api/tasks/{api}/progress"),
        &json!({"agent_id": "ada", "status": "completed", "progress": 100, "message": "merged"}),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.text("#health").await.contains("0 of 3 tasks done"),
        "no push in solo: the page waits for Refresh"
    );

    tokio::time::sleep(Duration::from_millis(1000)).await;
    s.page
        .find_element("#refresh")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_for(
        "document.getElementById('health').innerText.includes('1 of 3 tasks done')",
        "the completion after Refresh",
    )
    .await;
    let eta: String = s
        .eval("[...document.querySelectorAll('#health dt')].find(d => d.textContent === 'ETA').nextElementSibling.textContent")
        .await;
    assert!(
        eta.ends_with(" min") || eta.ends_with(" h"),
        "two tasks remain: ETA {eta}"
    );
    let queue = s.text("#queue").await;
    let done_section = queue
        .split("Recently completed")
        .nth(1)
        .expect("recently completed section");
    assert!(done_section.contains("API"), "{queue}");
    assert!(done_section.contains("ada"), "{queue}");
    assert!(!queue.contains("waits on API"), "UI is ready now: {queue}");
    assert_ne!(s.text("#last-updated").await, stamp_before);
    let announced = s.text("#announce").await;
    assert!(announced.contains("1 done"), "{announced}");
    let live: String = s
        .eval("document.getElementById('announce').getAttribute('aria-live')")
        .await;
    assert_eq!(live, "polite");
    s.screenshot("solo-board-after-refresh").await;

    // Keyboard only: Tab to UI in the queue, Enter opens it, Tab to its dependency, Enter
    // follows it, Escape closes and gives the focus back.
    s.eval::<bool>("(document.activeElement && document.activeElement.blur(), true)")
        .await;
    let ui_button = format!("#queue-body button[data-task=\"{ui}\"]");
    let presses = s.tab_to(&ui_button, 60).await;
    assert!(presses > 1, "the page has a tab order before the queue");
    let outline: String = s
        .eval("getComputedStyle(document.activeElement).outlineStyle")
        .await;
    assert_ne!(outline, "none", "focus is visible");
    s.press("Enter").await;
    s.wait_for(
        "document.getElementById('detail').open && document.getElementById('detail-title').textContent === 'UI' && document.querySelector('#detail-body .dep')",
        "the UI task detail",
    )
    .await;
    let detail = s.text("#detail").await;
    assert!(detail.contains("Dependencies"), "{detail}");
    assert!(detail.contains("No progress reported yet"), "{detail}");
    s.screenshot("task-detail-ui").await;
    s.tab_to("#detail-body button.dep", 10).await;
    s.press("Enter").await;
    s.wait_for(
        "document.getElementById('detail-title').textContent === 'API' && document.getElementById('detail-body').innerText.includes('merged')",
        "the API task detail",
    )
    .await;
    let detail = s.text("#detail-body").await;
    for needle in [
        "REST endpoints for the cart",
        "cart routes done",
        "60%",
        "completed",
        "JSON over HTTP with axum",
        "No blockers",
    ] {
        assert!(detail.contains(needle), "{needle} missing: {detail}");
    }
    assert!(
        !detail.contains("null") && !detail.contains("undefined"),
        "{detail}"
    );
    let hash: String = s.eval("location.hash").await;
    assert!(hash.contains(&api), "{hash}");
    assert!(hash.contains(&project), "{hash}");
    s.screenshot("task-detail-api").await;
    s.press("Escape").await;
    s.wait_for(
        "!document.getElementById('detail').open",
        "the detail to close",
    )
    .await;
    s.wait_for(
        &format!(
            "document.activeElement && document.activeElement.dataset.task === {}",
            json!(api)
        ),
        "the focus back on the task in the queue",
    )
    .await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_width_renders_without_horizontal_scrolling() {
    if !chromium_available() {
        return;
    }
    let m = Marcus::start(&[]);
    let (_project, ids) = seed_project(&m);
    let long = "a-very-long-task-name-without-any-spaces-that-must-wrap-instead-of-widening-the-page-0123456789";
    created(m.post_json(
        &format!("/api/projects/{_project}/tasks"),
        &json!({"tasks": [{"name": long, "labels": ["frontend", "accessibility", "internationalisation"]}]}),
    ));
    let api = ids["API"].as_str().unwrap();
    m.post_json("/api/agents/ada/next-task", &json!({}));
    created(m.post_json(
        &format!("/api/tasks/{api}/blockers"),
        &json!({"agent_id": "ada", "blocker_description": "The payment provider's sandbox credentials have not arrived yet", "severity": "high"}),
    ));
    let s = Session::launch(390, 844, true).await;
    s.goto(&format!("{}/", m.url)).await;
    s.wait_for(
        "document.querySelector('#queue-body [data-task]')",
        "the task queue",
    )
    .await;
    let width: u32 = s.eval("window.innerWidth").await;
    assert_eq!(width, 390);
    let no_scroll = "document.documentElement.scrollWidth <= window.innerWidth && document.body.scrollWidth <= window.innerWidth";
    let widths: Vec<u32> = s
        .eval(
            "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]",
        )
        .await;
    assert!(s.eval::<bool>(no_scroll).await, "scroll widths {widths:?}");
    assert!(s.text("#queue").await.contains("sandbox credentials"));
    assert!(s.text("#queue").await.contains(long));
    s.screenshot("phone").await;

    s.page
        .find_element(&format!("#queue-body button[data-task=\"{api}\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_for(
        "document.getElementById('detail').open && document.getElementById('detail-body').innerText.includes('sandbox credentials')",
        "the blocked task's detail",
    )
    .await;
    let widths: Vec<u32> = s
        .eval(
            "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]",
        )
        .await;
    assert!(s.eval::<bool>(no_scroll).await, "scroll widths {widths:?}");
    assert_eq!(s.eval::<u32>("window.innerWidth").await, 390);
    let dialog_fits: bool = s
        .eval(
            "document.getElementById('detail').getBoundingClientRect().right <= window.innerWidth",
        )
        .await;
    assert!(dialog_fits);
    s.screenshot("phone-task-detail").await;
    s.close().await;
}

/// Answers the page's `/api/features` requests with the server's own answer, changed by
/// `edit`: shows how the page follows the capabilities without building another tier.
async fn rewrite_features(s: &Session, edit: impl Fn(&mut Value) + Send + 'static, base: String) {
    let mut paused = s
        .page
        .event_listener::<EventRequestPaused>()
        .await
        .expect("fetch events");
    s.page
        .execute(
            fetch::EnableParams::builder()
                .pattern(
                    RequestPattern::builder()
                        .url_pattern("*/api/features")
                        .build(),
                )
                .build(),
        )
        .await
        .expect("Fetch.enable");
    let page = s.page.clone();
    tokio::spawn(async move {
        while let Some(e) = paused.next().await {
            let real = tokio::task::spawn_blocking({
                let url = format!("{base}/api/features");
                move || {
                    ureq::get(&url)
                        .call()
                        .expect("features")
                        .into_json::<Value>()
                        .expect("features JSON")
                }
            })
            .await
            .unwrap();
            let mut features = real;
            edit(&mut features);
            let body = base64::engine::general_purpose::STANDARD.encode(features.to_string());
            let mut answer = FulfillRequestParams::new(e.request_id.clone(), 200);
            answer.response_headers =
                Some(vec![HeaderEntry::new("content-type", "application/json")]);
            answer.body = Some(body.into());
            let _ = page.execute(answer).await;
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_view_and_analytics_follow_the_capabilities() {
    if !chromium_available() {
        return;
    }
    let m = Marcus::start(&[]);
    let (_project, ids) = seed_project(&m);
    created(m.post_json(
        "/api/agents",
        &json!({"agent_id": "bo", "name": "Bo", "role": "Frontend Developer", "skills": ["css", "a11y"]}),
    ));
    let api = ids["API"].as_str().unwrap();
    m.post_json("/api/agents/ada/next-task", &json!({}));
    created(m.post_json(
        &format!("/api/tasks/{api}/progress"),
        &json!({"agent_id": "ada", "status": "completed", "progress": 100}),
    ));
    let next = m.post_json("/api/agents/bo/next-task", &json!({})).json();
    let held = next["task"]["name"].as_str().unwrap().to_string();
    let held_id = next["task"]["id"].as_str().unwrap().to_string();
    created(m.post_json(
        &format!("/api/tasks/{held_id}/blockers"),
        &json!({"agent_id": "bo", "blocker_description": "design missing", "severity": "high"}),
    ));
    let next = m.post_json("/api/agents/ada/next-task", &json!({})).json();
    let working = next["task"]["id"].as_str().unwrap().to_string();

    let s = Session::launch(1280, 900, false).await;
    rewrite_features(
        &s,
        |f| {
            f["tier"] = json!("team");
            f["capabilities"]["collaboration"] = json!(true);
            f["capabilities"]["advanced_analytics"] = json!(true);
        },
        m.url.clone(),
    )
    .await;
    s.goto(&format!("{}/", m.url)).await;
    s.wait_for(
        "!document.getElementById('team').hidden && !document.getElementById('analytics').hidden && document.querySelector('#analytics svg path')",
        "team view and analytics",
    )
    .await;
    let tier: String = s.eval("document.getElementById('tier').textContent").await;
    assert_eq!(tier, "team");
    assert!(
        !s.visible("#upgrade").await,
        "no upgrade prompt beyond solo"
    );
    // Realtime is off in this answer: the manual controls stay.
    assert!(s.visible("#refresh").await);

    let team = s.text("#team").await;
    for needle in ["Ada", "Bo", "Backend Developer", "css, a11y"] {
        assert!(team.contains(needle), "{needle} missing: {team}");
    }
    let ada_completed: String = s
        .eval("[...document.querySelectorAll('#team tbody tr')].find(r => r.innerText.includes('Ada')).querySelector('td.num').textContent")
        .await;
    assert_eq!(ada_completed, "1", "Ada completed one task");
    let current: String = s
        .eval("[...document.querySelectorAll('#team tbody tr')].find(r => r.innerText.includes('Ada')).querySelector('button').dataset.task")
        .await;
    assert_eq!(current, working);

    let analytics = s.text("#analytics").await;
    assert!(analytics.contains("Projected completion"), "{analytics}");
    assert!(analytics.contains("Critical path"), "{analytics}");
    let risks = analytics.split("At-risk tasks").nth(1).unwrap_or("");
    assert!(
        risks.contains(&held),
        "{held} should be at risk: {analytics}"
    );
    let label: String = s
        .eval("document.querySelector('#analytics svg').getAttribute('aria-label')")
        .await;
    assert!(
        label.starts_with("Burndown: from 3 tasks to 2 remaining now"),
        "{label}"
    );
    s.screenshot("team-analytics").await;
    s.close().await;
}

/// The team tier's PostgreSQL client is blocking, so this test owns its runtime instead of
/// running inside one.
#[test]
fn team_tier_pushes_an_agents_work_into_the_page_without_a_reload() {
    if !chromium_available() {
        return;
    }
    let Some(team) = common::team::team("dashboard live push") else {
        return;
    };
    let m = Marcus::start_env(&[], &team.env());
    let features = m.get("/api/features").json();
    assert_eq!(features["tier"], "team", "{features}");
    let (_project, ids) = seed_project(&m);
    let api = ids["API"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(pushed_into_the_page(&m, &api));
}

/// Ada takes task `api` on `m` and completes it; the page shows the completion pushed to it.
async fn completed_and_pushed(s: &Session, m: &Marcus, api: &str) {
    let next = m.post_json("/api/agents/ada/next-task", &json!({})).json();
    assert_eq!(next["task"]["id"], json!(api));
    created(m.post_json(
        &format!("/api/tasks/{api}/progress"),
        &json!({"agent_id": "ada", "status": "completed", "progress": 100, "message": "merged"}),
    ));
    s.wait_for(
        "document.getElementById('health').innerText.includes('1 of 3 tasks done')",
        "the pushed completion",
    )
    .await;
}

async fn pushed_into_the_page(m: &Marcus, api: &str) {
    let s = Session::launch(1280, 900, false).await;
    s.goto(&format!("{}/", m.url)).await;
    s.wait_for(
        "document.querySelector('#queue-body [data-task]') && document.getElementById('live-text').textContent === 'live'",
        "the queue and a live push connection",
    )
    .await;
    assert!(s.visible("#live").await, "the live indicator is shown");
    assert!(
        !s.visible("#refresh").await,
        "no Refresh button while pushed"
    );
    assert!(
        !s.visible("#upgrade").await,
        "no upgrade prompt in the team tier"
    );
    assert!(s.visible("#team").await, "team view with collaboration");
    assert!(s.text("#health").await.contains("0 of 3 tasks done"));
    // Mark the document: a reload would lose the mark.
    let _: bool = s.eval("(window.__sameDocument = true)").await;

    completed_and_pushed(&s, m, api).await;
    assert!(
        s.eval::<bool>("window.__sameDocument === true").await,
        "the page was updated in place, not reloaded"
    );
    assert!(s.text("#team").await.contains("Ada"));
    s.screenshot("team-live").await;
    s.close().await;
}

#[test]
fn a_server_that_requires_credentials_asks_for_a_token_and_pushes_with_it() {
    if !chromium_available() {
        return;
    }
    let Some(team) = common::team::team("dashboard with a token") else {
        return;
    };
    let env = team.env();
    // One host without credentials seeds the board and does the agent's work; the page
    // talks to another host of the same team that requires a token.
    let open = Marcus::start_env(&[], &env);
    let (_project, ids) = seed_project(&open);
    let api = ids["API"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_marcus"))
        .args([
            "token",
            "create",
            "--role",
            "viewer",
            "--name",
            "wall",
            "--quiet",
            "--data-dir",
        ])
        .arg(dir.path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8(made.stdout).unwrap().trim().to_string();
    let guarded = Marcus::start_env(&["--require-auth"], &env);
    assert_eq!(guarded.get("/api/projects").status, 401);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let s = Session::launch(1280, 900, false).await;
        // The person answers the page's question with the token (and a count of questions).
        s.page
            .evaluate_on_new_document(format!(
                "window.__asked = 0; window.prompt = () => {{ window.__asked += 1; return {}; }};",
                json!(token)
            ))
            .await
            .expect("prompt answer");
        s.goto(&format!("{}/", guarded.url)).await;
        s.wait_for(
            "document.querySelector('#queue-body [data-task]') && document.getElementById('live-text').textContent === 'live'",
            "the queue and a live push connection read with the token",
        )
        .await;
        assert_eq!(s.eval::<u32>("window.__asked").await, 1, "asked once");
        assert_eq!(
            s.eval::<String>("sessionStorage.getItem('marcus.token')").await,
            token
        );
        // The work done on the other host reaches the page through the authorized stream.
        completed_and_pushed(&s, &open, &api).await;
        assert_eq!(s.eval::<u32>("window.__asked").await, 1, "not asked again");
        // The one refusal before the token was given is the only error the browser saw.
        let errors = s.take_errors();
        assert!(
            errors.iter().all(|e| e.contains("401")),
            "browser errors: {errors:?}"
        );
        s.close().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_retried_from_the_page() {
    if !chromium_available() {
        return;
    }
    // No job runner on this host: a retried job stays queued, so the page's change is ours.
    // `--debug-routes` opens the board's own collections to the raw storage API for the seed.
    let m = Marcus::start(&["--jobs-interval-ms", "0", "--debug-routes"]);
    let (project, _ids) = seed_project(&m);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // A delivery that used up its attempts, as the runner leaves it.
    created(m.put_json(
        "/api/storage/jobs/dlv-dead-1",
        &json!({"id": "dlv-dead-1", "kind": "webhook-delivery", "status": "dead",
                "payload": {"webhook_id": "wh-1", "event_id": "evt-1"}, "attempts": 3,
                "max_attempts": 3, "run_at": 1, "last_error": "receiver answered HTTP 503",
                "project_id": project, "created_at": now - 60_000, "updated_at": now - 5_000}),
    ));
    let s = Session::launch(1280, 900, false).await;
    s.goto(&format!("{}/#project={}", m.url, project)).await;
    s.wait_for(
        "!document.getElementById('dead-letters').hidden",
        "the dead-letter list",
    )
    .await;
    let listed = s.text("#dead-letters").await;
    assert!(listed.contains("webhook-delivery"), "{listed}");
    assert!(listed.contains("receiver answered HTTP 503"), "{listed}");
    s.screenshot("dead-letters").await;
    s.page
        .find_element("#dead-letters-body button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_for(
        "document.getElementById('dead-letters').hidden",
        "the list to empty after the retry",
    )
    .await;
    let job = m.get("/api/jobs/dlv-dead-1").json();
    assert_eq!(job["job"]["status"], "queued", "{job}");
    assert_eq!(job["job"]["attempts"], 0, "{job}");
    s.close().await;
}

/// A page on another origin (another port of loopback) that tries each attack the browser
/// protections close and records what it saw; the server's state tells whether any worked.
const ATTACKER_PAGE: &str = r#"<!doctype html><html><head><title>elsewhere</title></head><body><script>
window.results = {};
const target = new URL(location.href).searchParams.get("target");
const post = (path, body) => fetch(target + path, {method: "POST", mode: "no-cors",
  headers: {"content-type": "text/plain"}, body: JSON.stringify(body)}).then(r => r.type);
function opened(make) {
  return new Promise(done => {
    let s;
    try { s = make(); } catch (e) { return done("threw"); }
    s.onopen = () => { s.close(); done("open"); };
    s.onerror = () => { s.close(); done("refused"); };
    s.onmessage = () => { s.close(); done("message"); };
    setTimeout(() => { s.close(); done("timeout"); }, 8000);
  });
}
(async () => {
  const r = window.results;
  r.project = await post("/api/projects", {project_name: "pwned", tasks: [{name: "x"}]}).catch(e => "failed");
  r.agent = await post("/api/agents", {agent_id: "mallory", name: "M", role: "dev", skills: []}).catch(e => "failed");
  r.batch = await post("/api/storage/_batch", {writes: [{collection: "loot", id: "x", data: {}}]}).catch(e => "failed");
  r.mcp = await post("/mcp", {jsonrpc: "2.0", id: 1, method: "tools/call",
    params: {name: "create_project", arguments: {project_name: "pwned-mcp", tasks: []}}}).catch(e => "failed");
  r.bodiless = await fetch(target + "/api/projects", {method: "POST", mode: "no-cors"}).then(x => x.type).catch(e => "failed");
  r.read = await fetch(target + "/api/projects").then(x => "read " + x.status).catch(e => "blocked");
  r.websocket = await opened(() => new WebSocket(target.replace("http:", "ws:") + "/api/ws"));
  r.sse = await opened(() => new EventSource(target + "/api/events/stream?channel=agents"));
  const frame = document.createElement("iframe");
  frame.src = target + "/";
  document.body.append(frame);
  await new Promise(done => { frame.onload = done; setTimeout(done, 5000); });
  window.done = true;
})();
</script></body></html>"#;

/// Serves [`ATTACKER_PAGE`] for every request on a free loopback port until the test ends.
fn serve_attacker_page() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ATTACKER_PAGE}",
                ATTACKER_PAGE.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    port
}

/// The value of one sample of `name` whose labels contain `labels`.
fn metric(m: &Marcus, name: &str, labels: &str) -> f64 {
    let text = String::from_utf8(m.get("/metrics").body).unwrap();
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_another_origin_fails_every_attack() {
    if !chromium_available() {
        return;
    }
    let m = Marcus::start(&[]);
    let attacker = serve_attacker_page();
    let s = Session::launch(1024, 768, false).await;
    s.goto(&format!("http://127.0.0.1:{attacker}/?target={}", m.url))
        .await;
    s.wait_for("window.done === true", "the attacker page to finish")
        .await;
    let results: Value = s.eval("window.results").await;
    println!("what the attacker page saw: {results}");
    // The page cannot read, stream or subscribe.
    assert_eq!(results["read"], "blocked", "{results}");
    assert_eq!(results["websocket"], "refused", "{results}");
    assert_eq!(results["sse"], "refused", "{results}");
    // Its writes left nothing behind: no project, agent, document or MCP project.
    let projects = m.get("/api/projects").json();
    assert_eq!(
        projects["projects"].as_array().map(Vec::len),
        Some(0),
        "{projects}"
    );
    let agents = m.get("/api/agents").json();
    assert_eq!(
        agents["agents"].as_array().map(Vec::len),
        Some(0),
        "{agents}"
    );
    assert_eq!(m.get("/api/storage/loot/x").status, 404);
    // The server refused each of them itself (the browser sent them all).
    let refused = metric(&m, "marcus_requests_refused_total", "origin_not_allowed");
    assert!(refused >= 8.0, "refusals counted: {refused}");
    // The dashboard would not render inside the attacker's frame.
    let errors = s.take_errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("frame-ancestors") || e.contains("X-Frame-Options")),
        "the frame was not refused: {errors:?}"
    );
    s.close().await;

    // A DNS-rebinding page: the attacker's name resolves to loopback, the server refuses it.
    let s = Session::launch_with(
        1024,
        768,
        false,
        &[(
            "host-resolver-rules",
            "MAP rebind.attacker.example 127.0.0.1",
        )],
    )
    .await;
    let port = m.url.rsplit(':').next().unwrap().to_string();
    s.goto(&format!(
        "http://rebind.attacker.example:{port}/api/projects"
    ))
    .await;
    let text = s.text("body").await;
    assert!(text.contains("host_not_allowed"), "{text}");
    s.take_errors();
    s.close().await;

    // The server's own page still works, with its protections in place.
    let s = Session::launch(1024, 768, false).await;
    s.goto(&m.url).await;
    s.wait_for("!document.getElementById('empty').hidden", "the dashboard")
        .await;
    s.close().await;
    let page = m.get("/");
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
    );
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        page.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reads_the_audit_log_in_the_page() {
    if !chromium_available() {
        return;
    }
    // On loopback without credentials the person at the keyboard is the admin.
    let m = Marcus::start(&[]);
    let (project, _ids) = seed_project(&m);
    let s = Session::launch(1280, 900, false).await;
    s.goto(&format!("{}/#project={}", m.url, project)).await;
    s.wait_for("!document.getElementById('board').hidden", "the board")
        .await;
    assert_eq!(
        s.eval::<String>("document.getElementById('audit-body').textContent")
            .await,
        "",
        "read only when asked"
    );
    s.page
        .find_element("#audit-show")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_for(
        "document.querySelector('#audit-body tbody tr')",
        "the audit records",
    )
    .await;
    let listed = s.text("#audit").await;
    assert!(listed.contains("project.create"), "{listed}");
    assert!(listed.contains("success"), "{listed}");
    s.screenshot("audit-log").await;
    let errors = s.take_errors();
    assert!(errors.is_empty(), "browser errors: {errors:?}");
    s.close().await;
}
