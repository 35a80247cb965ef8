//! Generated C99: one translation unit with external functions (prefixed
//! by the model name, since C has no namespaces) and `static` helpers;
//! vectors and matrices are written to caller-provided arrays. Compile
//! with `cc -O2 -c model.c` and link with `-lm`.

use super::cse::{Dialect, Fun, Printed, signed_lit};
use super::special_c::{SNIPPETS, snippet_for};
use super::special_rust::resolve;
use super::{CodegenError, Function, Kind, Lang, Unit};
use crate::ir::expr::Constant;

/// Keywords and the `math.h` names the generated code may call.
pub(crate) const RESERVED: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Complex",
    "_Imaginary",
    "bool",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sin",
    "cos",
    "tan",
    "fabs",
    "sqrt",
    "pow",
    "lgamma",
    "tgamma",
    "erf",
    "erfc",
    "frexp",
    "scalbn",
    "fma",
    "floor",
    "ceil",
    "round",
    "isnan",
    "isfinite",
    "isnormal",
    "NAN",
    "INFINITY",
    "HUGE_VAL",
    "out",
    "main",
    "errno",
    "signgam",
    "y0",
    "y1",
    "yn",
    "j0",
    "j1",
    "jn",
    "gamma",
];

/// C expressions over `double`.
pub(crate) struct CDialect;

impl Dialect for CDialect {
    fn lit(&self, v: f64) -> String {
        if v.is_infinite() {
            "INFINITY".into()
        } else {
            // Debug always prints a decimal point or an exponent, so the
            // literal is a double.
            format!("{v:?}")
        }
    }

    fn constant(&self, c: Constant) -> String {
        format!("{:?}", c.value())
    }

    fn powi(&self, x: Printed, n: i32) -> Printed {
        Printed::atom(format!("pow({}, {n}.0)", x.s))
    }

    fn powf(&self, x: Printed, y: Printed) -> Printed {
        Printed::atom(format!("pow({}, {})", x.s, y.s))
    }

    fn sqrt(&self, x: Printed) -> Printed {
        Printed::atom(format!("sqrt({})", x.s))
    }

    fn call(&self, f: Fun, a: Vec<Printed>) -> Result<Printed, CodegenError> {
        let args = a.iter().map(|p| p.s.clone()).collect::<Vec<_>>().join(", ");
        let name = match f {
            Fun::Exp => "exp",
            Fun::Log => "log",
            Fun::Log1p => "log1p",
            Fun::Expm1 => "expm1",
            Fun::Sin => "sin",
            Fun::Cos => "cos",
            Fun::Abs => "fabs",
            Fun::Lgamma => "lgamma",
            Fun::Erf => "erf",
            Fun::Erfc => "erfc",
            Fun::Sigmoid => "fk_sigmoid",
            Fun::LogSigmoid => "fk_log_sigmoid",
            Fun::Digamma => "fk_digamma",
            Fun::Polygamma(n) => {
                return Ok(Printed::atom(format!("fk_polygamma({n}, {args})")));
            }
            Fun::PolygammaDyn => "fk_polygamma_any",
            Fun::Lbeta => "fk_lbeta",
            Fun::NormalCdf => "fk_normal_cdf",
            Fun::LogNormalCdf => "fk_log_normal_cdf",
            Fun::Mills => "fk_mills",
            Fun::MillsShift => "fk_mills_shift",
            Fun::BesselI => "fk_besseli",
            Fun::LogBesselI => "fk_log_besseli",
            Fun::Indicator => {
                return Ok(Printed::atom(format!(
                    "({} == {} ? 1.0 : 0.0)",
                    a[0].s, a[1].s
                )));
            }
        };
        Ok(Printed::atom(format!("{name}({args})")))
    }
}

fn signature(f: &Function) -> String {
    let mut args: Vec<String> = f.args.iter().map(|a| format!("double {a}")).collect();
    let p = f.dim;
    let ret = match f.kind {
        Kind::LogDensity => "double",
        Kind::Score => {
            args.push(format!("double out[{p}]"));
            "void"
        }
        Kind::Hessian | Kind::Fim => {
            args.push(format!("double out[{p}][{p}]"));
            "void"
        }
    };
    format!("{ret} {}({})", f.name, args.join(", "))
}

fn function(out: &mut String, f: &Function, used: &[bool]) {
    let doc = match f.kind {
        Kind::LogDensity => "The log-density log p(data | theta).",
        Kind::Score => "The score d log p / d theta, written to out.",
        Kind::Hessian => "The Hessian d^2 log p / d theta d theta^T, written to out.",
        Kind::Fim => "The Fisher information of one observation, -E[Hessian], written to out.",
    };
    out.push_str(&format!("/* {doc} */\n{}\n{{\n", signature(f)));
    for (name, value) in &f.emitted.temps {
        out.push_str(&format!("    const double {name} = {value};\n"));
    }
    for (a, u) in f.args.iter().zip(used) {
        if !u {
            out.push_str(&format!("    (void){a};\n"));
        }
    }
    match f.kind {
        Kind::LogDensity => out.push_str(&format!("    return {};\n", f.emitted.outputs[0])),
        Kind::Score => {
            for (i, e) in f.emitted.outputs.iter().enumerate() {
                out.push_str(&format!("    out[{i}] = {e};\n"));
            }
        }
        Kind::Hessian | Kind::Fim => {
            for i in 0..f.dim {
                for j in 0..f.dim {
                    out.push_str(&format!("    out[{i}][{j}] = {};\n", f.entry(i, j)));
                }
            }
        }
    }
    out.push_str("}\n");
}

/// The whole file.
pub(crate) fn render(unit: &Unit) -> String {
    let mut out = String::from("/*\n");
    let returns = |k: Kind, p: usize| match k {
        Kind::LogDensity => "double".to_string(),
        Kind::Score => format!("void, writes double out[{p}] (last argument)"),
        Kind::Hessian | Kind::Fim => {
            format!("void, writes double out[{p}][{p}] (last argument)")
        }
    };
    for line in unit.header(Lang::C, &returns) {
        if line.is_empty() {
            out.push_str(" *\n");
        } else {
            out.push_str(&format!(" * {}\n", line.replace("*/", "* /")));
        }
    }
    out.push_str(" *\n * Prototypes:\n");
    for f in &unit.functions {
        out.push_str(&format!(" *   {};\n", signature(f)));
    }
    out.push_str(" */\n\n#include <math.h>\n\n");
    for (name, ident, value) in unit.used_constants() {
        out.push_str(&format!(
            "/* The model's constant `{name}`. */\nstatic const double {ident} = {};\n",
            signed_lit(&CDialect, *value)
        ));
    }
    if !unit.used_constants().is_empty() {
        out.push('\n');
    }
    for s in resolve(&unit.funs, SNIPPETS, &snippet_for) {
        out.push_str(s.code);
        out.push('\n');
    }
    for (i, f) in unit.functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let used: Vec<bool> = f.args.iter().map(|a| f.reads(a)).collect();
        function(&mut out, f, &used);
    }
    out
}
