//! `marcus:platform/storage` on top of [`crate::storage::StorageBackend`].

use super::bindings::marcus::platform::storage as wit;
use super::bindings::marcus::platform::types::Error;
use super::{PlatformView, to_wit};
use crate::audit::Action;
use crate::storage as st;
use marcus_core::store::read_many;

fn doc(d: st::Document) -> wit::Document {
    wit::Document {
        collection: d.collection,
        id: d.id,
        data: d.data,
        version: d.version,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

fn expect(e: wit::Expect) -> st::Expect {
    match e {
        wit::Expect::Any => st::Expect::Any,
        wit::Expect::Absent => st::Expect::Absent,
        wit::Expect::Version(v) => st::Expect::Version(v),
    }
}

fn filters(f: Vec<wit::FieldFilter>) -> Vec<st::FieldFilter> {
    f.into_iter()
        .map(|f| st::FieldFilter {
            field: f.field,
            value: f.value,
        })
        .collect()
}

/// Stores `writes` atomically: `storage.put-many`, and the write of `commit.apply`.
pub(super) async fn put_many(
    view: &PlatformView,
    writes: Vec<wit::Write>,
) -> Result<Vec<wit::Document>, Error> {
    let tenant = view.tenant()?;
    let writes: Vec<st::Write> = writes
        .into_iter()
        .map(|w| st::Write {
            collection: w.collection,
            id: w.id,
            data: w.data,
            expect: expect(w.expect),
        })
        .collect();
    view.platform
        .quotas
        .check_writes(&*view.platform.storage, &tenant, &writes)
        .await
        .map_err(to_wit)?;
    let first = writes
        .first()
        .map(|w| (w.collection.as_str(), w.id.as_str()));
    let action = view.audit_action("put", first.unwrap_or_default());
    let changed = view
        .audited_change(&tenant, action, &writes, &[])
        .await
        .map_err(to_wit)?;
    Ok(changed.documents.into_iter().map(doc).collect())
}

impl PlatformView {
    /// The action the request's writes record: the one the app named, else a storage
    /// write of the document `(collection, id)`.
    pub(super) fn audit_action(&self, operation: &str, (collection, id): (&str, &str)) -> Action {
        crate::audit::request::current()
            .and_then(|r| r.declared())
            .unwrap_or_else(|| {
                Action::success(
                    &marcus_core::audit::actions::for_storage(operation),
                    collection,
                    id,
                )
            })
    }

    /// Stores the writes and removals with their audit record, by the request's principal.
    pub(super) async fn audited_change(
        &self,
        tenant: &str,
        action: Action,
        writes: &[st::Write],
        removals: &[st::Removal],
    ) -> crate::capability_error::CapResult<st::Changed> {
        crate::audit::change_by(
            &*self.platform.storage,
            tenant,
            tenant,
            self.principal.as_ref(),
            action,
            writes,
            removals,
        )
        .await
    }
}

impl wit::Host for PlatformView {
    async fn get(
        &mut self,
        collection: String,
        id: String,
    ) -> Result<Option<wit::Document>, Error> {
        self.record_call("storage", "get");
        let tenant = self.tenant()?;
        let found = self
            .platform
            .storage
            .get(&tenant, &collection, &id)
            .await
            .map_err(to_wit)?;
        Ok(found.map(doc))
    }

    async fn get_many(
        &mut self,
        keys: Vec<wit::DocumentKey>,
    ) -> Result<Vec<Option<wit::Document>>, Error> {
        self.record_call("storage", "get-many");
        let tenant = self.tenant()?;
        let keys: Vec<st::DocumentKey> = keys
            .into_iter()
            .map(|k| st::DocumentKey {
                collection: k.collection,
                id: k.id,
            })
            .collect();
        let found = self
            .platform
            .storage
            .get_many(&tenant, &keys)
            .await
            .map_err(to_wit)?;
        Ok(found.into_iter().map(|d| d.map(doc)).collect())
    }

    async fn read_many(&mut self, reads: Vec<wit::Read>) -> Result<Vec<wit::ReadAnswer>, Error> {
        self.record_call("storage", "read-many");
        let tenant = self.tenant()?;
        let tenant = tenant.as_str();
        read_many::check_count(reads.len()).map_err(|e| to_wit(e.into()))?;
        let slots = read_many::slots(&reads, |r| matches!(r, wit::Read::Get(_)));
        let (mut keys, mut queries) = (Vec::new(), Vec::new());
        for read in reads {
            match read {
                wit::Read::Get(k) => keys.push(st::DocumentKey {
                    collection: k.collection,
                    id: k.id,
                }),
                wit::Read::Query(q) => queries.push(q),
            }
        }
        // The gets are one statement; the queries run side by side (on PostgreSQL each on a
        // pooled connection), so the batch costs about one round trip to the database.
        let storage = &self.platform.storage;
        let gets = async {
            if keys.is_empty() {
                Ok(Vec::new())
            } else {
                storage.get_many(tenant, &keys).await
            }
        };
        let pages = futures::future::try_join_all(queries.iter().map(|q| {
            let f = filters(q.filters.clone());
            async move {
                storage
                    .query(tenant, &q.collection, &f, q.limit, q.cursor.as_deref())
                    .await
            }
        }));
        let (documents, pages) = futures::future::try_join(gets, pages)
            .await
            .map_err(to_wit)?;
        Ok(read_many::in_read_order(
            &slots,
            documents,
            pages,
            |d| wit::ReadAnswer::Document(d.map(doc)),
            |p| {
                wit::ReadAnswer::Page(wit::Page {
                    documents: p.documents.into_iter().map(doc).collect(),
                    next_cursor: p.next_cursor,
                })
            },
        ))
    }

    async fn put(
        &mut self,
        collection: String,
        id: String,
        data: String,
        e: wit::Expect,
    ) -> Result<wit::Document, Error> {
        self.record_call("storage", "put");
        let tenant = self.tenant()?;
        let write = st::Write {
            collection,
            id,
            data,
            expect: expect(e),
        };
        self.platform
            .quotas
            .check_writes(
                &*self.platform.storage,
                &tenant,
                std::slice::from_ref(&write),
            )
            .await
            .map_err(to_wit)?;
        let action = self.audit_action("put", (&write.collection, &write.id));
        let mut changed = self
            .audited_change(&tenant, action, std::slice::from_ref(&write), &[])
            .await
            .map_err(to_wit)?;
        changed
            .documents
            .pop()
            .map(doc)
            .ok_or_else(|| Error::Internal("no document was written".into()))
    }

    async fn put_many(&mut self, writes: Vec<wit::Write>) -> Result<Vec<wit::Document>, Error> {
        self.record_call("storage", "put-many");
        put_many(self, writes).await
    }

    async fn delete(
        &mut self,
        collection: String,
        id: String,
        expected_version: Option<u64>,
    ) -> Result<bool, Error> {
        self.record_call("storage", "delete");
        let tenant = self.tenant()?;
        let action = self.audit_action("delete", (&collection, &id));
        let removal = st::Removal {
            collection,
            id,
            expected: expected_version,
        };
        let changed = self
            .audited_change(&tenant, action, &[], std::slice::from_ref(&removal))
            .await
            .map_err(to_wit)?;
        Ok(changed.removed.first().copied().unwrap_or(false))
    }

    async fn query(
        &mut self,
        collection: String,
        f: Vec<wit::FieldFilter>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<wit::Page, Error> {
        self.record_call("storage", "query");
        let tenant = self.tenant()?;
        let page = self
            .platform
            .storage
            .query(&tenant, &collection, &filters(f), limit, cursor.as_deref())
            .await
            .map_err(to_wit)?;
        Ok(wit::Page {
            documents: page.documents.into_iter().map(doc).collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn count(&mut self, collection: String, f: Vec<wit::FieldFilter>) -> Result<u64, Error> {
        self.record_call("storage", "count");
        let tenant = self.tenant()?;
        self.platform
            .storage
            .count(&tenant, &collection, &filters(f))
            .await
            .map_err(to_wit)
    }

    async fn list_collections(&mut self) -> Result<Vec<String>, Error> {
        self.record_call("storage", "list-collections");
        let tenant = self.tenant()?;
        self.platform
            .storage
            .list_collections(&tenant)
            .await
            .map_err(to_wit)
    }

    async fn scan(
        &mut self,
        collection: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<wit::Document>, Error> {
        self.record_call("storage", "scan");
        let tenant = self.tenant()?;
        let docs = self
            .platform
            .storage
            .scan(&tenant, &collection, after.as_deref(), limit)
            .await
            .map_err(to_wit)?;
        Ok(docs.into_iter().map(doc).collect())
    }

    async fn stats(&mut self) -> Result<wit::StorageStats, Error> {
        self.record_call("storage", "stats");
        let tenant = self.tenant()?;
        let s = self.platform.storage.stats(&tenant).await.map_err(to_wit)?;
        Ok(wit::StorageStats {
            documents: s.documents,
            size_bytes: s.size_bytes,
        })
    }
}
