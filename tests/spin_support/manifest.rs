//! Reading the Spin manifests and the components they name.

use std::path::{Path, PathBuf};

/// The workspace root (spin.toml's directory).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A manifest at the workspace root, parsed.
pub fn load(name: &str) -> toml::Table {
    let text = std::fs::read_to_string(workspace().join(name))
        .unwrap_or_else(|e| panic!("reading {name}: {e}"));
    text.parse()
        .unwrap_or_else(|e| panic!("{name} is not valid TOML: {e}"))
}

/// The names used as `{{ name }}` templates in `text`.
pub fn template_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed template in {text:?}"));
        names.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    names
}

/// A path in a manifest, resolved against the workspace and canonicalized.
pub fn resolve(path: &str) -> PathBuf {
    let full = workspace().join(path);
    full.canonicalize()
        .unwrap_or_else(|e| panic!("{path} does not exist ({}): {e}", full.display()))
}

/// A built component as the build script reported it, canonicalized.
pub fn built(path: &str) -> PathBuf {
    Path::new(path)
        .canonicalize()
        .unwrap_or_else(|e| panic!("{path} was not built: {e}"))
}
