//! Bindings for world `marcus:spin/adapter` (Spin's imports, the platform's exports).

wit_bindgen::generate!({
    world: "marcus:spin/adapter@0.1.0",
    path: ["../../wit", "wit"],
    pub_export_macro: true,
    generate_all,
});

pub use exports::marcus::platform::types::Error;
pub use exports::marcus::platform::{
    cache, capabilities, commit, identity, job_scope, realtime, storage,
};
pub use fermyon::spin2_0_0::{key_value, redis, sqlite, variables};
pub use spin::postgres::postgres;
