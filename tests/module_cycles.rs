//! No circle of imports among the modules of the app and of core: a module that uses
//! another never is used by it, directly or through others. Circles are what made one
//! write re-enter itself; this suite reads every source file's paths (`crate::…`,
//! `super::…`, `use` groups and a child module's name) and names every circle it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`tools::work`) → the modules its code refers to.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module path of a source file under `src` (`lib.rs` is the crate root, `""`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}::{rest}"),
    }
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

/// The paths written at the start of `text` (`a::b::c`, or each path of a `use` group such
/// as `a::{b, c::{d, self}}`), relative to what precedes them.
fn paths_at(text: &str) -> Vec<String> {
    let head: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let rest = &text[head.len()..];
    // `crate::{a, b}` reaches here as `{a, b}`: a group right after the prefix.
    let group_prefix = if head.is_empty() {
        Some("")
    } else {
        head.strip_suffix("::")
    };
    let Some(prefix) = group_prefix.filter(|_| rest.starts_with('{')) else {
        return vec![head.trim_end_matches(':').to_string()];
    };
    let mut depth = 0;
    let mut items = Vec::new();
    let mut start = 1;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => {
                items.push(&rest[start..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 1 => {
                items.push(&rest[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
        .into_iter()
        .map(|item| {
            let item = item.trim();
            if item.contains('{') {
                item
            } else {
                item.split(" as ").next().unwrap().trim()
            }
        })
        .filter(|item| !item.is_empty())
        .flat_map(|item| {
            if item == "self" {
                vec![prefix.to_string()]
            } else {
                paths_at(item)
                    .into_iter()
                    .map(|p| join(prefix, &p))
                    .collect()
            }
        })
        .collect()
}

/// The deepest known module `path` names (an item path names the module holding it).
fn resolve(modules: &BTreeSet<String>, path: &str) -> Option<String> {
    let mut candidate = path.to_string();
    loop {
        if modules.contains(&candidate) {
            return Some(candidate);
        }
        if candidate.is_empty() {
            return None;
        }
        candidate = parent(&candidate);
    }
}

/// What each module of the crate at `src` refers to, test modules left out (a test may
/// use what it tests from anywhere).
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    source_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(src, file);
        if module.split("::").any(|part| part == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap();
        let children: Vec<String> = modules
            .iter()
            .filter(|m| !m.is_empty() && parent(m) == module && *m != &module)
            .cloned()
            .collect();
        let targets = graph.entry(module.clone()).or_default();
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (at, _) in code.match_indices("crate::") {
            for path in paths_at(&code[at + "crate::".len()..]) {
                targets.extend(resolve(&modules, &path));
            }
        }
        for (at, _) in code.match_indices("super::") {
            if code[..at].ends_with("super::") {
                continue;
            }
            let mut base = parent(&module);
            let mut rest = &code[at + "super::".len()..];
            while let Some(deeper) = rest.strip_prefix("super::") {
                base = parent(&base);
                rest = deeper;
            }
            for path in paths_at(rest) {
                targets.extend(resolve(&modules, &join(&base, &path)));
            }
        }
        for child in &children {
            let name = child.rsplit("::").next().unwrap();
            let needle = format!("{name}::");
            for (at, _) in code.match_indices(&needle) {
                let before = code[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                for path in paths_at(&code[at..]) {
                    targets.extend(resolve(&modules, &join(&module, &path)));
                }
            }
        }
        targets.remove(&module);
    }
    graph
}

/// Every circle of `graph` (strongly connected components of more than one module).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    // Reachability by search from every module: small graphs, plain code.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    for (module, from_it) in &reachable {
        if !from_it.contains(*module) || found.iter().any(|c| c.contains(module)) {
            continue;
        }
        let circle: Vec<String> = reachable
            .iter()
            .filter(|(other, from_other)| from_it.contains(**other) && from_other.contains(*module))
            .map(|(other, _)| (*other).clone())
            .collect();
        found.push(circle);
    }
    found
}

fn assert_no_circles(crate_dir: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(crate_dir)
        .join("src");
    let graph = graph(&src);
    assert!(graph.len() > 5, "read the modules of {}", src.display());
    let found = circles(&graph);
    for circle in &found {
        for m in circle {
            eprintln!("{m:?} -> {:?}", graph[m]);
        }
    }
    assert!(
        found.is_empty(),
        "modules of {crate_dir} that import each other in a circle:\n{}",
        found
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_app_has_no_circle_of_imports() {
    assert_no_circles("components/app");
}

#[test]
fn core_has_no_circle_of_imports() {
    assert_no_circles("components/core");
}

#[test]
fn the_reader_finds_a_circle_and_its_members() {
    let mut graph = Graph::new();
    let edge = |g: &mut Graph, a: &str, b: &str| {
        g.entry(a.into()).or_default().insert(b.into());
        g.entry(b.into()).or_default();
    };
    edge(&mut graph, "records", "events");
    edge(&mut graph, "events", "webhooks");
    edge(&mut graph, "webhooks", "records");
    edge(&mut graph, "router", "records");
    assert_eq!(
        circles(&graph),
        vec![vec![
            "events".to_string(),
            "records".into(),
            "webhooks".into()
        ]]
    );
    assert_eq!(
        module_of(Path::new("/s"), Path::new("/s/tools/mod.rs")),
        "tools"
    );
    assert_eq!(module_of(Path::new("/s"), Path::new("/s/lib.rs")), "");
    assert_eq!(paths_at("a::b::C;"), ["a::b::C"]);
    assert_eq!(paths_at("{a, b};"), ["a", "b"]);
    assert_eq!(
        paths_at("a::{b, c::{d, self as e}, F};"),
        ["a::b", "a::c::d", "a::c", "a::F"]
    );
}
