//! Long inputs: lines of hundreds of kilobytes, flat sums of thousands of
//! terms, deep nesting, huge literals, bytes that are not UTF-8. Whatever
//! the input, loading returns a model or diagnostics, rendering them does
//! not panic and prints short lines, and every command exits with a
//! documented code (0, 1 or 2; 3 is an internal error, 101 a panic).
//!
//! The inputs are generated (a file of a megabyte is no fixture); the
//! rendered diagnostics of the typical cases are snapshots in
//! `snapshots/syntax/`.

use fimkit::render::diagnostics::{DiagnosticStyle, MAX_LINE_CHARS, render_human};
use std::path::PathBuf;
use std::process::{Command, Output};

const HEAD: &str = "param mu : real\ndata x : real\n";

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/syntax");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn rendered(source: &str) -> (fimkit::Loaded, String) {
    let loaded = fimkit::load_with_diagnostics(source, "long");
    let text = render_human(
        &loaded.diagnostics,
        "long.fim",
        source,
        DiagnosticStyle::default(),
    );
    (loaded, text)
}

/// No rendered line is much longer than a cut source line (the gutter,
/// the ellipses and a label message come on top).
fn assert_short_lines(text: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= MAX_LINE_CHARS + 60,
            "a rendered line of {} characters: {}…",
            line.chars().count(),
            line.chars().take(200).collect::<String>()
        );
    }
}

/// A model file in a fresh temporary directory.
fn temp_model(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fimkit-long-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.fim"));
    std::fs::write(&path, contents).expect("write model");
    path
}

fn fimkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .args(args)
        .output()
        .expect("fimkit runs")
}

/// A valid model with an unused parameter 70,000 columns into its third line.
fn far_warning_model() -> String {
    format!(
        "{HEAD}x ~ normal(mu, 1);{}param unused : real\n",
        " ".repeat(70_000)
    )
}

#[test]
fn a_warning_past_column_65535_is_rendered_on_a_cut_line() {
    let source = far_warning_model();
    let (loaded, text) = rendered(&source);
    assert!(loaded.model.is_some());
    assert!(text.contains("warning[W0202]"), "{text}");
    assert!(text.contains("[long.fim:3:70019]"), "{text}");
    assert!(text.contains('…'), "{text}");
    assert_short_lines(&text);
    settings().bind(|| insta::assert_snapshot!("long_line_far_warning", text));
}

#[test]
fn every_command_survives_a_label_past_column_65535() {
    let path = temp_model("far_warning", far_warning_model().as_bytes());
    let p = path.to_str().expect("UTF-8 path");
    let csv = path.with_extension("csv");
    std::fs::write(&csv, "x\n0.5\n1.5\n-0.2\n").expect("csv");
    let c = csv.to_str().expect("UTF-8 path");
    for args in [
        vec!["parse", p],
        vec!["derive", p],
        vec!["derive", p, "--at", "mu=0,unused=1"],
        vec!["eval", p, "--at", "mu=0,unused=1"],
        vec!["check", p],
        vec!["fit", p, "--data", c],
        vec!["codegen", p, "--lang", "python"],
    ] {
        let out = fimkit(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "fimkit {args:?} exited with {code:?}:\n{}",
            stderr.chars().take(2000).collect::<String>()
        );
        assert!(
            stderr.contains(":3:70019]"),
            "fimkit {args:?} does not show the warning:\n{}",
            stderr.chars().take(2000).collect::<String>()
        );
        assert_short_lines(&stderr);
    }
}

#[test]
fn deep_nesting_shows_a_cut_line() {
    let depth = 20_000;
    let source = format!(
        "{HEAD}logp += {}x{}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let (loaded, text) = rendered(&source);
    assert!(loaded.model.is_none());
    assert!(text.contains("error[E0002]"), "{text}");
    assert_short_lines(&text);
    settings().bind(|| insta::assert_snapshot!("long_line_deep_nesting", text));
}

/// The log-density of a model that loads, as plain text.
fn logp_of(source: &str) -> String {
    let model = fimkit::load(source, "long").unwrap_or_else(|d| {
        panic!(
            "does not load: {}",
            render_human(&d, "long.fim", source, DiagnosticStyle::default())
        )
    });
    model.logp.to_string()
}

#[test]
fn flat_sums_of_thousands_of_terms_load() {
    let normal = logp_of(&format!("{HEAD}logp += -(x - mu)^2/2\n"));
    for n in [199, 200, 201, 5_000] {
        let terms = vec!["mu"; n].join(" + ");
        let source = format!("{HEAD}logp += -(x - ({terms})/{n})^2/2\n");
        assert_eq!(logp_of(&source), normal, "{n} terms");
    }
    // Alternating signs keep their left-to-right meaning.
    let terms = vec!["mu"; 3_000].join(" - mu + ");
    let source = format!("{HEAD}logp += -(x - mu + {terms} - mu)^2/2\n");
    assert_eq!(logp_of(&source), normal);
    // So do long products and quotients: mu^2000/mu^1999 = mu.
    let source = format!(
        "{HEAD}logp += -(x - {}/{})^2/2\n",
        vec!["mu"; 2_000].join("*"),
        vec!["mu"; 1_999].join("/")
    );
    assert_eq!(logp_of(&source), normal);
}

#[test]
fn a_sum_of_90000_terms_on_one_900_kb_line_loads() {
    let terms = vec!["0.5*mu"; 90_000].join(" + ");
    let source = format!("{HEAD}logp += -(x - ({terms})/45000)^2/2\n");
    assert!(source.len() > 800_000, "{} bytes", source.len());
    let normal = logp_of(&format!("{HEAD}logp += -(x - mu)^2/2\n"));
    assert_eq!(logp_of(&source), normal);
}

#[test]
fn real_nesting_is_still_bounded() {
    // 201 nested sums are 201 levels: refused, as before.
    let mut e = String::from("mu");
    for _ in 0..201 {
        e = format!("({e} + x)");
    }
    let loaded = fimkit::load_with_diagnostics(&format!("{HEAD}logp += {e}\n"), "deep");
    assert!(loaded.model.is_none());
    assert!(loaded.diagnostics.iter().any(|d| d.code == "E0002"));
}

#[test]
fn exact_powers_up_to_the_constant_limit_are_numbers() {
    for n in [4097u32, 8192, 131_000] {
        let source = format!("const a = 2^{n}\n{HEAD}x ~ normal(mu, 1)\nlogp += a*0\n");
        let model = fimkit::load(&source, "pow").unwrap_or_else(|d| panic!("2^{n}: {d:?}"));
        let two = num_bigint::BigInt::from(2);
        assert_eq!(
            *model.consts[0].value.numer(),
            num_traits::pow::Pow::pow(&two, n),
            "2^{n}"
        );
    }
    // One bit over the limit: refused, with the right size.
    let source = format!("const a = 2^131072\n{HEAD}x ~ normal(mu, 1)\nlogp += a*0\n");
    let loaded = fimkit::load_with_diagnostics(&source, "pow");
    let d = &loaded.diagnostics[0];
    assert_eq!(d.code, "E0108");
    assert_eq!(d.labels[0].message, "about 131073 bits");
}

#[test]
fn huge_literals_are_refused_at_once() {
    // Over the 131,072-bit limit on exact numbers (about 39,500 digits):
    // refused by the parser before the digits are converted.
    for digits in [39_500, 100_000, 500_000] {
        let start = std::time::Instant::now();
        let source = format!(
            "param mu : positive\ndata x : real\nx ~ normal({}, mu)\n",
            "7".repeat(digits)
        );
        let (loaded, text) = rendered(&source);
        assert!(loaded.model.is_none());
        assert_eq!(loaded.diagnostics.len(), 1, "{text}");
        assert_eq!(loaded.diagnostics[0].code, "E0005", "{text}");
        assert!(text.contains(&format!("{digits} digits")), "{text}");
        assert_short_lines(&text);
        // Generous for a debug build; it takes milliseconds.
        assert!(
            start.elapsed().as_secs() < 10,
            "{digits} digits: {:?}",
            start.elapsed()
        );
        if digits == 100_000 {
            settings().bind(|| insta::assert_snapshot!("long_literal", text));
        }
    }
    // Just under the limit: an exact constant.
    let source = format!(
        "const a = {}\n{HEAD}x ~ normal(mu, 1)\nlogp += a*0\n",
        "7".repeat(39_000)
    );
    assert!(fimkit::load(&source, "lit").is_ok());
}

// ------------------------------------------------------------------------
// Generated long inputs, as the fuzz target makes them: `head + body × n +
// tail`, up to just past the 1 MiB file limit.

use proptest::prelude::*;

fn cases() -> u32 {
    if std::env::var_os("FIMKIT_LONG").is_some() {
        400
    } else {
        12
    }
}

/// Starts of files: valid model prefixes, mid-expression prefixes, junk.
const HEADS: &[&str] = &[
    "",
    "param mu : real\ndata x : real\nx ~ normal(mu, 1)\n",
    "param mu : real\ndata x : real\nlogp += -(x - (mu",
    "param mu : real\nparam s : positive\ndata x : real\nlogp += -log(s) - (x - mu)^2/(2*s^2) + 0*(",
    "\u{feff}param mu : real\ndata x : real\nx ~ normal(mu, 1);",
    "const c = ",
    "param mu : real\ndata x : real\nx ~ normal(mu, 1)\nlogp += mu*0*(1",
    "param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)\n#",
];

/// Repeated bodies: terms of flat sums and products, brackets, blanks,
/// statements, comments, non-ASCII text, numbers, operators.
const BODIES: &[&str] = &[
    " + mu",
    " - 0.5*mu",
    "*mu",
    "/2",
    " + x",
    "(",
    ")",
    " ",
    "\n",
    "\r",
    "\t",
    "# comment\n",
    "param unused : real\n",
    "logp += 0\n",
    "x ~ normal(mu, 1)\n",
    "9",
    "e",
    "^2",
    "-",
    "μ",
    "é ",
    "sum(k in 1..2, mu) + ",
    "+ 1e300",
    "1/3 + ",
    "[mu, ",
    "mu +",
];

/// Ends of files.
const TAILS: &[&str] = &[
    "",
    "\n",
    ")^2/2\n",
    ")\n",
    "))))\n",
    "1\n",
    " param tail : real\n",
    "mu\n",
];

/// A source of about `len` bytes: head, then the body repeated, then tail.
fn generated(head: &str, body: &str, tail: &str, len: usize) -> String {
    let n = len.saturating_sub(head.len() + tail.len()) / body.len().max(1);
    let mut s = String::with_capacity(head.len() + n * body.len() + tail.len());
    s.push_str(head);
    for _ in 0..n {
        s.push_str(body);
    }
    s.push_str(tail);
    s
}

/// Load, check the diagnostics' invariants, render, and derive F when the
/// resolved model is small.
fn check_long(source: &str) {
    let loaded = fimkit::load_with_diagnostics(source, "long");
    let has_error = loaded.diagnostics.iter().any(fimkit::Diagnostic::is_error);
    assert_eq!(loaded.model.is_some(), !has_error);
    for d in &loaded.diagnostics {
        assert!(d.help.is_some(), "{} without help", d.code);
        for l in &d.labels {
            assert!(l.span.start <= l.span.end && l.span.end <= source.len());
        }
    }
    let text = render_human(
        &loaded.diagnostics,
        "long.fim",
        source,
        DiagnosticStyle::default(),
    );
    for line in text.lines() {
        let quoted = line
            .trim_start()
            .split_once(" │ ")
            .is_some_and(|(n, _)| n.bytes().all(|b| b.is_ascii_digit()));
        assert!(
            !quoted || line.chars().count() <= MAX_LINE_CHARS + 20,
            "a quoted source line of {} characters",
            line.chars().count()
        );
    }
    if let Some(model) = &loaded.model
        && model.param_names().len() <= 3
        && model.logp.size() <= 500
    {
        let config = fimkit::fisher::derive::DeriveConfig::default();
        // A closed form or the reason there is none; never a panic.
        let _ = fimkit::fisher::derive::fisher_information(model, &config);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_long_inputs(
        head in 0..HEADS.len(),
        body in 0..BODIES.len(),
        tail in 0..TAILS.len(),
        // Log-uniform from 1 KiB to just past 1 MiB.
        log_len in 10.0f64..20.01,
    ) {
        let len = 2f64.powf(log_len) as usize;
        check_long(&generated(HEADS[head], BODIES[body], TAILS[tail], len));
    }
}

#[test]
fn every_body_at_length() {
    // Each body after the first two heads, deterministically: at 128 KiB,
    // or at 1 MiB (the largest file accepted) with FIMKIT_LONG=1.
    let len = if std::env::var_os("FIMKIT_LONG").is_some() {
        fimkit::syntax::MAX_SOURCE_LEN
    } else {
        1 << 17
    };
    for body in BODIES {
        for head in &HEADS[..2] {
            let source = generated(head, body, "\n", len);
            assert!(source.len() <= fimkit::syntax::MAX_SOURCE_LEN);
            check_long(&source);
        }
    }
}
