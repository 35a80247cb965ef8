//! Documentation outputs are real: in README.md and docs/*.md, every block
//! marked `<!-- doc-run: ARGS -->` (or `<!-- readme-derive: MODEL -->`,
//! short for `doc-run: derive MODEL`) must equal what `fimkit ARGS` prints
//! now. Regenerate with `python3 scripts/update_docs.py`.

use std::path::Path;
use std::process::Command;

fn check_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut checked = 0;
    let mut rest = text.as_str();
    loop {
        let next = ["<!-- doc-run: ", "<!-- readme-derive: "]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, *m)))
            .min();
        let Some((start, marker)) = next else { break };
        let after = &rest[start + marker.len()..];
        let end = after.find(" -->").expect("marker closes");
        let mut args: Vec<String> = after[..end].split_whitespace().map(String::from).collect();
        if marker.contains("readme-derive") {
            args.insert(0, "derive".into());
        }
        let block_start = after
            .find("```text\n")
            .expect("a ```text block follows the marker")
            + "```text\n".len();
        let block_end = after[block_start..].find("```").expect("block closes") + block_start;
        let expected = &after[block_start..block_end];
        let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run fimkit");
        let actual = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(
            actual,
            expected,
            "{}: the block for `fimkit {}` is stale; run scripts/update_docs.py",
            path.display(),
            args.join(" ")
        );
        checked += 1;
        rest = &after[block_end..];
    }
    checked
}

#[test]
fn documented_outputs_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = check_file(&root.join("README.md"));
    assert!(total >= 1, "README has no checked example");
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "md") {
            total += check_file(&p);
        }
    }
    assert!(total >= 2);
}

/// A block marked `<!-- include: FILE -->` in README.md is FILE, verbatim.
#[test]
fn included_files_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut checked = 0;
    for part in text.split("<!-- include: ").skip(1) {
        let (file, after) = part.split_once(" -->").expect("marker closes");
        let start = after.find("```rust\n").expect("a ```rust block follows") + "```rust\n".len();
        let end = after[start..].find("```").expect("block closes") + start;
        let want =
            std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(&after[start..end], want, "README's copy of {file} is stale");
        checked += 1;
    }
    assert!(checked >= 1, "README includes no example");
}
