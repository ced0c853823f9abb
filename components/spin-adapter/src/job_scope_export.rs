//! `marcus:platform/job-scope` for the Redis-trigger worker. The worker reaches storage
//! through this adapter as the app does, but no request stands behind it: it lists the
//! tenants with work here, then enters each one's scope in turn, so every job runs on its
//! own tenant's documents, cache entries and channels only. The app's world does not import
//! this interface, so a request can never move its own scope.

use crate::bindings::Error;
use crate::bindings::job_scope::Guest;
use crate::document_store;
use crate::identity_export::served;
use crate::request_scope;
use marcus_core::store::MAX_PAGE;
use marcus_identity::tenant::{self, DEFAULT_TENANT, SERVER_SCOPE, Status, TenantRecord};
use std::collections::BTreeSet;

impl Guest for crate::Adapter {
    fn tenants() -> Result<Vec<String>, Error> {
        let registry = document_store::open_in(SERVER_SCOPE)?;
        let mut names = BTreeSet::from([DEFAULT_TENANT.to_string()]);
        let mut after: Option<String> = None;
        loop {
            let page = registry.scan(tenant::COLLECTION, after.as_deref(), MAX_PAGE)?;
            for doc in &page {
                // An unreadable record names no tenant to serve; the runs of the others go on.
                match serde_json::from_str::<TenantRecord>(&doc.data) {
                    Ok(record) if record.status == Status::Active => {
                        names.insert(doc.id.clone());
                    }
                    Ok(_) => {
                        names.remove(&doc.id);
                    }
                    Err(e) => eprintln!(
                        "marcus spin adapter: tenant record {} is unreadable: {e}",
                        doc.id
                    ),
                }
            }
            match page.last() {
                Some(last) if page.len() == MAX_PAGE as usize => after = Some(last.id.clone()),
                _ => break,
            }
        }
        Ok(names
            .into_iter()
            .filter(|name| tenant::check_name(name).is_ok())
            .collect())
    }

    fn enter(tenant: String) -> Result<(), Error> {
        tenant::check_name(&tenant).map_err(Error::Invalid)?;
        let registry = document_store::open_in(SERVER_SCOPE)?;
        served(&*registry, &tenant)?
            .map_err(|why| Error::Unavailable(format!("no jobs run for this tenant: its {why}")))?;
        request_scope::enter_job(&tenant)
    }
}
