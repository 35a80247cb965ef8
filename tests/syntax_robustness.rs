//! The parser and resolver never panic and never hang: whatever the input,
//! `fimkit::load_with_diagnostics` returns a model or diagnostics.
//!
//! There are no timed assertions. Hangs are excluded by construction (input
//! sizes are bounded here, and the library bounds nesting, unrolling,
//! inlining and exact constants); a hang would show as a test that never
//! finishes. Pathological inputs (10,000 nested brackets, long `^` chains,
//! doubling `let` chains, huge exact powers) must come back with an error.
//!
//! Case counts are modest by default; set `FIMKIT_LONG=1` for a long run
//! (20,000 cases per property, under a minute).

use fimkit::Severity;
use proptest::prelude::*;
use std::sync::LazyLock;

fn cases() -> u32 {
    if std::env::var_os("FIMKIT_LONG").is_some() {
        20_000
    } else {
        48
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Load and check the invariants of the result: a model exactly when there
/// is no error, every diagnostic with a help line and a span inside the
/// source.
fn check(source: &str) {
    let loaded = fimkit::load_with_diagnostics(source, "fuzz");
    let has_error = loaded
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    assert_eq!(
        loaded.model.is_some(),
        !has_error,
        "a model must come exactly when there is no error: {source:?}"
    );
    for d in &loaded.diagnostics {
        assert!(d.help.is_some(), "{} without help for {source:?}", d.code);
        for l in &d.labels {
            assert!(
                l.span.start <= l.span.end && l.span.end <= source.len(),
                "{} has a span {:?} outside the source ({} bytes): {source:?}",
                d.code,
                l.span,
                source.len()
            );
        }
    }
    // Rendering must not panic either.
    let _ = fimkit::render::diagnostics::render_human(
        &loaded.diagnostics,
        "fuzz.fim",
        source,
        fimkit::render::diagnostics::DiagnosticStyle::default(),
    );
}

/// Tokens of the language, for token soups and replacements.
const TOKENS: &[&str] = &[
    "model",
    "const",
    "param",
    "data",
    "covariate",
    "let",
    "logp",
    "coords",
    "for",
    "in",
    "sum",
    "prod",
    "real",
    "positive",
    "negative",
    "unit",
    "count",
    "simplex",
    "inf",
    "pi",
    "e",
    "+=",
    "~",
    ":",
    "=",
    ",",
    ";",
    "..",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "+",
    "-",
    "*",
    "/",
    "^",
    "#",
    "\n",
    "0",
    "1",
    "2",
    "10",
    "0.5",
    "1e-3",
    "2.5E+2",
    "1e999",
    "x",
    "y",
    "k",
    "K",
    "mu",
    "sigma",
    "alpha",
    "p",
    "n",
    "a",
    "normal",
    "bernoulli",
    "binomial",
    "poisson",
    "exponential",
    "gamma",
    "beta",
    "categorical",
    "dirichlet",
    "log",
    "exp",
    "sqrt",
    "lgamma",
    "digamma",
    "polygamma",
    "lbeta",
    "besseli",
    "sigmoid",
    "Phi",
    "abs",
    "σ",
    "é",
];

/// The ok fixtures, split into tokens (whitespace runs kept as tokens so
/// that joining them gives the file back).
static FIXTURE_TOKENS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("ok fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| tokenize(&std::fs::read_to_string(p).expect("fixture")))
        .collect()
});

fn tokenize(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_whitespace() {
            0
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            1
        } else {
            2
        }
    };
    for c in s.chars() {
        match out.last_mut() {
            Some(last)
                if class(c) != 2 && last.chars().last().is_some_and(|l| class(l) == class(c)) =>
            {
                last.push(c)
            }
            _ => out.push(c.to_string()),
        }
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Replace(usize, usize),
    Insert(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>();
    prop_oneof![
        i.prop_map(Mutation::Delete),
        i.prop_map(Mutation::Duplicate),
        (i, any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (i, 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Replace(a, t)),
        (i, 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Insert(a, t)),
    ]
}

fn apply(tokens: &mut Vec<String>, m: &Mutation) {
    if tokens.is_empty() {
        return;
    }
    let n = tokens.len();
    match *m {
        Mutation::Delete(i) => {
            tokens.remove(i % n);
        }
        Mutation::Duplicate(i) => {
            let t = tokens[i % n].clone();
            tokens.insert(i % n, t);
        }
        Mutation::Swap(i, j) => tokens.swap(i % n, j % n),
        Mutation::Replace(i, t) => tokens[i % n] = format!(" {} ", TOKENS[t]),
        Mutation::Insert(i, t) => tokens.insert(i % n, format!(" {} ", TOKENS[t])),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings(s in "\\PC{0,400}") {
        check(&s);
    }

    #[test]
    fn arbitrary_ascii_with_newlines(s in "[ -~\n\t]{0,400}") {
        check(&s);
    }

    #[test]
    fn token_soup(tokens in prop::collection::vec(0..TOKENS.len(), 0..120), spaced in any::<bool>()) {
        let sep = if spaced { " " } else { "" };
        let s: Vec<&str> = tokens.iter().map(|&t| TOKENS[t]).collect();
        check(&s.join(sep));
    }

    #[test]
    fn statement_soup(stmts in prop::collection::vec(statement(), 0..12)) {
        check(&stmts.join("\n"));
    }

    #[test]
    fn mutated_fixtures(file in any::<prop::sample::Index>(), muts in prop::collection::vec(mutation(), 1..6)) {
        let files = &*FIXTURE_TOKENS;
        let mut tokens = files[file.index(files.len())].clone();
        for m in &muts {
            apply(&mut tokens, m);
        }
        check(&tokens.concat());
    }
}

/// Plausible statements with random names and numbers: these reach the
/// resolver far more often than token soup does.
fn statement() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["x", "y", "mu", "sigma", "a", "K", "k", "p", "n"]);
    let num = prop::sample::select(vec!["0", "1", "2", "3", "10", "0.5", "-1", "1e3", "1/3"]);
    let domain = prop::sample::select(vec![
        "real",
        "positive",
        "negative",
        "unit",
        "(0, 1)",
        "(-inf, inf)",
        "(0, pi)",
        "(1, 0)",
        "(0, K)",
        "(x, 1)",
    ]);
    let support = prop::sample::select(vec![
        "real",
        "positive",
        "unit",
        "count",
        "simplex",
        "{0, 1}",
        "0..n",
        "1..",
        "(0, x)",
        "0..(n - y)",
        "{1}",
    ]);
    let family = prop::sample::select(vec![
        "normal(mu, sigma)",
        "normal(mu)",
        "bernoulli(p)",
        "binomial(n, p)",
        "poisson(mu)",
        "exponential(sigma)",
        "gamma(a, sigma)",
        "beta(a, p)",
        "categorical([p, 1 - p])",
        "dirichlet(a)",
        "dirichlet([1, 2])",
        "student(mu)",
    ]);
    let expr = prop::sample::select(vec![
        "mu",
        "x - mu",
        "log(sigma)",
        "(x - mu)^2/(2*sigma^2)",
        "sum(k in 1..3, a[k])",
        "prod(k in 1..K, k)",
        "a[2]",
        "a",
        "[mu, sigma]",
        "lgamma(x + 1)",
        "x^x^x",
        "1/0",
        "polygamma(n, x)",
        "2^100000",
        "sigmoid(mu)*p",
    ]);
    prop_oneof![
        (name.clone(), num).prop_map(|(n, v)| format!("const {n} = {v}")),
        (name.clone(), domain.clone()).prop_map(|(n, d)| format!("param {n} : {d}")),
        (name.clone(), domain.clone()).prop_map(|(n, d)| format!("param {n}[1..3] : {d}")),
        (name.clone(), support.clone()).prop_map(|(n, s)| format!("data {n} : {s}")),
        (name.clone(), support).prop_map(|(n, s)| format!("data {n}[K] : {s}")),
        (name.clone(), domain).prop_map(|(n, d)| format!("covariate {n} : {d}")),
        (name.clone(), expr.clone()).prop_map(|(n, e)| format!("let {n} = {e}")),
        expr.clone().prop_map(|e| format!("logp += {e}")),
        (name.clone(), family.clone()).prop_map(|(n, f)| format!("{n} ~ {f}")),
        (name.clone(), family).prop_map(|(n, f)| format!("for k in 1..3 {{ {n}[k] ~ {f} }}")),
        (name.clone(), name, expr)
            .prop_map(|(a, b, e)| format!("coords c {{ param {a} : real\n {b} = {e} }}")),
    ]
}

// ------------------------------------------------------- pathological inputs

fn assert_error(source: &str, code: &str) {
    check(source);
    let loaded = fimkit::load_with_diagnostics(source, "deep");
    assert!(loaded.model.is_none(), "should be rejected");
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&code), "expected {code}, got {codes:?}");
}

const HEAD: &str = "param mu : real\ndata x : real\n";

#[test]
fn ten_thousand_open_brackets() {
    assert_error(&format!("{HEAD}logp += {}", "(".repeat(10_000)), "E0002");
    assert_error(&"(".repeat(10_000), "E0002");
    assert_error(&format!("{HEAD}logp += {}x", "[".repeat(10_000)), "E0002");
    assert_error(&format!("{HEAD}logp += {}", "log(".repeat(10_000)), "E0002");
}

#[test]
fn long_power_chains() {
    let chain = vec!["x"; 10_000].join("^");
    assert_error(&format!("{HEAD}logp += {chain}"), "E0002");
    let chain = vec!["a"; 10_000].join("^");
    assert_error(&format!("logp += {chain}"), "E0002");
}

#[test]
fn long_unary_minus_runs() {
    assert_error(&format!("{HEAD}logp += {}x", "-".repeat(10_000)), "E0002");
    assert_error(&format!("{HEAD}logp += {}x", "- ".repeat(10_000)), "E0002");
}

#[test]
fn long_flat_sums_are_fine_or_rejected_quickly() {
    // 5,000 terms in one flat sum: left-associative, so deep as a tree.
    let sum = vec!["x"; 5_000].join(" + ");
    check(&format!("{HEAD}logp += mu*({sum})"));
    let sum = vec!["(x - mu)"; 100].join(" * ");
    check(&format!("{HEAD}logp += {sum}"));
}

#[test]
fn huge_exact_powers_are_refused() {
    assert_error(&format!("{HEAD}logp += x*((1e300)^4096)^4096"), "E0108");
    assert_error(
        &format!("const a = 10^4000\nconst b = a^4000\n{HEAD}logp += x*b"),
        "E0108",
    );
    // A symbolic power with a large exponent is fine (this used to
    // overflow the stack in Expr::pow).
    check(&format!("{HEAD}logp += (x - mu)^5000"));
    assert!(fimkit::load(&format!("{HEAD}logp += (x - mu)^5000"), "p").is_ok());
}

#[test]
fn growing_exact_coefficients_are_refused() {
    // Each term is small, but adding them up would build a rational with
    // millions of bits, quadratically slowly.
    assert_error(
        &format!("{HEAD}logp += mu*sum(k in 1..1000, x/(1e300 + k))"),
        "E0108",
    );
    assert_error(
        &format!("{HEAD}for k in 1..1000 {{ logp += mu*x/(1e300 + k) }}"),
        "E0108",
    );
    assert_error(
        &format!("{HEAD}logp += mu*prod(k in 1..1000, 1e300 + k)"),
        "E0108",
    );
    // Thousands of fractions with different denominators in one like term
    // would take minutes to add exactly.
    assert_error(&format!("{HEAD}logp += mu*sum(k in 1..8000, x/k)"), "E0108");
    // Shorter harmonic-type sums load, and so do many distinct fractions
    // on distinct terms (nothing is added up).
    assert!(fimkit::load(&format!("{HEAD}logp += mu*sum(k in 1..500, x/k)"), "h").is_ok());
    assert!(
        fimkit::load(
            &format!("{HEAD}logp += sum(k in 1..3000, (x - mu)^k/k)"),
            "p"
        )
        .is_ok()
    );
}

#[test]
fn doubling_let_chains_are_refused() {
    let mut s = String::from(HEAD);
    s.push_str("let a0 = x - mu\n");
    for i in 1..60 {
        s.push_str(&format!("let a{i} = a{} + log(a{})\n", i - 1, i - 1));
    }
    s.push_str("logp += a59\n");
    assert_error(&s, "E0125");
}

#[test]
fn deep_let_chains_are_refused() {
    let mut s = String::from(HEAD);
    s.push_str("let a0 = x - mu\n");
    for i in 1..5_000 {
        s.push_str(&format!("let a{i} = log(a{})\n", i - 1));
    }
    s.push_str("logp += a4999\n");
    assert_error(&s, "E0125");
}

#[test]
fn unrolling_is_bounded() {
    assert_error(
        &format!("{HEAD}logp += sum(i in 1..1000000000, sum(j in 1..1000000000, x))"),
        "E0123",
    );
    assert_error(
        &format!(
            "{HEAD}logp += sum(i in 1..2, {}x{})",
            "sum(j in 1..2, ".repeat(150),
            ")".repeat(150)
        ),
        "E0123",
    );
    assert_error(
        "const K = 1000000000\nparam a[1..K] : real\ndata x : real\nx ~ normal(a[1], 1)",
        "E0123",
    );
}

#[test]
fn oversized_source_is_refused() {
    let big = format!("{HEAD}{}", "# padding\n".repeat(120_000));
    assert_error(&big, "E0001");
}

#[test]
fn many_syntax_errors_are_capped() {
    let src = "param mu real\n".repeat(1_000);
    let loaded = fimkit::load_with_diagnostics(&src, "many");
    assert!(loaded.model.is_none());
    assert!(!loaded.diagnostics.is_empty() && loaded.diagnostics.len() <= 10);
}

#[test]
fn odd_characters() {
    for s in [
        "\u{0}",
        "\u{feff}param mu : real",
        "param μ : real\ndata x : real\nx ~ normal(μ, 1)",
        "param mu : real\r\ndata x : real\r\nx ~ normal(mu, 1)\r\n",
        "logp += 1 # comment without newline",
        "#",
        "",
        "\t\n  \n",
        "x ~ normal(mu, 1",
        "}}}}",
        "param mu : (inf, -inf)",
        "data x : 5..",
        "data x : 1e999..2",
        "const a = 0\nparam m : real\ndata x : real\nlogp += x/(a*m) + 1/a",
    ] {
        check(s);
    }
}
