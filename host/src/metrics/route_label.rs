//! Route templates for metric labels: ids become `{id}`, so a label's values stay few
//! whatever the traffic (Prometheus keeps one series per value).

/// Path segments kept as they are; anything else is an id.
const KNOWN: &[&str] = &[
    "api",
    "mcp",
    "healthz",
    "readyz",
    "metrics",
    "features",
    "admin",
    "tokens",
    ".well-known",
    "oauth-protected-resource",
    "storage",
    "cache",
    "realtime",
    "projects",
    "tasks",
    "agents",
    "blockers",
    "tools",
    "events",
    "stream",
    "ws",
    "health",
    "optimal-agents",
    "dependencies",
    "progress",
    "decisions",
    "artifacts",
    "unassign",
    "resolve-blockers",
    "resolve",
    "next-task",
    "openapi.json",
    "_query",
    "_count",
    "_scan",
    "_batch",
    "_get_many",
    "debug",
    "assets",
    "queue",
    "analytics",
    "timeline",
    "jobs",
    "run",
    "retry",
    "lease-sweep",
    "webhooks",
    "deliveries",
];

/// The template of `path`, e.g. `/api/projects/p-1/tasks` → `/api/projects/{id}/tasks`.
pub fn route_label(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return "/".into();
    }
    let mut out = String::new();
    for (i, s) in segments.iter().enumerate() {
        out.push('/');
        // Tool names and asset files are few and fixed; keep them.
        let after_fixed = i > 0 && matches!(segments[i - 1], "tools" | "assets");
        if KNOWN.contains(s) || after_fixed && s.len() <= 64 {
            out.push_str(s);
        } else {
            out.push_str("{id}");
        }
        if i >= 6 {
            out.push_str("/…");
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_placeholders() {
        assert_eq!(route_label("/"), "/");
        assert_eq!(
            route_label("/api/projects/p-1/tasks"),
            "/api/projects/{id}/tasks"
        );
        assert_eq!(
            route_label("/api/storage/notes/n1"),
            "/api/storage/{id}/{id}"
        );
        assert_eq!(route_label("/api/tools/ping"), "/api/tools/ping");
        assert_eq!(route_label("/mcp"), "/mcp");
        assert_eq!(
            route_label("/api/agents/a1/next-task"),
            "/api/agents/{id}/next-task"
        );
    }
}
