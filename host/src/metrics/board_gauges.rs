//! Tasks by project and status, counted in storage when `/metrics` is scraped, so the figure
//! is right whichever host did the work.

use crate::storage::{FieldFilter, StorageBackend};
use marcus_core::collections::{PROJECTS, TASKS};

/// Projects counted per scrape, at most (the first ones in id order).
const MAX_PROJECTS: u32 = 100;
/// Task statuses the board uses.
const STATUSES: [&str; 4] = ["todo", "in_progress", "blocked", "done"];

/// Sets `marcus_tasks{tenant, project, status}` from storage, for every active tenant; a
/// storage failure leaves the last values.
pub async fn refresh(storage: &dyn StorageBackend) {
    let Ok(tenants) = crate::tenants::registry::active(storage).await else {
        return;
    };
    for tenant in tenants {
        refresh_tenant(storage, &tenant).await;
    }
}

async fn refresh_tenant(storage: &dyn StorageBackend, tenant: &str) {
    let Ok(projects) = storage.scan(tenant, PROJECTS, None, MAX_PROJECTS).await else {
        return;
    };
    for project in projects {
        for status in STATUSES {
            let filters = [
                FieldFilter {
                    field: "project_id".into(),
                    value: serde_json::Value::String(project.id.clone()).to_string(),
                },
                FieldFilter {
                    field: "status".into(),
                    value: serde_json::Value::String(status.into()).to_string(),
                },
            ];
            if let Ok(n) = storage.count(tenant, TASKS, &filters).await {
                metrics::gauge!("marcus_tasks", "tenant" => tenant.to_string(), "project" => project.id.clone(), "status" => status)
                    .set(n as f64);
            }
        }
    }
}
