//! Host bindings generated from `wit/` (world `platform`).

wasmtime::component::bindgen!({
    world: "platform",
    path: "../wit",
    imports: { default: async },
});
