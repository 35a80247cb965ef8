//! README's example outputs are real: every block marked
//! `<!-- readme-derive: MODEL -->` must equal what `fimkit derive MODEL`
//! prints now.

use std::process::Command;

#[test]
fn readme_examples_are_current() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut checked = 0;
    let marker = "<!-- readme-derive: ";
    let mut rest = readme.as_str();
    while let Some(start) = rest.find(marker) {
        let after = &rest[start + marker.len()..];
        let end = after.find(" -->").expect("marker closes");
        let model = &after[..end];
        let block_start = after
            .find("```text\n")
            .expect("a ```text block follows the marker")
            + "```text\n".len();
        let block_end = after[block_start..].find("```").expect("block closes") + block_start;
        let expected = &after[block_start..block_end];
        let out = Command::new(env!("CARGO_BIN_EXE_fimkit"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["derive", model])
            .output()
            .expect("run fimkit");
        assert!(
            out.status.success(),
            "fimkit derive {model} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let actual = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(
            actual, expected,
            "README block for {model} is stale; paste the current output"
        );
        checked += 1;
        rest = &after[block_end..];
    }
    assert!(checked >= 1, "README has no checked example");
}
