// Marcus dashboard: reads /api/features first, then shows what the infrastructure allows.
// Plain DOM code; every text from the board goes through textContent, never HTML.
"use strict";

(function () {
  const POLL_MS = 30000;
  const DEBOUNCE_MS = 300;
  const state = {
    features: null,
    projects: [],
    projectId: null,
    names: {},          // task id -> name, from the last queue
    skewMs: 0,          // server clock minus browser clock
    leaseTimers: [],    // [element, expires_at]
    pollTimer: null,
    streams: [],
    loading: null,
    again: false,
    detailTask: null,
    csrf: null,         // the signed-in session's CSRF token
    auditShown: false,  // the audit log was asked for, so each refresh reads it again
  };

  // ---------- small helpers ----------
  const $ = (id) => document.getElementById(id);

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "style") el.style.cssText = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  // A server that requires credentials answers 401: ask for a token once, keep it for
  // this tab only, and send it with every request.
  const TOKEN_KEY = "marcus.token";
  function withToken(headers) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? Object.assign({ authorization: "Bearer " + token }, headers) : headers;
  }
  function askForToken() {
    const token = window.prompt("This Marcus requires an access token (an admin makes one with `marcus token create`), or sign in through your organisation at /auth/oidc/login?tenant=NAME:");
    if (!token || !token.trim()) return false;
    sessionStorage.setItem(TOKEN_KEY, token.trim());
    return true;
  }

  async function getJson(path) {
    let r = await fetch(path, { headers: withToken({ accept: "application/json" }) });
    if (r.status === 401 && askForToken()) {
      r = await fetch(path, { headers: withToken({ accept: "application/json" }) });
    }
    let body = null;
    try { body = await r.json(); } catch (_) { body = null; }
    if (!r.ok) {
      const msg = body && body.error ? body.error.message : r.status + " " + r.statusText;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  const enc = encodeURIComponent;
  const label = (s) => String(s || "").replace(/_/g, " ");
  const fmtTime = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const fmtDate = (ms) => new Date(ms).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

  function fmtHours(h) {
    if (h === null || h === undefined) return "unknown";
    if (h < 1) return Math.max(1, Math.round(h * 60)) + " min";
    if (h < 48) return (Math.round(h * 10) / 10) + " h";
    return (Math.round(h / 2.4) / 10) + " days";
  }

  function fmtAgo(ms) {
    const s = Math.max(0, Math.round((Date.now() + state.skewMs - ms) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }

  function fmtLeft(expiresAt) {
    const s = Math.max(0, Math.ceil((expiresAt - Date.now() - state.skewMs) / 1000));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") + " left";
  }

  function announce(text) { $("announce").textContent = text; }

  function showError(text) {
    const e = $("error");
    e.textContent = text || "";
    e.hidden = !text;
  }

  // ---------- navigation (hash: #project=<id>&task=<id>) ----------
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    return { project: p.get("project"), task: p.get("task") };
  }

  function writeHash(project, task) {
    const p = new URLSearchParams();
    if (project) p.set("project", project);
    if (task) p.set("task", task);
    const next = "#" + p.toString();
    if (location.hash !== next) location.hash = next;
  }

  function taskButton(id, name, extraClass) {
    return h("button", {
      type: "button",
      class: "link " + (extraClass || ""),
      "data-task": id,
      onclick: () => openTask(id),
    }, name || state.names[id] || id);
  }

  function openTask(id) { writeHash(state.projectId, id); }

  // ---------- copy the MCP URL ----------
  function setupConnect() {
    const url = location.origin + "/mcp";
    document.querySelectorAll(".mcp-url").forEach((el) => { el.textContent = url; });
    $("create-example").textContent =
      "curl -s " + location.origin + "/api/projects -H 'content-type: application/json' \\\n" +
      "  -d '{\"project_name\": \"demo\", \"tasks\": [{\"name\": \"API\"},\n" +
      "       {\"name\": \"UI\", \"dependencies\": [\"API\"]}]}'";
    document.querySelectorAll(".copy-mcp").forEach((btn) => {
      btn.addEventListener("click", async () => {
        const original = btn.textContent;
        try {
          await navigator.clipboard.writeText(url);
          btn.textContent = "Copied";
          announce("MCP URL copied: " + url);
        } catch (_) {
          const code = btn.parentElement.querySelector(".mcp-url");
          const range = document.createRange();
          range.selectNodeContents(code);
          const sel = getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          btn.textContent = "Press Ctrl+C";
          announce("The MCP URL is selected; press Control C to copy it");
        }
        setTimeout(() => { btn.textContent = original; }, 2000);
      });
    });
  }

  // ---------- loading ----------
  async function refresh() {
    if (state.loading) { state.again = true; return state.loading; }
    state.loading = (async () => {
      try {
        await load();
        showError("");
      } catch (e) {
        showError("Could not load the board: " + e.message);
      } finally {
        state.loading = null;
        if (state.again) { state.again = false; refresh(); }
      }
    })();
    return state.loading;
  }

  async function load() {
    const features = await getJson("/api/features");
    const firstFeatures = !state.features;
    state.features = features;
    renderTier(features);
    if (firstFeatures) setupSync();
    const list = await getJson("/api/projects");
    state.projects = list.projects || [];
    const empty = state.projects.length === 0;
    $("empty").hidden = !empty;
    $("board").hidden = empty;
    $("picker-box").hidden = empty;
    if (empty) {
      state.projectId = null;
      stamp("No projects yet");
      return;
    }
    const wanted = readHash().project || state.projectId || localStorage.getItem("marcus.project");
    const known = state.projects.find((p) => p.id === wanted);
    const projectId = known ? known.id : state.projects[0].id;
    const changed = projectId !== state.projectId;
    state.projectId = projectId;
    localStorage.setItem("marcus.project", projectId);
    renderPicker();
    if (changed) connectStreams();
    const caps = features.capabilities || {};
    const pid = enc(projectId);
    const [status, health, queue, agents, analytics, dead] = await Promise.all([
      getJson("/api/projects/" + pid),
      getJson("/api/projects/" + pid + "/health"),
      getJson("/api/projects/" + pid + "/queue"),
      caps.collaboration ? getJson("/api/agents") : null,
      caps.advanced_analytics ? getJson("/api/projects/" + pid + "/analytics") : null,
      getJson("/api/jobs?status=dead&limit=20&project_id=" + pid),
    ]);
    state.skewMs = queue.generated_at - Date.now();
    rememberNames(queue.queue);
    renderHealth(status, health, queue.queue);
    renderQueue(queue.queue);
    $("team").hidden = !agents;
    if (agents) renderTeam(agents.agents || []);
    $("analytics").hidden = !analytics;
    if (analytics) renderAnalytics(analytics);
    renderDeadLetters(dead.jobs || []);
    if (state.auditShown) showAudit();
    const q = queue.queue;
    stamp(q.ready.length + " ready, " + q.in_progress.length + " in progress, " +
      q.waiting.length + " waiting, " + q.blocked.length + " blocked, " + q.done + " done");
    const hash = readHash();
    if (hash.task && hash.task !== state.detailTask) showTask(hash.task);
    else if (hash.task && $("detail").open) showTask(hash.task, true);
  }

  function stamp(summary) {
    const now = new Date();
    const t = $("last-updated");
    t.textContent = fmtTime(now);
    t.setAttribute("datetime", now.toISOString());
    announce("Updated " + fmtTime(now) + ": " + summary);
  }

  function rememberNames(q) {
    for (const list of [q.ready, q.in_progress, q.waiting, q.blocked, q.recently_done]) {
      for (const t of list) state.names[t.id] = t.name;
    }
    for (const w of q.waiting) for (const d of w.waiting_on) state.names[d.id] = d.name;
  }

  // ---------- tier, live indicator, polling ----------
  function renderTier(f) {
    $("tier").textContent = f.tier;
    $("tier").className = "badge tier-" + f.tier;
    $("upgrade").hidden = f.tier !== "solo";
    // One installation may serve many organisations: name whose board this is, unless it
    // is the only one there ever was.
    const tenant = f.tenant || "default";
    $("tenant").textContent = "tenant " + tenant;
    $("tenant").hidden = tenant === "default";
  }

  function pushUrl() {
    const f = state.features || {};
    const caps = f.capabilities || {};
    return caps.realtime && f.push && f.push.sse ? f.push.sse : null;
  }

  function setupSync() {
    const live = !!pushUrl();
    $("live").hidden = !live;
    $("manual").hidden = live;
    if (!live) schedulePoll();
  }

  function schedulePoll() {
    clearInterval(state.pollTimer);
    state.pollTimer = null;
    if ($("auto-refresh").checked && !pushUrl()) {
      state.pollTimer = setInterval(refresh, POLL_MS);
    }
  }

  let debounceTimer = null;
  function refreshSoon() {
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(refresh, DEBOUNCE_MS);
  }

  function setLive(mode) {
    const el = $("live");
    el.className = "live " + mode;
    $("live-text").textContent = mode === "on" ? "live" : "reconnecting…";
    el.title = mode === "on" ? "Updates are pushed by the server" : "The connection dropped; reconnecting";
    // While the push connection is down, people can still refresh by hand.
    $("manual").hidden = mode === "on";
  }

  // EventSource cannot send a token, so with one the same stream is read through fetch,
  // which can: the same events, the same reconnection with Last-Event-ID (after 3 s).
  function openStream(url) {
    if (!sessionStorage.getItem(TOKEN_KEY)) return new EventSource(url);
    const stream = {
      onopen: null, onerror: null, onmessage: null, closed: false, lastId: null, abort: null,
      close() { this.closed = true; if (this.abort) this.abort.abort(); },
    };
    const dispatch = (block) => {
      let data = null;
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("id:")) stream.lastId = line.slice(3).trim();
        else if (line.startsWith("data:")) data = (data === null ? "" : data + "\n") + line.slice(5).replace(/^ /, "");
      }
      if (data !== null && stream.onmessage) stream.onmessage({ data: data, lastEventId: stream.lastId });
    };
    (async () => {
      while (!stream.closed) {
        stream.abort = new AbortController();
        try {
          const headers = withToken({ accept: "text/event-stream" });
          if (stream.lastId !== null) headers["last-event-id"] = stream.lastId;
          const r = await fetch(url, { headers: headers, signal: stream.abort.signal });
          if (r.ok && r.body) {
            if (stream.onopen) stream.onopen();
            const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
            let buffered = "";
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffered += value;
              let end;
              while ((end = buffered.search(/\r?\n\r?\n/)) >= 0) {
                dispatch(buffered.slice(0, end));
                buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, "");
              }
            }
          }
        } catch (_) {
          // Dropped, refused or closed: reconnect below unless closed.
        }
        if (stream.closed) return;
        if (stream.onerror) stream.onerror();
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    })();
    return stream;
  }

  // One stream per channel; each reconnects by itself (with Last-Event-ID).
  function connectStreams() {
    for (const s of state.streams) s.close();
    state.streams = [];
    const base = pushUrl();
    if (!base || !state.projectId) return;
    const channels = ["project:" + state.projectId];
    if ((state.features.capabilities || {}).collaboration) channels.push("agents");
    for (const channel of channels) {
      const sep = base.includes("?") ? "&" : "?";
      const es = openStream(base + sep + "channel=" + enc(channel));
      es.onopen = () => setLive("on");
      es.onerror = () => setLive("reconnecting");
      es.onmessage = () => refreshSoon();
      state.streams.push(es);
    }
    setLive("reconnecting");
  }

  // ---------- project picker and list ----------
  function renderPicker() {
    const sel = $("project-picker");
    sel.replaceChildren(...state.projects.map((p) =>
      h("option", { value: p.id, selected: p.id === state.projectId },
        p.name + " (" + p.completion_percentage + "%)")));
    const list = $("project-list");
    list.replaceChildren(...state.projects.map((p) =>
      h("li", {},
        h("button", {
          type: "button",
          class: "link" + (p.id === state.projectId ? " current" : ""),
          "aria-current": p.id === state.projectId ? "true" : null,
          onclick: () => writeHash(p.id, null),
        }, p.name),
        bar(p.completion_percentage, p.name + " completion"),
        h("span", { class: "muted" }, p.completion_percentage + "% of " + p.total_tasks))));
  }

  function bar(percent, name) {
    return h("span", {
      class: "bar", role: "progressbar", "aria-label": name,
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(percent),
    }, h("span", { class: "fill", style: "width:" + Math.min(100, percent) + "%" }));
  }

  // ---------- project health ----------
  function renderHealth(statusAnswer, healthAnswer, q) {
    const s = statusAnswer.status;
    const project = statusAnswer.project;
    // The server's one forecast: the later of the pace's and the critical path's bound.
    const eta = s.total > 0 && s.done === s.total ? "done"
      : s.eta_hours === null ? "unknown"
      : fmtHours(s.eta_hours) + (s.velocity_per_hour > 0 ? "" : " (critical path; no pace yet)");
    const tile = (name, value, cls) => h("div", { class: "tile " + (cls || "") },
      h("span", { class: "value" }, String(value)), h("span", { class: "name" }, name));
    const health = healthAnswer.health || healthAnswer;
    const issues = health.issues || [];
    const body = [
      h("p", { class: "project-name" }, h("strong", {}, project.name),
        project.description ? " — " + project.description : ""),
      h("div", { class: "completion" },
        h("span", { class: "big" }, s.completion_percentage + "%"),
        bar(s.completion_percentage, "Completion"),
        h("span", { class: "muted" }, s.done + " of " + s.total + " tasks done")),
      h("div", { class: "tiles" },
        tile("todo", s.todo), tile("in progress", s.in_progress, "accent"),
        tile("blocked", s.blocked, s.blocked ? "bad" : ""), tile("done", s.done, "good"),
        tile("stale leases", s.stale_lease_task_ids.length, s.stale_lease_task_ids.length ? "warn" : "")),
      h("dl", { class: "facts" },
        h("dt", {}, "Velocity"), h("dd", {}, s.velocity_per_hour + " tasks/h (" + s.velocity_per_day + "/day)"),
        h("dt", {}, "ETA"), h("dd", {}, eta),
        h("dt", {}, "Board health"), h("dd", {}, (health.score !== undefined ? health.score + "/100, " : "") + (health.status || ""))),
    ];
    if (s.blocked_task_ids.length) {
      body.push(h("p", {}, "Blocked: ", ...joinButtons(s.blocked_task_ids)));
    }
    if (s.stale_lease_task_ids.length) {
      body.push(h("p", {}, "Stale leases (the next claim takes them over): ", ...joinButtons(s.stale_lease_task_ids)));
    }
    if (issues.length) {
      body.push(h("ul", { class: "issues" }, issues.map((i) =>
        h("li", { class: "sev-" + i.severity }, h("span", { class: "tag" }, i.severity), " " + i.message))));
    }
    $("health-body").replaceChildren(...body);
  }

  function joinButtons(ids) {
    const out = [];
    ids.forEach((id, i) => {
      if (i) out.push(", ");
      out.push(taskButton(id));
    });
    return out;
  }

  // ---------- task queue ----------
  function renderQueue(q) {
    state.leaseTimers = [];
    const section = (title, items, render, emptyText) => h("div", { class: "qsec" },
      h("h3", {}, title + " ", h("span", { class: "count" }, String(items.length))),
      items.length ? h("ol", { class: "tasks" }, items.map(render)) : h("p", { class: "muted" }, emptyText));
    const ready = (t) => h("li", {},
      taskButton(t.id, t.name, "task"),
      h("span", { class: "meta" },
        h("span", { class: "tag prio-" + t.priority }, t.priority),
        t.labels.length ? " " + t.labels.join(", ") : "",
        t.reclaims_expired_lease ? h("span", { class: "tag warn" }, "lease expired") : ""));
    const working = (t) => {
      const left = h("span", { class: "lease" }, fmtLeft(t.lease_expires_at));
      state.leaseTimers.push([left, t.lease_expires_at]);
      return h("li", {},
        taskButton(t.id, t.name, "task"),
        h("span", { class: "meta" }, t.agent_id + " · " + t.progress + "% · ", left));
    };
    const waiting = (t) => h("li", {},
      taskButton(t.id, t.name, "task"),
      h("span", { class: "meta" }, "waits on " +
        t.waiting_on.map((d) => d.name + " (" + label(d.status) + ")").join(", ")));
    const blocked = (t) => h("li", {},
      taskButton(t.id, t.name, "task"),
      t.blockers.length
        ? h("ul", { class: "blockers" }, t.blockers.map((b) => h("li", {},
          h("span", { class: "tag sev-" + b.severity }, b.severity), " " + b.description,
          h("span", { class: "muted" }, " — " + b.agent_id + ", " + fmtAgo(b.reported_at)))))
        : h("span", { class: "meta" }, "no open blocker recorded"));
    const done = (t) => h("li", {},
      taskButton(t.id, t.name, "task"),
      h("span", { class: "meta" }, (t.completed_by ? t.completed_by + " · " : "") +
        (t.completed_at ? fmtAgo(t.completed_at) : "")));
    $("queue-body").replaceChildren(
      section("Ready, in hand-out order", q.ready, ready, "Nothing is ready right now."),
      section("In progress", q.in_progress, working, "No task is in progress."),
      section("Waiting on dependencies", q.waiting, waiting, "Nothing waits on dependencies."),
      section("Blocked", q.blocked, blocked, "Nothing is blocked."),
      section("Recently completed", q.recently_done, done, "Nothing is done yet."),
    );
  }

  function tickLeases() {
    for (const [el, at] of state.leaseTimers) el.textContent = fmtLeft(at);
  }

  // ---------- team ----------
  function renderTeam(agents) {
    if (!agents.length) {
      $("team-body").replaceChildren(h("p", { class: "muted" }, "No agent has registered yet."));
      return;
    }
    const rows = agents.map((a) => h("tr", {},
      h("th", { scope: "row" }, a.name, h("span", { class: "muted block" }, a.id + (a.role ? " · " + a.role : ""))),
      h("td", {}, a.skills.join(", ") || "—"),
      h("td", {}, a.current_task_id ? taskButton(a.current_task_id) : "idle"),
      h("td", {}, fmtAgo(a.last_seen)),
      h("td", { class: "num" }, String(a.completed_tasks_count))));
    $("team-body").replaceChildren(h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Agent", "Skills", "Current task", "Last seen", "Completed"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))));
  }

  // ---------- dead letters ----------
  function renderDeadLetters(jobs) {
    $("dead-letters").hidden = !jobs.length;
    if (!jobs.length) return;
    const rows = jobs.map((j) => {
      const retry = h("button", { type: "button", class: "link" }, "Retry");
      retry.addEventListener("click", async () => {
        retry.disabled = true;
        try {
          const r = await fetch("/api/jobs/" + enc(j.id) + "/retry", { method: "POST", headers: withToken({}) });
          if (!r.ok) throw new Error((await r.json()).error.message);
          announce("Job " + j.id + " queued again");
          refreshSoon();
        } catch (e) {
          retry.disabled = false;
          showError("Retry failed: " + e.message);
        }
      });
      return h("tr", {},
        h("th", { scope: "row" }, j.kind, h("span", { class: "muted block" }, j.id)),
        h("td", {}, j.last_error || "—"),
        h("td", { class: "num" }, String(j.attempts)),
        h("td", {}, fmtAgo(j.updated_at)),
        h("td", {}, retry));
    });
    $("dead-letters-body").replaceChildren(h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Job", "Last error", "Attempts", "Failed", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))));
  }

  // ---------- audit log ----------
  // Read only when asked (and then at each refresh): only admins may, and a page for anyone
  // else should not meet a refusal on every load.
  async function showAudit() {
    state.auditShown = true;
    try {
      renderAudit(await getJson("/api/audit?limit=25"));
      $("audit-show").hidden = true;
    } catch (e) {
      $("audit-body").replaceChildren(h("p", { class: "muted" },
        e.status === 403 ? "Only an admin of this organisation may read the audit log." : "The audit log could not be read: " + e.message));
    }
  }

  function renderAudit(page) {
    const rows = (page.records || []).map((r) => h("tr", { class: "outcome-" + r.outcome },
      h("td", {}, fmtDate(r.at)),
      h("th", { scope: "row" }, r.actor.id || "anonymous", h("span", { class: "muted block" }, r.actor.verified_by)),
      h("td", {}, r.action),
      h("td", {}, r.outcome),
      h("td", {}, r.target.kind ? r.target.kind + " " + r.target.id : "—"),
      h("td", { class: "num" }, String(r.seq))));
    $("audit-body").replaceChildren(h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Outcome", "Target", "#"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))));
  }

  // ---------- analytics ----------
  function renderAnalytics(a) {
    const f = a.forecast;
    const basis = {
      velocity: "the pace of recent completions",
      critical_path: "the critical path of remaining estimates",
      done: "all tasks done",
      empty: "no tasks",
    }[f.basis] || f.basis;
    const parts = [
      h("dl", { class: "facts" },
        h("dt", {}, "Projected completion"),
        h("dd", {}, f.projected_completion_at ? fmtDate(f.projected_completion_at) + " (in " + fmtHours(f.projected_hours) + ")" : "unknown"),
        h("dt", {}, "Based on"), h("dd", {}, basis),
        h("dt", {}, "At current velocity"), h("dd", {}, f.hours_by_velocity === null ? "no pace yet" : fmtHours(f.hours_by_velocity)),
        h("dt", {}, "Critical path"), h("dd", {}, fmtHours(f.hours_by_critical_path) + " through " + (f.critical_path.length ? "" : "nothing"),
          ...joinButtons(f.critical_path)),
        h("dt", {}, "Remaining work"), h("dd", {}, f.remaining_tasks + " tasks, " + fmtHours(f.remaining_work_hours) + " estimated")),
      h("h3", {}, "Burndown"),
      burndownChart(a.burndown, f),
      h("h3", {}, "At-risk tasks"),
      a.at_risk.length
        ? h("ul", { class: "risks" }, a.at_risk.map((r) => h("li", {},
          h("span", { class: "tag sev-" + r.severity }, r.severity), " ", taskButton(r.id, r.name),
          r.on_critical_path ? h("span", { class: "tag" }, "critical path") : "",
          h("span", { class: "meta" }, r.detail))))
        : h("p", { class: "muted" }, "No task is at risk."),
    ];
    $("analytics-body").replaceChildren(...parts);
  }

  function burndownChart(points, f) {
    const NS = "http://www.w3.org/2000/svg";
    const W = 640, H = 220, L = 44, R = 12, T = 12, B = 30;
    const s = (tag, attrs, text) => {
      const el = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (text !== undefined) el.textContent = text;
      return el;
    };
    if (!points.length) return h("p", { class: "muted" }, "No history yet.");
    const t0 = points[0].at;
    const last = points[points.length - 1];
    const tEnd = Math.max(last.at, f.projected_completion_at || 0, t0 + 1);
    const yMax = Math.max(1, ...points.map((p) => p.remaining + p.done), ...points.map((p) => p.remaining));
    const x = (t) => L + (t - t0) / (tEnd - t0) * (W - L - R);
    const y = (v) => T + (1 - v / yMax) * (H - T - B);
    const svg = s("svg", {
      viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
      "aria-label": "Burndown: from " + Math.max(...points.map((p) => p.remaining)) + " tasks to " +
        last.remaining + " remaining now" +
        (f.projected_completion_at && last.remaining ? ", projected to reach 0 at " + fmtDate(f.projected_completion_at) : ""),
    });
    svg.append(s("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), class: "axis" }));
    svg.append(s("line", { x1: L, y1: T, x2: L, y2: y(0), class: "axis" }));
    svg.append(s("text", { x: L - 6, y: y(yMax) + 4, class: "label", "text-anchor": "end" }, String(yMax)));
    svg.append(s("text", { x: L - 6, y: y(0) + 4, class: "label", "text-anchor": "end" }, "0"));
    svg.append(s("text", { x: L, y: H - 8, class: "label" }, fmtDate(t0)));
    svg.append(s("text", { x: W - R, y: H - 8, class: "label", "text-anchor": "end" }, fmtDate(tEnd)));
    // Step line: remaining stays flat until the next change.
    let d = "M" + x(t0).toFixed(1) + " " + y(points[0].remaining).toFixed(1);
    for (const p of points.slice(1)) d += " H" + x(p.at).toFixed(1) + " V" + y(p.remaining).toFixed(1);
    svg.append(s("path", { d, class: "remaining" }));
    if (f.projected_completion_at && last.remaining > 0) {
      svg.append(s("line", {
        x1: x(last.at), y1: y(last.remaining), x2: x(f.projected_completion_at), y2: y(0), class: "projection",
      }));
    }
    return h("figure", { class: "chart-box" }, svg,
      h("figcaption", { class: "muted" }, "Remaining tasks over time (solid) and the projection (dashed)."));
  }

  // ---------- task detail ----------
  async function showTask(taskId, quiet) {
    const dialog = $("detail");
    state.detailTask = taskId;
    if (!quiet) {
      $("detail-title").textContent = state.names[taskId] || "Task";
      $("detail-body").replaceChildren(h("p", { class: "muted" }, "Loading…"));
    }
    if (!dialog.open) dialog.showModal();
    try {
      const [ctx, tl] = await Promise.all([
        getJson("/api/tasks/" + enc(taskId)),
        getJson("/api/tasks/" + enc(taskId) + "/timeline"),
      ]);
      if (state.detailTask !== taskId) return;
      // A quiet re-render (refresh, push) keeps the keyboard focus where it was.
      const focused = document.activeElement;
      const refocus = quiet && focused && $("detail-body").contains(focused) && focused.dataset.task;
      renderDetail(ctx.context, tl.timeline);
      if (refocus) {
        const again = $("detail-body").querySelector('[data-task="' + CSS.escape(refocus) + '"]');
        if (again) again.focus();
      }
      if (!quiet) $("detail-close").focus();
    } catch (e) {
      $("detail-body").replaceChildren(h("p", { class: "error" }, "Could not load the task: " + e.message));
    }
  }

  function renderDetail(c, timeline) {
    const t = c.task;
    state.names[t.id] = t.name;
    $("detail-title").textContent = t.name;
    const direct = c.dependencies.filter((d) => !d.reference_only);
    const artifacts = c.own_artifacts;
    const decisions = c.own_decisions;
    const blockers = timeline.filter((e) => e.kind === "blocker_reported");
    const resolved = new Set(timeline.filter((e) => e.kind === "blocker_resolved").map((e) => e.blocker_id));
    const progress = timeline.filter((e) => e.kind === "progress" || e.kind === "completed");
    const sec = (title, content) => h("section", { class: "dsec" }, h("h3", {}, title), content);
    const none = (text) => h("p", { class: "muted" }, text);
    const lease = t.lease && t.status === "in_progress"
      ? t.lease.agent_id + ", " + fmtLeft(t.lease.expires_at) : null;
    $("detail-body").replaceChildren(...[
      h("dl", { class: "facts" },
        h("dt", {}, "Status"), h("dd", {}, label(t.status) + (t.progress ? " · " + t.progress + "%" : "")),
        h("dt", {}, "Priority"), h("dd", {}, t.priority),
        t.labels.length ? [h("dt", {}, "Labels"), h("dd", {}, t.labels.join(", "))] : null,
        t.estimated_hours ? [h("dt", {}, "Estimate"), h("dd", {}, fmtHours(t.estimated_hours))] : null,
        lease ? [h("dt", {}, "Lease"), h("dd", {}, lease)] : null,
        t.completed_by ? [h("dt", {}, "Completed by"), h("dd", {}, t.completed_by)] : null,
        h("dt", {}, "Id"), h("dd", {}, h("code", {}, t.id))),
      sec("Description", t.description ? h("p", { class: "prose" }, t.description) : none("No description.")),
      t.acceptance_criteria.length ? sec("Acceptance criteria", h("ul", {}, t.acceptance_criteria.map((a) => h("li", {}, a)))) : null,
      sec("Dependencies", direct.length
        ? h("ul", { class: "deps" }, direct.map((d) => h("li", {}, taskButton(d.task_id, d.name, "dep"),
          h("span", { class: "tag st-" + d.status }, label(d.status)))))
        : none("None: it can start at any time.")),
      c.dependent_tasks.length ? sec("Waiting for it", h("p", {}, c.dependent_tasks.map((d) => d.task_name).join(", "))) : null,
      sec("Progress history", progress.length
        ? h("ol", { class: "history" }, progress.map((e) => h("li", {},
          h("time", { datetime: new Date(e.at).toISOString() }, fmtDate(e.at)),
          " " + (e.agent_id || "") + " · " + (e.kind === "completed" ? "completed" : e.progress + "%") +
          (e.text ? " — " + e.text : ""))))
        : none("No progress reported yet.")),
      sec("Blockers", blockers.length
        ? h("ul", { class: "blockers" }, blockers.map((b) => h("li", {},
          h("span", { class: "tag sev-" + b.severity }, b.severity),
          " " + b.text + " ",
          h("span", { class: "muted" }, (resolved.has(b.blocker_id) ? "resolved" : "open") + " · " + (b.agent_id || "") + " · " + fmtDate(b.at)))))
        : none("No blockers.")),
      sec("Decisions", decisions.length
        ? h("ul", {}, decisions.map((d) => h("li", {}, d.decision, h("span", { class: "muted" }, " — " + d.agent_id + ", " + fmtDate(d.timestamp)))))
        : none("No decisions logged.")),
      sec("Artifacts", artifacts.length
        ? h("ul", { class: "artifacts" }, artifacts.map((a) => h("li", {},
          h("details", {},
            h("summary", {}, a.filename + " (" + a.artifact_type + ", " + a.size_bytes + " bytes)"),
            a.description ? h("p", {}, a.description) : null,
            h("pre", {}, a.content.length > 20000 ? a.content.slice(0, 20000) + "\n…" : a.content)))))
        : none("No artifacts.")),
    ].filter(Boolean));
  }

  function closeDetail() {
    const dialog = $("detail");
    if (dialog.open) dialog.close();
  }

  // ---------- single sign-on ----------
  // A person who signed in through their organisation's provider holds a session cookie
  // the page cannot read; /auth/session says who they are, with the CSRF token every
  // state-changing request of the page must carry.
  async function showSession() {
    let r;
    try { r = await fetch("/auth/session", { headers: { accept: "application/json" } }); } catch (_) { return; }
    if (!r.ok) return;
    const s = await r.json();
    if (!s.signed_in) return;
    state.csrf = s.csrf_token;
    $("whoami").textContent = s.user + " · " + s.role;
    $("whoami").hidden = false;
    $("sign-out").hidden = false;
  }

  async function signOut() {
    const r = await fetch("/auth/logout", { method: "POST", headers: { "x-csrf-token": state.csrf || "" } });
    let body = {};
    try { body = await r.json(); } catch (_) { body = {}; }
    if (body.provider_logout_url) location.assign(body.provider_logout_url);
    else location.reload();
  }

  // ---------- start ----------
  function start() {
    $("sign-out").addEventListener("click", signOut);
    $("audit-show").addEventListener("click", showAudit);
    showSession();
    setupConnect();
    $("refresh").addEventListener("click", () => { refresh(); });
    $("auto-refresh").addEventListener("change", schedulePoll);
    $("project-picker").addEventListener("change", (e) => writeHash(e.target.value, null));
    $("detail-close").addEventListener("click", closeDetail);
    $("detail").addEventListener("close", () => {
      const returnTo = state.detailTask;
      state.detailTask = null;
      if (readHash().task) writeHash(state.projectId, null);
      const again = document.querySelector('#queue-body [data-task="' + CSS.escape(returnTo || "") + '"]');
      if (again) again.focus();
    });
    window.addEventListener("hashchange", () => {
      const hash = readHash();
      if (hash.project && hash.project !== state.projectId) { refresh(); return; }
      if (hash.task) { if (hash.task !== state.detailTask) showTask(hash.task); } else closeDetail();
    });
    setInterval(tickLeases, 1000);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
