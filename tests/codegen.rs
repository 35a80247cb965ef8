//! `fimkit::codegen`: the generated Rust, C, Python and JAX run on every
//! model of the textbook corpus, the examples and tests/codegen/models,
//! at many points, and agree with fimkit's own numbers (`eval_f64` of the
//! same derived expressions) to 1e-12 relative (absolute below 1).
//!
//! One program per language for all models (one compile, one run): Rust
//! with `rustc --edition 2021 -O`, C with `cc -O2 ... -lm`, Python with the
//! driver tests/codegen/run_python.py, JAX with the same driver (numpy,
//! scipy, jax from tests/requirements.txt, which README's test command
//! `scripts/test` installs into .venv). A missing package is a failure that
//! says how to get it; FIMKIT_SKIP_PYTHON=1 / FIMKIT_SKIP_JAX=1 skip, loudly.

#[path = "codegen/common.rs"]
mod common;

use common::{Case, cases, check_line, run, scratch, stdin_points};
use fimkit::codegen::{CodegenConfig, Generated, Lang, generate};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn gen_with(case: &Case, lang: Lang, config: &CodegenConfig) -> Generated {
    generate(&case.model, &case.derivation, lang, config)
        .unwrap_or_else(|e| panic!("{} ({lang}): {e}", case.id))
}

fn gen_code(case: &Case, lang: Lang) -> Generated {
    gen_with(case, lang, &CodegenConfig::default())
}

/// Cases a language can express (JAX has Bessel functions of constant
/// integer order only; every corpus model qualifies).
fn all_cases() -> Vec<&'static Case> {
    cases().iter().collect()
}

fn report(lang: &str, failures: Vec<String>, values: usize) {
    assert!(values > 0, "{lang}: no values compared");
    assert!(
        failures.is_empty(),
        "{lang}: {} of {values} values differ from fimkit:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{lang}: {values} values agree with fimkit");
}

/// The agreement asked of generated code: 1e-12 relative (absolute below 1).
const TOL: f64 = 1e-12;

fn compare_output(lang: &str, stdout: &str, cs: &[&Case], tol: f64) {
    let mut failures = Vec::new();
    let mut values = 0;
    let mut lines = 0;
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        lines += 1;
        values += check_line(lang, line, cs, tol, &mut failures);
    }
    let expected: usize = cs.iter().map(|c| c.points.len()).sum();
    assert_eq!(lines, expected, "{lang}: one output line per point");
    report(lang, failures, values);
}

fn call(name: &str, args: &[usize]) -> String {
    let a: Vec<String> = args.iter().map(|k| format!("a[{k}]")).collect();
    format!("{name}({})", a.join(", "))
}

#[test]
fn rust_matches_fimkit() {
    let cs = all_cases();
    compare_output("rust", &rust_output("rust", &cs), &cs, TOL);
}

/// Compile one Rust program for all cases and run it on their points.
fn rust_output(name: &str, cs: &[&Case]) -> String {
    let dir = scratch(name);
    let mut main = String::from("use std::io::BufRead;\n\n");
    let mut arms = String::new();
    for (ci, c) in cs.iter().enumerate() {
        let g = gen_code(c, Lang::Rust);
        let file = dir.join(format!("m{ci}.rs"));
        std::fs::write(&file, &g.code).expect("write");
        writeln!(main, "mod m{ci} {{\n    include!({:?});\n}}", file).unwrap();
        let full: Vec<usize> = (0..c.points[0].len()).collect();
        let f = &g.functions;
        writeln!(arms, "            {ci} => {{").unwrap();
        writeln!(
            arms,
            "                put(&mut s, m{ci}::{});",
            call(&f.log_density, &full)
        )
        .unwrap();
        writeln!(
            arms,
            "                for x in m{ci}::{} {{ put(&mut s, x); }}",
            call(&f.score, &full)
        )
        .unwrap();
        writeln!(
            arms,
            "                for r in m{ci}::{} {{ for x in r {{ put(&mut s, x); }} }}",
            call(&f.hessian, &full)
        )
        .unwrap();
        if let Some(fim) = &f.fim {
            writeln!(
                arms,
                "                for r in m{ci}::{} {{ for x in r {{ put(&mut s, x); }} }}",
                call(fim, &c.fim_args())
            )
            .unwrap();
        }
        writeln!(arms, "            }}").unwrap();
    }
    write!(
        main,
        r#"
fn put(s: &mut String, x: f64) {{
    s.push(' ');
    s.push_str(&format!("{{x:?}}"));
}}

fn main() {{
    let mut s = String::new();
    for line in std::io::stdin().lock().lines() {{
        let line = line.expect("line");
        let mut it = line.split_whitespace();
        let ci: usize = it.next().expect("case").parse().expect("case");
        let pi: usize = it.next().expect("point").parse().expect("point");
        let a: Vec<f64> = it.map(|x| x.parse().expect("number")).collect();
        s.push_str(&format!("{{ci}} {{pi}}"));
        match ci {{
{arms}            _ => panic!("no case {{ci}}"),
        }}
        s.push('\n');
    }}
    print!("{{s}}");
}}
"#
    )
    .unwrap();
    let main_rs = dir.join("main.rs");
    std::fs::write(&main_rs, &main).expect("write");
    let exe = dir.join("driver");
    let (ok, _, err) = run(
        Command::new("rustc")
            .args(["--edition", "2021", "-O", "-o"])
            .arg(&exe)
            .arg(&main_rs),
        "",
    );
    assert!(ok, "rustc failed on the generated Rust:\n{err}");
    assert!(
        !err.contains("warning"),
        "the generated Rust compiles with warnings:\n{err}"
    );
    let (ok, out, err) = run(&mut Command::new(&exe), &stdin_points(cs));
    assert!(ok, "the Rust driver failed:\n{err}");
    out
}

#[test]
fn c_matches_fimkit() {
    let cs = all_cases();
    compare_output("c", &c_output("c", &cs), &cs, TOL);
}

/// Compile one C program for all cases and run it on their points.
fn c_output(name: &str, cs: &[&Case]) -> String {
    let dir = scratch(name);
    let mut main = String::from("#include <stdio.h>\n\n");
    let mut arms = String::new();
    let mut files = Vec::new();
    for (ci, c) in cs.iter().enumerate() {
        let config = CodegenConfig {
            prefix: Some(format!("m{ci}_")),
            ..CodegenConfig::default()
        };
        let g = gen_with(c, Lang::C, &config);
        let file = dir.join(format!("m{ci}.c"));
        std::fs::write(&file, &g.code).expect("write");
        files.push(file);
        let p = c.p();
        let n = c.points[0].len();
        let f = &g.functions;
        let doubles = |k: usize| vec!["double"; k].join(", ");
        writeln!(main, "double {}({});", f.log_density, doubles(n)).unwrap();
        writeln!(main, "void {}({}, double out[{p}]);", f.score, doubles(n)).unwrap();
        writeln!(
            main,
            "void {}({}, double out[{p}][{p}]);",
            f.hessian,
            doubles(n)
        )
        .unwrap();
        let full: Vec<usize> = (0..n).collect();
        let args = |idx: &[usize]| -> String {
            idx.iter()
                .map(|k| format!("a[{k}]"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(arms, "        case {ci}: {{").unwrap();
        writeln!(arms, "            double s[{p}], h[{p}][{p}];").unwrap();
        writeln!(arms, "            int i, j;").unwrap();
        writeln!(
            arms,
            "            for (i = 0; i < {n}; i++) if (scanf(\"%lf\", &a[i]) != 1) return 2;"
        )
        .unwrap();
        writeln!(
            arms,
            "            printf(\"%d %d %.17g\", ci, pi, {}({}));",
            f.log_density,
            args(&full)
        )
        .unwrap();
        writeln!(arms, "            {}({}, s);", f.score, args(&full)).unwrap();
        writeln!(
            arms,
            "            for (i = 0; i < {p}; i++) printf(\" %.17g\", s[i]);"
        )
        .unwrap();
        writeln!(arms, "            {}({}, h);", f.hessian, args(&full)).unwrap();
        writeln!(arms, "            for (i = 0; i < {p}; i++) for (j = 0; j < {p}; j++) printf(\" %.17g\", h[i][j]);").unwrap();
        if let Some(fim) = &f.fim {
            let fa = c.fim_args();
            writeln!(
                main,
                "void {fim}({}, double out[{p}][{p}]);",
                doubles(fa.len())
            )
            .unwrap();
            writeln!(arms, "            {fim}({}, h);", args(&fa)).unwrap();
            writeln!(arms, "            for (i = 0; i < {p}; i++) for (j = 0; j < {p}; j++) printf(\" %.17g\", h[i][j]);").unwrap();
        }
        writeln!(arms, "            break;\n        }}").unwrap();
    }
    write!(
        main,
        r#"
int main(void)
{{
    int ci, pi;
    double a[64];
    while (scanf("%d %d", &ci, &pi) == 2) {{
        switch (ci) {{
{arms}        default:
            return 3;
        }}
        printf("\n");
    }}
    return 0;
}}
"#
    )
    .unwrap();
    let main_c = dir.join("main.c");
    std::fs::write(&main_c, &main).expect("write");
    let exe = dir.join("driver");
    let (ok, _, err) = run(
        Command::new("cc")
            .args(["-std=c99", "-O2", "-Wall", "-Wextra", "-o"])
            .arg(&exe)
            .arg(&main_c)
            .args(&files)
            .arg("-lm"),
        "",
    );
    assert!(ok, "cc failed on the generated C:\n{err}");
    assert!(
        !err.contains("warning"),
        "the generated C compiles with warnings:\n{err}"
    );
    let (ok, out, err) = run(&mut Command::new(&exe), &stdin_points(cs));
    assert!(ok, "the C driver failed:\n{err}");
    out
}

/// Is `python3` there with numpy and scipy? (A failure message when not.)
fn python_with(modules: &str) -> Result<(), String> {
    let (ok, _, err) = run(
        Command::new("python3").args(["-c", &format!("import {modules}")]),
        "",
    );
    if ok { Ok(()) } else { Err(err) }
}

/// The driver's layout of the functions' arguments: a point's index for a
/// scalar, the indices of its elements for an array argument.
fn layout(g: &Generated, slots: &[fimkit::codegen::Slot<'_>]) -> serde_json::Value {
    let full = g.signature.full();
    let index = |a: &fimkit::codegen::Argument| {
        full.iter()
            .position(|b| b.name == a.name)
            .expect("an argument of the full signature")
    };
    slots
        .iter()
        .map(|s| {
            if s.is_array() {
                serde_json::json!(s.elements.iter().map(|a| index(a)).collect::<Vec<_>>())
            } else {
                serde_json::json!(index(s.elements[0]))
            }
        })
        .collect()
}

/// Write the generated modules and the driver's spec; run the driver.
fn run_python_driver(name: &str, lang: Lang, cs: &[&Case]) -> String {
    let dir = scratch(name);
    let mut spec = Vec::new();
    for (ci, c) in cs.iter().enumerate() {
        let g = gen_code(c, lang);
        let file = dir.join(format!("m{ci}.py"));
        std::fs::write(&file, &g.code).expect("write");
        spec.push(serde_json::json!({
            "path": file,
            "log_density": g.functions.log_density,
            "score": g.functions.score,
            "hessian": g.functions.hessian,
            "fim": g.functions.fim,
            "args": layout(&g, &g.signature.full_slots()),
            "fim_args": layout(&g, &g.signature.fim_slots()),
            "points": c.points,
        }));
    }
    let spec_file = dir.join("spec.json");
    std::fs::write(
        &spec_file,
        serde_json::to_string(&serde_json::json!({ "cases": spec })).expect("json"),
    )
    .expect("write");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/codegen/run_python.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&driver).arg(&spec_file);
    if lang == Lang::Jax {
        cmd.arg("--jax");
    }
    let (ok, out, err) = run(&mut cmd, "");
    assert!(ok, "the generated {lang} failed:\n{err}");
    out
}

/// Whether to run the generated Python: yes, unless FIMKIT_SKIP_PYTHON=1;
/// a failure (not a skip) when numpy or scipy is missing.
fn python_required() -> bool {
    if std::env::var("FIMKIT_SKIP_PYTHON").is_ok_and(|v| v == "1") {
        eprintln!("FIMKIT_SKIP_PYTHON=1: the generated Python is not run");
        return false;
    }
    if let Err(e) = python_with("numpy, scipy.special") {
        panic!(
            "the codegen tests run the generated Python, which needs python3 with numpy and scipy:\n  \
             run README's test command `scripts/test` (it installs them into .venv), or\n  \
             python3 -m pip install -r tests/requirements.txt\n\
             (or set FIMKIT_SKIP_PYTHON=1 to skip this test)\n\npython3 said:\n{e}"
        );
    }
    true
}

/// Batched (`B`) lines against the reference; scalar (`S`) lines too.
fn compare_python(lang: &str, out: &str, cs: &[&Case], tol: f64) {
    let batched: String = out
        .lines()
        .filter_map(|l| l.strip_prefix("B "))
        .map(|l| format!("{l}\n"))
        .collect();
    compare_output(lang, &batched, cs, tol);
    let mut failures = Vec::new();
    let mut values = 0;
    for l in out.lines().filter_map(|l| l.strip_prefix("S ")) {
        values += check_line(&format!("{lang} (scalar)"), l, cs, tol, &mut failures);
    }
    report(&format!("{lang} (scalar arguments)"), failures, values);
}

#[test]
fn python_matches_fimkit() {
    if !python_required() {
        return;
    }
    let cs = all_cases();
    let out = run_python_driver("python", Lang::Python, &cs);
    compare_python("python", &out, &cs, TOL);
}

#[test]
fn jax_parses_and_runs() {
    let cs = all_cases();
    let dir = scratch("jax-parse");
    let mut files = Vec::new();
    for (ci, c) in cs.iter().enumerate() {
        let g = gen_code(c, Lang::Jax);
        // No control flow on values: no `if` outside the Bessel helpers
        // (which branch on the constant order), the x64 and shape checks
        // (on the configuration and on static shapes) and the `__main__`
        // block.
        let functions = g.code.split("\nif __name__").next().unwrap_or("");
        let static_branches = [
            "_polygamma(",
            "_besseli_series(",
            "_besseli_scaled_up(",
            "_besseli(",
            "_log_besseli(",
            "_require_x64(",
            "_elements(",
        ];
        let functions: String = functions
            .split("\n\ndef ")
            .filter(|def| !static_branches.iter().any(|h| def.starts_with(h)))
            .collect::<Vec<_>>()
            .join("\n\ndef ");
        assert!(
            !functions.contains("if ") && !functions.contains("while "),
            "{}: control flow in generated JAX",
            c.id
        );
        let file = dir.join(format!("m{ci}.py"));
        std::fs::write(&file, &g.code).expect("write");
        files.push(file);
    }
    let check = "import ast, sys\nfor f in sys.argv[1:]:\n    ast.parse(open(f).read(), f)\n";
    let (ok, _, err) = run(
        Command::new("python3").arg("-c").arg(check).args(&files),
        "",
    );
    assert!(ok, "generated JAX does not parse:\n{err}");
    if std::env::var("FIMKIT_SKIP_JAX").is_ok_and(|v| v == "1") {
        eprintln!("FIMKIT_SKIP_JAX=1: the generated JAX was only parsed, not run");
        return;
    }
    if let Err(e) = python_with("jax") {
        panic!(
            "the codegen tests run the generated JAX, which needs python3 with jax:\n  \
             run README's test command `scripts/test` (it installs it into .venv), or\n  \
             python3 -m pip install -r tests/requirements.txt\n\
             (or set FIMKIT_SKIP_JAX=1 to only parse it)\n\npython3 said:\n{e}"
        );
    }
    let out = run_python_driver("jax", Lang::Jax, &cs);
    compare_python("jax", &out, &cs, TOL);
    // Each file's `__main__` smoke example runs (in one interpreter).
    let smoke = "import runpy, sys\nfor f in sys.argv[1:]:\n    print(f)\n    runpy.run_path(f, run_name='__main__')\n";
    let (ok, out, err) = run(
        Command::new("python3").arg("-c").arg(smoke).args(&files),
        "",
    );
    assert!(ok, "a smoke example failed:\n{out}\n{err}");
    assert_eq!(out.matches("jax.vmap(").count(), files.len(), "{out}");
}

fn case(id: &str) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

#[test]
fn snapshots_of_small_models() {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/codegen");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| {
        for id in ["ex_normal", "ex_gamma", "ex_bernoulli"] {
            for lang in Lang::ALL {
                let g = gen_code(case(id), lang);
                let name = format!("{}_{}", id.trim_start_matches("ex_"), lang.name());
                insta::assert_snapshot!(name, g.code);
            }
        }
    });
}

#[test]
fn identifiers_are_sanitized() {
    let c = case("cg_names");
    let py = gen_code(c, Lang::Python);
    let idents: Vec<&str> = py
        .signature
        .full()
        .iter()
        .map(|a| a.ident.as_str())
        .collect();
    assert_eq!(
        idents,
        [
            "lambda_", "fn", "double", "a_1", "a_2", "a_1_", "int_", "out", "np_"
        ]
    );
    // Python takes `a[1..2]` as one array `a`, which clashes with nothing.
    let slots: Vec<&str> = py.signature.full_slots().iter().map(|s| s.ident).collect();
    assert_eq!(
        slots,
        ["lambda_", "fn", "double", "a", "a_1_", "int_", "out", "np_"]
    );
    assert!(
        py.code
            .contains("def log_density(lambda_, fn, double, a, a_1_, int_, out, np_):"),
        "{}",
        py.code
    );
    assert!(
        py.code
            .contains("    a_1, a_2 = _elements(a, 2, \"a\", \"a[1..2]\")\n")
    );
    let rs = gen_code(c, Lang::Rust);
    let idents: Vec<&str> = rs
        .signature
        .full()
        .iter()
        .map(|a| a.ident.as_str())
        .collect();
    assert_eq!(
        idents,
        [
            "lambda", "fn_", "double", "a_1", "a_2", "a_1_", "int", "out", "np"
        ]
    );
    let cc = gen_code(c, Lang::C);
    let idents: Vec<&str> = cc
        .signature
        .full()
        .iter()
        .map(|a| a.ident.as_str())
        .collect();
    assert_eq!(
        idents,
        [
            "lambda", "fn", "double_", "a_1", "a_2", "a_1_", "int_", "out_", "np"
        ]
    );
    assert!(
        cc.code
            .contains("void names_score(double lambda, double fn, double double_,")
    );
}

#[test]
fn missing_fim_is_explained_and_omitted() {
    let c = case("cg_cauchy");
    for lang in Lang::ALL {
        let g = gen_code(c, lang);
        assert!(g.functions.fim.is_none());
        let why = g.fim_missing.as_deref().expect("a reason");
        assert!(
            g.code.contains("No closed-form Fisher information"),
            "{lang}"
        );
        assert!(g.code.contains(why), "{lang}: the reason is in the file");
        assert!(!g.code.contains("fim("), "{lang}: no fim function");
    }
}

#[test]
fn shared_subexpressions_keep_the_hessian_small() {
    // Dirichlet: every Hessian entry holds trigamma(alpha_1 + alpha_2 + alpha_3).
    let g = gen_code(case("tb_dirichlet3"), Lang::Python);
    let hess = g.code.split("def hessian").nth(1).expect("hessian");
    let hess = hess.split("\ndef ").next().expect("body");
    assert_eq!(
        hess.matches("polygamma(1, alpha_1 + alpha_2 + alpha_3)")
            .count(),
        1,
        "{hess}"
    );
    // Over the corpus: sharing never costs, and saves in the Hessians.
    let mut saved = 0;
    let mut total = 0;
    for c in cases() {
        let g = gen_code(c, Lang::Rust);
        let unshared: usize = c
            .derivation
            .hessian
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r[i..].iter())
            .map(fimkit::codegen::operation_count)
            .sum();
        assert!(
            g.op_counts[2] <= unshared,
            "{}: {} > {unshared}",
            c.id,
            g.op_counts[2]
        );
        saved += unshared - g.op_counts[2];
        total += unshared;
    }
    eprintln!(
        "Hessians: {} operations as trees, {} shared",
        total,
        total - saved
    );
    assert!(saved > 100, "sharing saves operations ({saved})");
}

#[test]
fn alternative_coordinates() {
    let c = case("ex_binomial_odds");
    let coords = fimkit::fisher::derive_coords(&c.model, &c.derivation, &Default::default());
    let odds = coords.iter().find(|d| d.name == "odds").expect("odds");
    let config = CodegenConfig {
        coords: Some("odds".into()),
        ..CodegenConfig::default()
    };
    let g = generate(&c.model, &odds.derivation, Lang::Python, &config).expect("generate");
    assert!(g.code.contains("def fim(phi):"), "{}", g.code);
    assert!(g.code.contains("--coords odds"));
    assert!(g.code.contains("def log_density(phi, x):"));
}

#[test]
fn random_expressions_print_correctly() {
    // Precedence, signs, quotients, powers and every function, in shapes
    // no model file has: random expressions as "score" and "Hessian"
    // entries, run in every language.
    // FIMKIT_LONG=1: five times as many.
    let long = std::env::var("FIMKIT_LONG").is_ok_and(|v| v == "1");
    let random = common::random_cases(if long { 120 } else { 24 });
    let cs: Vec<&Case> = random.iter().collect();
    compare_output("rust (random)", &rust_output("rust-random", &cs), &cs, TOL);
    compare_output("c (random)", &c_output("c-random", &cs), &cs, TOL);
    if python_required() {
        let out = run_python_driver("python-random", Lang::Python, &cs);
        compare_python("python (random)", &out, &cs, TOL);
    }
    if python_with("jax").is_ok() {
        let out = run_python_driver("jax-random", Lang::Jax, &cs);
        compare_python("jax (random)", &out, &cs, TOL);
    } else {
        eprintln!("skipped: jax is not installed, so the random expressions were not run in JAX");
    }
}

#[test]
fn what_a_language_cannot_express_is_an_error() {
    // A Bessel function of a non-integer order: JAX has integer orders
    // only; the other languages take any order.
    let src = "const nu = 1.5\nparam a : positive\ndata x : positive\nlogp += log(besseli(nu, a*x)) - a*x\n";
    let model = fimkit::load(src, "bessel_order").expect("model");
    let d = fimkit::fisher::derive(&model, &Default::default());
    let err = generate(&model, &d, Lang::Jax, &CodegenConfig::default()).expect_err("jax");
    assert!(err.to_string().contains("constant integer order"), "{err}");
    for lang in [Lang::Rust, Lang::C, Lang::Python] {
        let g = generate(&model, &d, lang, &CodegenConfig::default()).expect("generated");
        assert!(
            g.code.contains("besseli") || g.code.contains("iv("),
            "{lang}"
        );
    }
    let dir = scratch("unsupported");
    let file = dir.join("bessel.fim");
    std::fs::write(&file, src).expect("write");
    let cli = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .arg("codegen")
        .arg(&file)
        .args(["--lang", "jax"])
        .output()
        .expect("run");
    assert_eq!(cli.status.code(), Some(1), "the model cannot be expressed");
    assert!(String::from_utf8_lossy(&cli.stderr).contains("cannot generate jax"));
    assert!(cli.stdout.is_empty());
    // An integer order given by a constant is fine.
    let src = "const n = 2\nparam a : positive\ndata x : positive\nlogp += log(besseli(n, a*x)) + polygamma(n, a) - a*x\n";
    let model = fimkit::load(src, "bessel_const").expect("model");
    let d = fimkit::fisher::derive(&model, &Default::default());
    let g = generate(&model, &d, Lang::Jax, &CodegenConfig::default()).expect("jax");
    assert!(g.code.contains("_log_besseli(2, t0)"), "{}", g.code);
    assert!(g.code.contains("_polygamma(2, a)"), "{}", g.code);
}

/// The probit example (`y ~ bernoulli(Phi(eta))`) where `Phi(eta)`
/// underflows (eta = -40: 3.7e-350) or rounds to 1 (eta = +40), and at
/// -26 and -37.5 on either side of the branch at -20 and the underflow at
/// -38, with y = 0 and 1. Its log-density is `log Phi(eta)` or
/// `log Phi(-eta)`: finite everywhere (about -804.6 at |eta| = 40), and so
/// are the score and Hessian (`phi/Phi` is about 40 there). `refs` holds
/// logp, score and Hessian from second-order dual numbers on the
/// log-density (`gradient_hessian`, through `log_normal_cdf` and its
/// derivatives): the symbolic score, `exp(-eta^2/2)/Phi(eta)`, is 0/0 in
/// `eval_f64` there, so it cannot be the reference.
fn probit_tail_case() -> Case {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/probit_regression.fim");
    let src = std::fs::read_to_string(path).expect("read");
    let model = fimkit::load(&src, "probit").expect("probit loads");
    let derivation = fimkit::fisher::derive(&model, &Default::default());
    let names: Vec<&str> = model
        .params
        .iter()
        .map(|p| &*p.name)
        .chain(model.data.iter().map(|d| &*d.name))
        .chain(model.covariates.iter().map(|c| &*c.name))
        .collect();
    assert_eq!(names, ["b0", "b1", "b2", "y", "z1", "z2"]);
    // b0, b1, b2, y, z1, z2; eta = b0 + b1 z1 + b2 z2, exact in f64.
    let points: Vec<Vec<f64>> = vec![
        vec![-40.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        vec![-40.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        vec![40.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        vec![40.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        vec![-10.0, 3.0, 0.5, 1.0, -10.0, 0.0],
        vec![5.0, -2.0, 1.0, 0.0, -16.0, 3.0],
        vec![-1.0, 0.5, 0.0, 1.0, -50.0, 0.0],
        vec![-37.5, 1.0, 1.0, 1.0, 0.0, 0.0],
        vec![37.5, 1.0, 1.0, 0.0, 0.0, 0.0],
    ];
    let refs: Vec<Vec<f64>> = points
        .iter()
        .map(|p| {
            let at = |n: &str| names.iter().position(|m| *m == n).map(|k| p[k]);
            let v = fimkit::numeric::eval::eval_f64(&model.logp, &at).expect("fimkit's logp");
            let (v2, g, h) = fimkit::numeric::eval::gradient_hessian(&model.logp, &names[..3], &at)
                .expect("fimkit's derivatives");
            assert_eq!(v, v2, "logp at {p:?}");
            let mut out = vec![v];
            out.extend(g.iter());
            out.extend(h.transpose().iter()); // row-major
            assert!(
                out.iter().all(|x| x.is_finite()),
                "fimkit at {p:?}: {out:?}"
            );
            out
        })
        .collect();
    // Anchors independent of the evaluators (mpmath): at eta = -40 with
    // y = 1, logp = log Phi(-40), score[0] = r = phi/Phi, hessian[0][0] = -r(r - 40).
    let (logp, r, h00) = (
        -804.608_442_013_753_8,
        40.024_968_847_207_26,
        -0.999_377_331_621_408_6,
    );
    for k in [0, 4] {
        assert!((refs[k][0] - logp).abs() < 1e-12 * 804.6, "{:?}", refs[k]);
    }
    assert!((refs[0][1] - r).abs() < 1e-12 * r, "{:?}", refs[0]);
    assert!((refs[0][4] - h00).abs() < 1e-12, "{:?}", refs[0]);
    Case {
        id: "probit_tails".into(),
        model,
        derivation,
        points,
        refs,
    }
}

/// The tolerance in the tails for the Hessian. `-r (r + eta)` used to be
/// computed as `r^2 + eta r`, which cancels 1600 to 1 at eta = -40 (2e-11
/// in Rust and C, 2e-10 with SciPy's `log_ndtr`); the stable-form pass
/// writes it `-r q` with the Mills ratio `r` and `q = eta + r`, so it is as
/// accurate as the rest.
const TAIL_HESSIAN_TOL: f64 = TOL;

/// Each output line's logp, score and Hessian against `refs` (1e-12;
/// the Hessian [`TAIL_HESSIAN_TOL`]); the FIM that follows must be finite.
/// Returns how many lines were compared.
fn compare_tails(lang: &str, out: &str, c: &Case) -> usize {
    let mut failures = Vec::new();
    let mut lines = 0;
    let mut values = 0;
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let mut it = line.split_whitespace();
        let _case = it.next();
        let pi: usize = it.next().and_then(|s| s.parse().ok()).expect("point");
        let got: Vec<f64> = it.map(|s| s.parse().unwrap_or(f64::NAN)).collect();
        let want = &c.refs[pi];
        lines += 1;
        if got.len() != want.len() + c.p() * c.p() {
            failures.push(format!("{lang}: {} values in `{line}`", got.len()));
            continue;
        }
        for (k, g) in got.iter().enumerate() {
            values += 1;
            let ok = match want.get(k) {
                Some(w) if k <= c.p() => common::close(*g, *w, TOL),
                Some(w) => common::close(*g, *w, TAIL_HESSIAN_TOL),
                None => g.is_finite(),
            };
            if !ok {
                let w = want
                    .get(k)
                    .map_or("a finite number".into(), |w| format!("{w:e}"));
                failures.push(format!(
                    "{lang} at {:?} {}: generated {g:e}, fimkit {w}",
                    c.points[pi],
                    c.label(k)
                ));
            }
        }
    }
    report(&format!("{lang} (probit tails)"), failures, values);
    lines
}

fn prefixed(out: &str, prefix: &str) -> String {
    out.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn probit_is_finite_in_the_tails() {
    let c = probit_tail_case();
    let cs = [&c];
    for lang in Lang::ALL {
        let code = gen_code(&c, lang).code;
        let stable = match lang {
            Lang::Rust | Lang::C => "fk_log_normal_cdf(",
            Lang::Python | Lang::Jax => "log_ndtr(",
        };
        assert!(code.contains(stable), "{lang}: no {stable}\n{code}");
    }
    let n = c.points.len();
    assert_eq!(
        compare_tails("rust", &rust_output("rust-tails", &cs), &c),
        n
    );
    assert_eq!(compare_tails("c", &c_output("c-tails", &cs), &c), n);
    if python_required() {
        let out = run_python_driver("python-tails", Lang::Python, &cs);
        assert_eq!(compare_tails("python", &prefixed(&out, "B "), &c), n);
        assert_eq!(
            compare_tails("python (scalar)", &prefixed(&out, "S "), &c),
            1
        );
    }
    if python_with("jax").is_ok() {
        let out = run_python_driver("jax-tails", Lang::Jax, &cs);
        assert_eq!(compare_tails("jax", &prefixed(&out, "B "), &c), n);
    } else {
        eprintln!("skipped: jax is not installed, so the JAX tails were not run");
    }
}

/// One Bernoulli row with a probit or logit link in its linear predictor
/// (points: eta, y), and mpmath's logp, score, Hessian and Fisher
/// information (`None`: below the smallest normal f64) at each point, from
/// tests/data/tails/bernoulli_links.csv (scripts/tail_reference.py).
fn mpmath_tail_case(link: &str) -> (Case, Vec<[Option<f64>; 4]>) {
    let f = if link == "probit" { "Phi" } else { "sigmoid" };
    let src = format!("param eta : real\ndata y : {{0, 1}}\ny ~ bernoulli({f}(eta))\n");
    let model = fimkit::load(&src, link).expect("the model loads");
    let derivation = fimkit::fisher::derive(&model, &Default::default());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tails/bernoulli_links.csv");
    let text = std::fs::read_to_string(path).expect("the mpmath table");
    let (mut points, mut want) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[0] != link {
            continue;
        }
        let v = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().expect("a number"));
        points.push(vec![c[1].parse().expect("eta"), c[2].parse().expect("y")]);
        want.push([v(c[3]), v(c[4]), v(c[5]), v(c[6])]);
    }
    assert_eq!(points.len(), 16);
    let case = Case {
        id: format!("mpmath_{link}"),
        model,
        derivation,
        refs: vec![Vec::new(); points.len()],
        points,
    };
    (case, want)
}

/// Every output line `case point logp score hessian fim` against mpmath:
/// 1e-13 relative, or below 1e-300 where the reference underflows. Returns
/// how many lines were compared.
fn compare_mpmath(lang: &str, out: &str, cs: &[(Case, Vec<[Option<f64>; 4]>)]) -> usize {
    let mut failures = Vec::new();
    let (mut lines, mut values) = (0, 0);
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let mut it = line.split_whitespace();
        let ci: usize = it.next().and_then(|s| s.parse().ok()).expect("case");
        let pi: usize = it.next().and_then(|s| s.parse().ok()).expect("point");
        let got: Vec<f64> = it.map(|s| s.parse().unwrap_or(f64::NAN)).collect();
        let (case, want) = &cs[ci];
        lines += 1;
        if got.len() != 4 {
            failures.push(format!("{lang}: {} values in `{line}`", got.len()));
            continue;
        }
        for k in 0..4 {
            values += 1;
            let ok = match want[pi][k] {
                Some(w) => (got[k] - w).abs() <= 1e-13 * w.abs() + 1e-300,
                None => got[k].abs() < 1e-300,
            };
            if !ok {
                failures.push(format!(
                    "{lang} {} at (eta, y) = {:?} {}: generated {:e}, mpmath {:?}",
                    case.id,
                    case.points[pi],
                    ["logp", "score", "hessian", "fim"][k],
                    got[k],
                    want[pi][k]
                ));
            }
        }
    }
    report(&format!("{lang} (mpmath tails)"), failures, values);
    lines
}

#[test]
fn every_language_matches_mpmath_in_the_tails() {
    let cs = [mpmath_tail_case("probit"), mpmath_tail_case("logit")];
    let refs: Vec<&Case> = cs.iter().map(|(c, _)| c).collect();
    let n = 32;
    assert_eq!(
        compare_mpmath("rust", &rust_output("rust-mpmath", &refs), &cs),
        n
    );
    assert_eq!(compare_mpmath("c", &c_output("c-mpmath", &refs), &cs), n);
    if python_required() {
        let out = run_python_driver("python-mpmath", Lang::Python, &refs);
        assert_eq!(compare_mpmath("python", &prefixed(&out, "B "), &cs), n);
        // Plain floats (the driver calls with the first point, eta = -1000).
        assert_eq!(
            compare_mpmath("python (scalar)", &prefixed(&out, "S "), &cs),
            2
        );
    }
    if python_with("jax").is_ok() {
        let out = run_python_driver("jax-mpmath", Lang::Jax, &refs);
        assert_eq!(compare_mpmath("jax", &prefixed(&out, "B "), &cs), n);
    } else {
        eprintln!("skipped: jax is not installed, so the JAX tails were not run");
    }
}

/// Write `case`'s generated `lang` module to a scratch file; its path.
fn module_file(name: &str, case: &Case, lang: Lang) -> std::path::PathBuf {
    let file = scratch(name).join("m.py");
    std::fs::write(&file, gen_code(case, lang).code).expect("write");
    file
}

#[test]
fn python_and_jax_take_an_indexed_name_as_one_array() {
    // Rust and C keep one scalar per element; Python and JAX take one
    // array per indexed name, in declaration order, beside the scalars.
    let c = case("cg_regression_beta");
    let idents = |g: &Generated, fim: bool| -> Vec<String> {
        let slots = if fim {
            g.signature.fim_slots()
        } else {
            g.signature.full_slots()
        };
        slots.iter().map(|s| s.ident.to_string()).collect()
    };
    for lang in [Lang::Python, Lang::Jax] {
        let g = gen_code(c, lang);
        assert_eq!(idents(&g, false), ["b0", "beta", "c", "y", "z", "w"]);
        assert_eq!(idents(&g, true), ["b0", "beta", "c", "z", "w"]);
        assert!(
            g.code.contains("def score(b0, beta, c, y, z, w):"),
            "{lang}"
        );
        assert!(g.code.contains("def fim(b0, beta, c, z, w):"), "{lang}");
        // The header and the docstrings give each array's shape and order.
        assert!(
            g.code
                .contains("beta (array of shape (..., 3): the model's beta[1..3] in order, real)"),
            "{lang}"
        );
        assert!(
            g.code
                .contains("theta = (b0, beta[0], beta[1], beta[2], c[0])"),
            "{lang}"
        );
        assert!(
            g.code
                .contains("    beta: array of shape (..., 3), the model's beta[1..3] in order.\n"),
            "{lang}"
        );
        assert!(
            g.code
                .contains("    (c_1,) = _elements(c, 1, \"c\", \"c[1..1]\")\n"),
            "{lang}"
        );
    }
    for lang in [Lang::Rust, Lang::C] {
        let g = gen_code(c, lang);
        assert_eq!(
            g.signature.full_slots().len(),
            10,
            "{lang}: one per element"
        );
        assert!(g.signature.full().iter().all(|a| a.array.is_none()));
    }
    // Scalars stay scalars: no array helper where there is no array.
    let g = gen_code(case("ex_normal"), Lang::Python);
    assert!(!g.code.contains("_elements"), "{}", g.code);
}

/// Run a Python `script` on a generated module `file` (its first
/// argument), with JAX's 64-bit switch not set in the environment.
fn run_module_script(lang: Lang, file: &Path, script: &str) -> (bool, String, String) {
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(script)
        .arg(file)
        .env_remove("JAX_ENABLE_X64");
    let (ok, out, err) = run(&mut cmd, "");
    eprintln!("{lang}: {out}{err}");
    (ok, out, err)
}

const LOAD_MODULE: &str = "import importlib.util, sys\n\
def load(path):\n    spec = importlib.util.spec_from_file_location('generated', path)\n    m = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(m)\n    return m\n";

#[test]
fn a_wrong_length_array_is_a_value_error() {
    let mut langs = Vec::new();
    if python_required() {
        langs.push(Lang::Python);
    }
    if python_with("jax").is_ok() {
        langs.push(Lang::Jax);
    } else {
        eprintln!("skipped: jax is not installed, so the JAX shape checks were not run");
    }
    let script = format!(
        "{LOAD_MODULE}{}",
        r#"
jax_flavour = sys.argv[2] == "jax"
if jax_flavour:
    import jax
    import jax.numpy as xp
    jax.config.update("jax_enable_x64", True)
else:
    import numpy as xp
m = load(sys.argv[1])

def refused(f, *args, says):
    try:
        f(*args)
    except ValueError as e:
        assert says in str(e), str(e)
        return
    raise AssertionError("no ValueError for %r" % (args,))

alpha, x = xp.asarray([1.5, 2.0, 3.0]), xp.asarray([0.2, 0.3, 0.5])
good = m.score(alpha, x)
assert good.shape == (3,), good.shape
# Two entries, four, a scalar, and a batch of the wrong length: refused,
# never broadcast; the message names the argument and the model's names.
refused(m.score, alpha[:2], x, says="alpha must be an array with 3 entries along its last axis (the model's alpha[1..3], in order), got shape (2,)")
refused(m.score, xp.asarray([1.0, 2.0, 3.0, 4.0]), x, says="got shape (4,)")
refused(m.log_density, 2.0, x, says="got shape ()")
refused(m.hessian, alpha, xp.ones((5, 2)) / 2, says="x must be an array with 3 entries")
refused(m.fim, xp.ones((4, 1)), says="alpha must be an array with 3 entries")
# A batch along the leading axes broadcasts with one alpha.
batch = m.score(alpha, xp.stack([x, x[::-1]]))
assert batch.shape == (2, 3), batch.shape
assert float(abs(batch[0] - good).max()) == 0.0
if jax_flavour:
    # The check holds under jit and vmap too (shapes are static there).
    f = jax.jit(m.score)
    assert f(alpha, x).shape == (3,)
    refused(f, alpha[:2], x, says="alpha must be an array with 3 entries")
    assert jax.vmap(m.score)(xp.stack([alpha, alpha]), xp.stack([x, x])).shape == (2, 3)
print("ok")
"#
    );
    for lang in langs {
        let file = module_file(&format!("shape-{lang}"), case("tb_dirichlet3"), lang);
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(&script).arg(&file).arg(lang.name());
        let (ok, out, err) = run(&mut cmd, "");
        assert!(
            ok && out.trim_end().ends_with("ok"),
            "{lang}:\n{out}\n{err}"
        );
    }
}

#[test]
fn generated_jax_leaves_x64_alone_and_refuses_float32() {
    if python_with("jax").is_err() {
        eprintln!("skipped: jax is not installed, so the JAX x64 checks were not run");
        return;
    }
    let script = format!(
        "{LOAD_MODULE}{}",
        r#"
import jax
import jax.numpy as jnp
assert not jax.config.jax_enable_x64, "the test starts in 32-bit mode"
m = load(sys.argv[1])
# Importing the generated module does not switch the process to 64 bits.
assert not jax.config.jax_enable_x64, "importing the module turned x64 on"
assert jnp.asarray(1.0).dtype == jnp.float32
alpha, x = [1.5, 2.0, 3.0], [0.2, 0.3, 0.5]
for f, args in [(m.log_density, (alpha, x)), (m.score, (alpha, x)),
                (m.hessian, (alpha, x)), (m.fim, (alpha,)),
                (jax.jit(m.score), (alpha, x)), (jax.vmap(m.fim), (jnp.asarray([alpha]),))]:
    try:
        f(*args)
    except RuntimeError as e:
        assert 'jax.config.update("jax_enable_x64", True)' in str(e), str(e)
        assert "JAX_ENABLE_X64=1" in str(e), str(e)
    else:
        raise AssertionError("computed in float32: %r" % f)
assert not jax.config.jax_enable_x64
# Once the caller turns x64 on, the same functions compute in float64.
jax.config.update("jax_enable_x64", True)
s = m.score(jnp.asarray(alpha), jnp.asarray(x))
assert s.dtype == jnp.float64, s.dtype
print("ok")
"#
    );
    let file = module_file("x64", case("tb_dirichlet3"), Lang::Jax);
    let (ok, out, err) = run_module_script(Lang::Jax, &file, &script);
    assert!(ok && out.trim_end().ends_with("ok"), "{out}\n{err}");
    // The module documents it, and never calls jax.config.update itself
    // (the `__main__` smoke run, a script, does).
    for c in cases() {
        let code = gen_code(c, Lang::Jax).code;
        let module = code.split("\nif __name__").next().unwrap_or("");
        assert!(
            !module.contains("jax.config.update(\"jax_enable_x64\", True)\n"),
            "{}: the module switches x64 on",
            c.id
        );
        assert!(
            code.contains("Needs 64-bit JAX, which this module does not switch on"),
            "{}",
            c.id
        );
        assert_eq!(
            code.matches("    _require_x64()\n").count(),
            code.matches("\ndef ").count() - code.matches("\ndef _").count(),
            "{}: every entry point checks x64",
            c.id
        );
    }
}
