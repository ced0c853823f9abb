//! Bindings for world `marcus:spin/worker` (the platform imports, Spin's Redis export).

wit_bindgen::generate!({
    world: "marcus:spin/worker@0.1.0",
    path: ["../../wit", "../spin-adapter/wit"],
    pub_export_macro: true,
    generate_all,
});
