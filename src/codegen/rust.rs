//! Generated Rust: `pub fn`s over `f64` returning arrays, std only, the
//! special functions included as private `fk_*` helpers. The file can be
//! a module of its own or `include!`d inside `mod name { ... }`.

use super::cse::{Dialect, Fun, P_ATOM, Printed, signed_lit};
use super::special_rust::{SNIPPETS, resolve, snippet_for};
use super::{CodegenError, Function, Kind, Lang, Unit};
use crate::ir::expr::Constant;

/// Keywords (strict, reserved and weak) and names the generated code uses.
pub(crate) const RESERVED: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union", "f64", "f32",
    "u32", "i32", "u64", "usize", "bool", "std", "core", "Some", "None", "Ok", "Err", "Option",
    "Result", "Vec", "String", "Box",
];

/// Rust expressions: methods for std functions, `fk_*` for the rest.
pub(crate) struct RustDialect;

/// `x` ready for a method call: a literal gets its type (`2.0_f64.ln()`),
/// arithmetic on literals a conversion (`f64::from(2.0*0.5).exp()`).
fn receiver(x: &Printed) -> String {
    if x.lit && !x.s.contains("INFINITY") {
        format!("{}_f64", x.s)
    } else if !x.typed {
        format!("f64::from({})", x.s)
    } else {
        x.at(P_ATOM)
    }
}

fn method(x: &Printed, m: &str) -> Printed {
    Printed::atom(format!("{}.{m}()", receiver(x)))
}

impl Dialect for RustDialect {
    fn lit(&self, v: f64) -> String {
        if v.is_infinite() {
            "f64::INFINITY".into()
        } else {
            format!("{v:?}")
        }
    }

    fn constant(&self, c: Constant) -> String {
        match c {
            Constant::Pi => "std::f64::consts::PI".into(),
            Constant::E => "std::f64::consts::E".into(),
            Constant::EulerGamma => format!("{:?}", Constant::EulerGamma.value()),
        }
    }

    fn powi(&self, x: Printed, n: i32) -> Printed {
        Printed::atom(format!("{}.powi({n})", receiver(&x)))
    }

    fn powf(&self, x: Printed, y: Printed) -> Printed {
        Printed::atom(format!("{}.powf({})", receiver(&x), y.s))
    }

    fn sqrt(&self, x: Printed) -> Printed {
        method(&x, "sqrt")
    }

    fn call(&self, f: Fun, a: Vec<Printed>) -> Result<Printed, CodegenError> {
        let helper = |name: &str, a: &[Printed]| {
            Printed::atom(format!(
                "fk_{name}({})",
                a.iter().map(|p| p.s.clone()).collect::<Vec<_>>().join(", ")
            ))
        };
        Ok(match f {
            Fun::Exp => method(&a[0], "exp"),
            Fun::Log => method(&a[0], "ln"),
            Fun::Log1p => method(&a[0], "ln_1p"),
            Fun::Expm1 => method(&a[0], "exp_m1"),
            Fun::Sin => method(&a[0], "sin"),
            Fun::Cos => method(&a[0], "cos"),
            Fun::Abs => method(&a[0], "abs"),
            Fun::Sigmoid => helper("sigmoid", &a),
            Fun::LogSigmoid => helper("log_sigmoid", &a),
            Fun::Lgamma => helper("lgamma", &a),
            Fun::Digamma => helper("digamma", &a),
            Fun::Polygamma(n) => Printed::atom(format!("fk_polygamma({n}, {})", a[0].s)),
            Fun::PolygammaDyn => helper("polygamma_any", &a),
            Fun::Lbeta => helper("lbeta", &a),
            Fun::Erf => helper("erf", &a),
            Fun::Erfc => helper("erfc", &a),
            Fun::NormalCdf => helper("normal_cdf", &a),
            Fun::LogNormalCdf => helper("log_normal_cdf", &a),
            Fun::Mills => helper("mills", &a),
            Fun::MillsShift => helper("mills_shift", &a),
            Fun::BesselI => helper("besseli", &a),
            Fun::LogBesselI => helper("log_besseli", &a),
            Fun::Indicator => Printed::atom(format!(
                "(if {} == {} {{ 1.0 }} else {{ 0.0 }})",
                a[0].s, a[1].s
            )),
        })
    }
}

fn return_type(kind: Kind, p: usize) -> String {
    match kind {
        Kind::LogDensity => "f64".into(),
        Kind::Score => format!("[f64; {p}]"),
        Kind::Hessian | Kind::Fim => format!("[[f64; {p}]; {p}]"),
    }
}

fn function(out: &mut String, f: &Function) {
    let doc = match f.kind {
        Kind::LogDensity => "The log-density log p(data | theta).",
        Kind::Score => "The score d log p / d theta.",
        Kind::Hessian => "The Hessian d^2 log p / d theta d theta^T (symmetric).",
        Kind::Fim => "The Fisher information of one observation, -E[Hessian] (symmetric).",
    };
    out.push_str(&format!("/// {doc}\n"));
    out.push_str("#[allow(unused_variables, clippy::all)]\n");
    let args: Vec<String> = f.args.iter().map(|a| format!("{a}: f64")).collect();
    out.push_str(&format!(
        "pub fn {}({}) -> {} {{\n",
        f.name,
        args.join(", "),
        return_type(f.kind, f.dim)
    ));
    for (name, value) in &f.emitted.temps {
        out.push_str(&format!("    let {name} = {value};\n"));
    }
    let result = match f.kind {
        Kind::LogDensity => f.emitted.outputs[0].clone(),
        Kind::Score => {
            let cells: Vec<String> = f
                .emitted
                .outputs
                .iter()
                .map(|e| format!("        {e},\n"))
                .collect();
            format!("[\n{}    ]", cells.concat())
        }
        Kind::Hessian | Kind::Fim => {
            let rows: Vec<String> = (0..f.dim)
                .map(|i| {
                    let cells: Vec<&str> = (0..f.dim).map(|j| f.entry(i, j)).collect();
                    format!("        [{}],\n", cells.join(", "))
                })
                .collect();
            format!("[\n{}    ]", rows.concat())
        }
    };
    out.push_str(&format!("    {result}\n}}\n"));
}

/// The whole file.
pub(crate) fn render(unit: &Unit) -> String {
    let mut out = String::new();
    for line in unit.header(Lang::Rust, &|k, p| return_type(k, p)) {
        if line.is_empty() {
            out.push_str("//\n");
        } else {
            out.push_str(&format!("// {line}\n"));
        }
    }
    out.push('\n');
    for (name, ident, value) in unit.used_constants() {
        out.push_str(&format!(
            "/// The model's constant `{name}`.\npub const {ident}: f64 = {};\n",
            signed_lit(&RustDialect, *value)
        ));
    }
    if !unit.used_constants().is_empty() {
        out.push('\n');
    }
    for (i, f) in unit.functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        function(&mut out, f);
    }
    for s in resolve(&unit.funs, SNIPPETS, &snippet_for) {
        out.push('\n');
        out.push_str(s.code);
    }
    out
}
