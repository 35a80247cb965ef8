//! The layering of ARCHITECTURE.md, checked from the code: every
//! `crate::...` path in src/ may point only to its own layer or a lower one.
//! The upward arrows that remain (issue 14, item 4) are listed in `DEBT`;
//! a new one fails this test, and so does a listed one that is gone (so the
//! list only shrinks).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers, lowest first: a module may use its own layer and those below.
/// A module path matches the longest prefix listed.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "ground",
        &[
            "diagnostic",
            "budget",
            "exact",
            "number",
            "partition",
            "Diagnostic",
            "Severity",
            "Span",
        ],
    ),
    (
        "ir core",
        &["ir", "ir::expr", "ir::memo", "ir::model", "Expr"],
    ),
    ("syntax", &["syntax"]),
    ("families", &["families"]),
    (
        "resolve",
        &["ir::resolve", "load", "load_with_diagnostics", "Loaded"],
    ),
    ("symbolic", &["symbolic"]),
    ("structure", &["structure"]),
    ("numeric", &["numeric"]),
    ("fisher", &["fisher"]),
    ("fit", &["fit"]),
    ("design", &["design"]),
    ("codegen", &["codegen"]),
    ("render", &["render"]),
    (
        "front door",
        &["model", "error", "Model", "Error", "ModelError"],
    ),
];

/// Upward arrows still in the code: (from module, to layer). Remove a line
/// when the arrow is gone.
const DEBT: &[(&str, &str)] = &[];

fn layer_of(path: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None; // (prefix length, layer)
    for (i, (_, prefixes)) in LAYERS.iter().enumerate() {
        for p in *prefixes {
            let matches = path == *p || path.starts_with(&format!("{p}::"));
            if matches && best.is_none_or(|(len, _)| p.len() > len) {
                best = Some((p.len(), i));
            }
        }
    }
    best.map(|(_, i)| i)
}

/// `src/fisher/numeric/mod.rs` → `fisher::numeric`.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The `crate::` paths a source uses (comments and doc comments skipped;
/// `crate::{a, b::c}` gives `a` and `b::c`).
fn crate_paths(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                out.extend(inner.split(',').map(|s| s.trim().to_string()));
            } else {
                let path: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                out.push(path.trim_end_matches(':').to_string());
            }
            rest = after;
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

#[test]
fn no_module_imports_from_a_later_stage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut upward = BTreeSet::new();
    let mut unknown = Vec::new();
    for file in &files {
        let module = module_of(&root, file);
        // The command line (a binary over the library) may use anything.
        if module == "main" || module.starts_with("cli") || module.is_empty() {
            continue;
        }
        let Some(from) = layer_of(&module) else {
            unknown.push(format!("{module} (file {})", file.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for path in crate_paths(&text) {
            match layer_of(&path) {
                Some(to) if to > from => {
                    upward.insert((module.clone(), LAYERS[to].0.to_string(), path));
                }
                Some(_) => {}
                None => unknown.push(format!("`crate::{path}` in {module}")),
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules or paths with no layer in tests/architecture.rs: {unknown:#?}"
    );
    let found: BTreeSet<(String, String)> = upward
        .iter()
        .map(|(m, l, _)| (m.clone(), l.clone()))
        .collect();
    let debt: BTreeSet<(String, String)> = DEBT
        .iter()
        .map(|(m, l)| (m.to_string(), l.to_string()))
        .collect();
    let new: Vec<_> = upward
        .iter()
        .filter(|(m, l, _)| !debt.contains(&(m.clone(), l.clone())))
        .collect();
    assert!(
        new.is_empty(),
        "imports from a later stage (see ARCHITECTURE.md): {new:#?}"
    );
    let gone: Vec<_> = debt.difference(&found).collect();
    assert!(
        gone.is_empty(),
        "these upward arrows are gone: remove them from DEBT in tests/architecture.rs: {gone:#?}"
    );
}

#[test]
fn the_checker_sees_imports() {
    let paths = crate_paths(
        "use crate::ir::expr::Expr; // crate::render::x\nuse crate::{Diagnostic, fit::Problem};\n\
         let s = crate::render::text::render(e, &style);\n",
    );
    assert_eq!(
        paths,
        [
            "ir::expr::Expr",
            "Diagnostic",
            "fit::Problem",
            "render::text::render"
        ]
    );
    assert_eq!(layer_of("ir::expr::Expr"), Some(1));
    assert_eq!(layer_of("ir::resolve::load_source"), Some(4));
    assert!(layer_of("render::text").unwrap() > layer_of("numeric::eval").unwrap());
}

/// ARCHITECTURE.md's code map names every source file: its path, or a
/// directory above it (`src/fisher/numeric/`); a module root (`mod.rs`) is
/// named by any entry of its directory. A file added without a line in
/// the map fails here, so the map is redrawn as the code changes.
#[test]
fn the_code_map_names_every_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut missing = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        let mut named = map.contains(&format!("`{rel}`"));
        for d in Path::new(&rel).ancestors().skip(1) {
            let d = d.to_string_lossy();
            if d.is_empty() || d == "src" {
                break;
            }
            named |= map.contains(&format!("`{d}/`"));
        }
        if rel.ends_with("/mod.rs") {
            let d = rel.trim_end_matches("mod.rs");
            named |= map.contains(&format!("`{d}"));
        }
        if !named {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "add these to ARCHITECTURE.md's code map: {missing:#?}"
    );
}
