//! Guest bindings for the `marcus:platform` imports (world `platform` in `wit/`).

wit_bindgen::generate!({
    world: "platform",
    path: "../../wit",
});

pub use marcus::platform::{
    audit, cache, capabilities, commit, identity, realtime, request_report, storage, types,
};
