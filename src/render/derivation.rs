//! The `fimkit derive` report: text for people, LaTeX for papers, JSON for
//! programs. Formulas list the model's data variables first (`x − μ`).

use super::json::{SCHEMA, expr_json, matrix_json, vector_json};
use super::latex::{LatexStyle, latex, latex_name};
use super::matrix::matrix_latex;
use super::structured;
use super::text::{TextStyle, render, unicode_name};
use crate::fisher::identifiability::{Agreement, direction_text};
use crate::fisher::{CoordsDerivation, Derivation, expectation::DataGroup, matrix::Inverse};
use crate::ir::expr::{Expr, Name};
use crate::ir::model::Model;
use serde_json::{Value, json};
use std::fmt::Write;

fn leading(model: &Model) -> Vec<Name> {
    super::leading_names(model)
}

fn label(name: &str, style: &TextStyle) -> String {
    if style.unicode {
        unicode_name(name)
    } else {
        name.to_string()
    }
}

/// A symmetric matrix over `params`, in full when it reads, else by its
/// structure ([`structured::layout`]), every line indented by `pad`.
fn symmetric_text(
    m: &[Vec<Expr>],
    params: &[Name],
    derived: &[Name],
    style: &TextStyle,
    pad: &str,
) -> String {
    let layout = structured::layout(m, params, derived, None);
    structured::symmetric_text(m, params, &layout, style, pad)
}

/// The derivation as readable text (Unicode or ASCII per `style`; the
/// model's data variables are put first in sums automatically).
pub fn derivation_text(model: &Model, d: &Derivation, style: &TextStyle) -> String {
    let _stage = crate::budget::stage("printing the derivation");
    let style = &style
        .clone()
        .with_leading(leading(model).iter().map(|n| &**n));
    let r = |e: &Expr| render(e, style);
    let mut out = String::new();
    let params: Vec<String> = model
        .params
        .iter()
        .map(|p| format!("{} : {}", label(&p.name, style), p.domain.label))
        .collect();
    let data: Vec<String> = model
        .data
        .iter()
        .map(|x| format!("{} : {}", label(&x.name, style), x.support.label()))
        .collect();
    let _ = writeln!(out, "{}", model.name);
    let _ = writeln!(out, "  parameters  {}", params.join(", "));
    let _ = writeln!(out, "  data        {}", data.join(", "));
    if !model.covariates.is_empty() {
        let cov: Vec<String> = model
            .covariates
            .iter()
            .map(|c| label(&c.name, style))
            .collect();
        let _ = writeln!(
            out,
            "  covariates  {} (the Fisher information is conditional on them)",
            cov.join(", ")
        );
    }
    for (name, e) in &d.definitions {
        let _ = writeln!(
            out,
            "  where       {} = {} (the linear predictor, kept as one name below)",
            label(name, style),
            r(e)
        );
    }
    let width = d
        .params
        .iter()
        .map(|p| label(p, style).chars().count())
        .max()
        .unwrap_or(0);
    if d.has_score() {
        let _ = writeln!(out, "\nscore");
        for (p, s) in d.params.iter().zip(&d.score) {
            let l = label(p, style);
            let _ = writeln!(
                out,
                "  ∂/∂{l}{}   {}",
                " ".repeat(width - l.chars().count()),
                r(s)
            );
        }
        let _ = writeln!(out, "\nHessian of the log-density");
        out.push_str(&symmetric_text(
            &d.hessian,
            &d.params,
            &derived(d),
            style,
            "  ",
        ));
    }
    match &d.fisher {
        Ok(cf) => {
            if !cf.groups.is_empty() {
                let _ = writeln!(out, "\nexponential family");
                let eta_taken = d
                    .definitions
                    .iter()
                    .any(|(n, _)| label(n, &TextStyle::unicode()) == "η");
                for g in &cf.groups {
                    out.push_str(&group_text(g, style, eta_taken));
                }
            }
            let _ = writeln!(out, "\nFisher information, one observation");
            let layout = structured::layout(&cf.fim, &d.params, &derived(d), cf.rank_one.as_ref());
            out.push_str(&structured::symmetric_text(
                &cf.fim, &d.params, &layout, style, "  ",
            ));
            if let (Some((w, a)), structured::Layout::Full) = (&cf.rank_one, &layout) {
                let av: Vec<String> = a.iter().map(r).collect();
                let _ = writeln!(
                    out,
                    "  = w·a·aᵀ with w = {} and a = ({})",
                    r(w),
                    av.join(", ")
                );
            }
            if !model.covariates.is_empty() {
                let _ = writeln!(
                    out,
                    "  (for one row of covariates; the dataset's information is the sum over rows)"
                );
            }
            if cf.singular {
                if model.covariates.is_empty() {
                    match &cf.singularity {
                        Some(sg) => {
                            let names: Vec<String> =
                                d.params.iter().map(|p| label(p, style)).collect();
                            let point: Vec<String> = sg
                                .at
                                .iter()
                                .map(|(n, v)| format!("{} = {}", label(n, style), fmt_value(*v)))
                                .collect();
                            let _ = writeln!(
                                out,
                                "\nThe Fisher information is singular: rank {} of {} (at {}).",
                                sg.rank,
                                sg.dim,
                                point.join(", ")
                            );
                            for v in &sg.null_directions {
                                let _ = writeln!(
                                    out,
                                    "Along {} in ({}) the log-density does not change: the parameters are not identifiable.",
                                    direction_text(v),
                                    names.join(", ")
                                );
                            }
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "\nThe Fisher information is singular (det F = 0): the parameters are not identifiable."
                            );
                        }
                    }
                } else {
                    let _ = writeln!(
                        out,
                        "\nOne row's Fisher information is singular, as expected with covariates; the sum over enough distinct rows is not."
                    );
                }
            } else if model.covariates.is_empty() {
                if let Some(det) = &cf.det {
                    let _ = writeln!(out, "\ndet F   {}", r(det));
                }
                match &cf.inverse {
                    Some(Inverse::Dense(inv)) => {
                        let _ = writeln!(
                            out,
                            "\nCramér–Rao bound, N observations: Cov(θ̂) ⪰ F⁻¹/N with F⁻¹ ="
                        );
                        out.push_str(&symmetric_text(inv, &d.params, &derived(d), style, "  "));
                    }
                    Some(Inverse::DiagonalMinusRankOne { w, c }) => {
                        let _ = writeln!(
                            out,
                            "\nCramér–Rao bound, N observations: Cov(θ̂) ⪰ F⁻¹/N with F⁻¹ = diag(w) − c·w·wᵀ,"
                        );
                        let ws: Vec<String> = w.iter().map(r).collect();
                        let _ = writeln!(out, "  w = ({})", ws.join(", "));
                        let _ = writeln!(out, "  c = {}", r(c));
                        let _ = writeln!(
                            out,
                            "  (natural-gradient direction: F⁻¹·score = w∘(s − c·(wᵀs)·1), s the score)"
                        );
                    }
                    None => {}
                }
                if let Some(j) = &cf.jeffreys {
                    let _ = writeln!(out, "\nJeffreys prior   ∝ {}", r(j));
                }
                if let Some(ng) = &cf.natural_gradient {
                    let _ = writeln!(
                        out,
                        "\nnatural-gradient direction F⁻¹·score, one observation"
                    );
                    for (p, e) in d.params.iter().zip(ng) {
                        let l = label(p, style);
                        let _ = writeln!(
                            out,
                            "  {l}{}   {}",
                            " ".repeat(width - l.chars().count()),
                            r(e)
                        );
                    }
                }
            }
            if let Some(o) = &cf.omitted {
                let _ = writeln!(
                    out,
                    "\nleft out to stay within the time budget: {o} (F above is complete; --budget SECONDS gives more time)"
                );
            }
            let check = match &cf.agreement {
                Agreement::Symbolic => "−E[Hessian] = Σ Jᵀ Cov[T] J symbolically".to_string(),
                Agreement::Numeric { points, max_rel } => {
                    format!(
                        "−E[Hessian] = Σ Jᵀ Cov[T] J at {points} points (max rel. difference {max_rel:.1e})"
                    )
                }
                Agreement::DataFreeHessian => "Hessian free of data: F = −H exactly (no second formula: \
                     the data matched no exponential family; `fimkit check` tests that p is normalised)"
                    .to_string(),
                Agreement::Unverified | Agreement::Disagree { .. } => {
                    "−E[Hessian] and Σ Jᵀ Cov[T] J could not be compared; run `fimkit check`"
                        .to_string()
                }
            };
            let _ = writeln!(out, "\nverified: {check}");
        }
        Err(b) => {
            let _ = writeln!(out, "\nno closed-form Fisher information (tier 1): {b}");
            let _ = writeln!(
                out,
                "use `fimkit derive --at name=value,...` for the numeric Fisher information at a point"
            );
        }
    }
    if style.unicode { out } else { asciify(&out) }
}

/// Text for the derivations in alternative coordinates.
pub fn coords_text(model: &Model, coords: &[CoordsDerivation], style: &TextStyle) -> String {
    let style = &style
        .clone()
        .with_leading(leading(model).iter().map(|n| &**n));
    let mut out = String::new();
    for c in coords {
        let _ = writeln!(out, "\ncoordinates {}", c.name);
        if let Some(b) = model.coords.iter().find(|b| b.name == c.name) {
            for (old, e) in &b.map {
                let _ = writeln!(out, "  {} = {}", label(old, style), render(e, style));
            }
        }
        let d = &c.derivation;
        match &d.fisher {
            Ok(cf) => {
                let names: Vec<String> = d.params.iter().map(|p| label(p, style)).collect();
                let _ = writeln!(out, "  Fisher information in ({})", names.join(", "));
                out.push_str(&symmetric_text(
                    &cf.fim,
                    &d.params,
                    &derived(&c.derivation),
                    style,
                    "    ",
                ));
                if let Some(j) = &cf.jeffreys {
                    let _ = writeln!(out, "  Jeffreys prior   ∝ {}", render(j, style));
                }
                let verdict = if c.pullback_agrees {
                    "verified: equals Jᵀ F J (J = ∂θ/∂φ)"
                } else {
                    "not shown equal to Jᵀ F J symbolically; `fimkit check` compares them numerically"
                };
                let _ = writeln!(out, "  {verdict}");
            }
            Err(b) => {
                let _ = writeln!(out, "  no closed form: {b}");
            }
        }
    }
    if style.unicode { out } else { asciify(&out) }
}

pub use crate::number::fmt_value;

/// Replace the Unicode of the report's prose by ASCII.
pub fn asciify(out: &str) -> String {
    out.replace('∂', "d")
        .replace('η', "eta")
        .replace('−', "-")
        .replace('Σ', "sum")
        .replace('ᵀ', "^T")
        .replace('⪰', ">=")
        .replace("⁻¹", "^-1")
        .replace("θ̂", "theta_hat")
        .replace('θ', "theta")
        .replace('φ', "phi")
        .replace('∝', "~")
        .replace('–', "-")
        .replace('·', "*")
}

fn group_text(g: &DataGroup, style: &TextStyle, eta_taken: bool) -> String {
    let r = |e: &Expr| render(e, style);
    // The natural parameter is η, unless a linear predictor took the name.
    let natural = if eta_taken { "natural" } else { "η" };
    let list = |v: &[Expr]| v.iter().map(r).collect::<Vec<_>>().join(", ");
    let vars: Vec<String> = g.vars.iter().map(|v| label(v, style)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "  {} ~ {}", vars.join(", "), g.family);
    let _ = writeln!(out, "    T = ({})", list(&g.stats));
    let _ = writeln!(out, "    {natural} = ({})", list(&g.natural));
    let _ = writeln!(out, "    A = {}", r(&g.log_partition));
    let _ = writeln!(out, "    log h = {}", r(&g.log_base));
    out
}

/// The names a derivation defines (its linear predictors).
fn derived(d: &Derivation) -> Vec<Name> {
    d.definitions.iter().map(|(n, _)| n.clone()).collect()
}

/// A symmetric matrix over `params` as LaTeX, in the form the text shows.
fn symmetric_latex(
    m: &[Vec<Expr>],
    params: &[Name],
    derived: &[Name],
    style: &LatexStyle,
) -> String {
    let layout = structured::layout(m, params, derived, None);
    structured::symmetric_latex(m, params, &layout, style)
}

/// The derivation as a LaTeX fragment (`align*` environments), or a
/// complete document with `standalone`.
pub fn derivation_latex(
    model: &Model,
    d: &Derivation,
    coords: &[CoordsDerivation],
    standalone: bool,
) -> String {
    let style = LatexStyle::default().with_leading(leading(model).iter().map(|n| &**n));
    let l = |e: &Expr| latex(e, &style);
    let theta: Vec<String> = d.params.iter().map(|p| latex_name(p)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "% {} — derived by fimkit", model.name);
    if !d.definitions.is_empty() {
        let _ = writeln!(out, "% the linear predictor, kept as one name below");
        let _ = writeln!(out, "\\begin{{align*}}");
        for (i, (name, e)) in d.definitions.iter().enumerate() {
            let sep = if i + 1 < d.definitions.len() {
                " \\\\"
            } else {
                ""
            };
            let _ = writeln!(out, "  {} &= {}{sep}", latex_name(name), l(e));
        }
        let _ = writeln!(out, "\\end{{align*}}");
    }
    if d.has_score() {
        let _ = writeln!(out, "\\begin{{align*}}");
        for (i, (p, s)) in d.params.iter().zip(&d.score).enumerate() {
            let sep = if i + 1 < d.params.len() { " \\\\" } else { "" };
            let _ = writeln!(
                out,
                "  \\frac{{\\partial \\log p}}{{\\partial {}}} &= {}{sep}",
                latex_name(p),
                l(s)
            );
        }
        let _ = writeln!(out, "\\end{{align*}}");
        let _ = writeln!(out, "\\begin{{align*}}");
        let _ = writeln!(
            out,
            "  \\nabla^2_\\theta \\log p &= {}",
            symmetric_latex(&d.hessian, &d.params, &derived(d), &style)
        );
        let _ = writeln!(out, "\\end{{align*}}");
    }
    match &d.fisher {
        Ok(cf) => {
            let _ = writeln!(out, "\\begin{{align*}}");
            let _ = write!(
                out,
                "  \\mathcal{{I}}({}) &= {}",
                theta.join(", "),
                structured::symmetric_latex(
                    &cf.fim,
                    &d.params,
                    &structured::layout(&cf.fim, &d.params, &derived(d), cf.rank_one.as_ref()),
                    &style
                )
            );
            if cf.singular || !model.covariates.is_empty() {
                let _ = writeln!(out);
            } else {
                if let Some(det) = &cf.det {
                    let _ = write!(out, " \\\\\n  \\det \\mathcal{{I}} &= {}", l(det));
                }
                match &cf.inverse {
                    Some(Inverse::Dense(inv)) => {
                        let _ = write!(
                            out,
                            " \\\\\n  \\mathcal{{I}}^{{-1}} &= {}",
                            symmetric_latex(inv, &d.params, &derived(d), &style)
                        );
                    }
                    Some(inv @ Inverse::DiagonalMinusRankOne { w, c }) => {
                        let dense = inv.to_dense();
                        let shown = match structured::layout(&dense, &d.params, &derived(d), None) {
                            structured::Layout::Full => matrix_latex(&dense, &style),
                            _ => {
                                let ws: Vec<String> = w.iter().map(l).collect();
                                format!(
                                    "\\operatorname{{diag}}(w) - c\\, w w^{{\\top}}, \\quad c = {}, \\quad w = \\left({}\\right)^{{\\top}}",
                                    l(c),
                                    ws.join(", ")
                                )
                            }
                        };
                        let _ = write!(out, " \\\\\n  \\mathcal{{I}}^{{-1}} &= {shown}");
                    }
                    None => {}
                }
                if let Some(j) = &cf.jeffreys {
                    let _ = write!(
                        out,
                        " \\\\\n  \\pi_J({}) &\\propto {}",
                        theta.join(", "),
                        l(j)
                    );
                }
                let _ = writeln!(out);
            }
            let _ = writeln!(out, "\\end{{align*}}");
        }
        Err(b) => {
            let _ = writeln!(out, "% no closed-form Fisher information: {b}");
        }
    }
    for c in coords {
        if let Ok(cf) = &c.derivation.fisher {
            let phi: Vec<String> = c.derivation.params.iter().map(|p| latex_name(p)).collect();
            let _ = writeln!(out, "% coordinates {}", c.name);
            let _ = writeln!(out, "\\begin{{align*}}");
            let _ = writeln!(
                out,
                "  \\mathcal{{I}}({}) &= {}",
                phi.join(", "),
                symmetric_latex(
                    &cf.fim,
                    &c.derivation.params,
                    &derived(&c.derivation),
                    &style
                )
            );
            let _ = writeln!(out, "\\end{{align*}}");
        }
    }
    if standalone {
        format!(
            "\\documentclass{{article}}\n\\usepackage{{amsmath,amssymb}}\n\\begin{{document}}\n\\section*{{{}}}\n{out}\\end{{document}}\n",
            model.name.replace('_', "\\_")
        )
    } else {
        out
    }
}

/// The derivation as JSON (schema `fimkit-json 1`, see docs/json-schema.md).
///
/// `score`, `hessian` and `fim` are ASCII strings (stable keys for
/// programs); `formulas` holds every expression with its text, Unicode,
/// LaTeX and tree.
pub fn derivation_json(model: &Model, d: &Derivation, coords: &[CoordsDerivation]) -> Value {
    let lead = leading(model);
    let ascii = TextStyle::ascii().with_leading(lead.iter().map(|n| &**n));
    let s = |e: &Expr| Value::String(render(e, &ascii));
    let strings = |m: &[Vec<Expr>]| {
        Value::Array(
            m.iter()
                .map(|r| Value::Array(r.iter().map(s).collect()))
                .collect(),
        )
    };
    let mut out = json!({
        "schema": SCHEMA,
        "ok": true,
        "model": model.name,
        "parameters": d.params.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        "data": model.data.iter().map(|x| x.name.to_string()).collect::<Vec<_>>(),
        "covariates": model.covariates.iter().map(|x| x.name.to_string()).collect::<Vec<_>>(),
        "score": d.score.iter().map(s).collect::<Vec<_>>(),
        "hessian": strings(&d.hessian),
    });
    let mut formulas = json!({
        "score": vector_json(&d.score, &lead),
        "hessian": matrix_json(&d.hessian, &lead),
    });
    // Named intermediates (a regression's linear predictor): the key is
    // there only when the formulas use one.
    if !d.definitions.is_empty() {
        let defs = |f: &dyn Fn(&Expr) -> Value| {
            Value::Object(
                d.definitions
                    .iter()
                    .map(|(n, e)| (n.to_string(), f(e)))
                    .collect(),
            )
        };
        out["definitions"] = defs(&s);
        formulas["definitions"] = defs(&|e| expr_json(e, &lead));
    }
    // `--fim-only`: the keys stay, with null for what was not derived.
    if !d.has_score() {
        for m in [&mut out, &mut formulas] {
            m["score"] = Value::Null;
            m["hessian"] = Value::Null;
        }
    }
    let obj = out.as_object_mut().expect("object");
    let f = formulas.as_object_mut().expect("object");
    match &d.fisher {
        Ok(cf) => {
            obj.insert("closed_form".into(), json!(true));
            obj.insert(
                "method".into(),
                json!("exponential-family moments (tier 1)"),
            );
            obj.insert("fim".into(), strings(&cf.fim));
            let (how, max_rel) = match &cf.agreement {
                Agreement::Symbolic => ("symbolic", Value::Null),
                Agreement::Numeric { max_rel, .. } => ("numeric", json!(max_rel)),
                Agreement::DataFreeHessian => ("data_free_hessian", Value::Null),
                _ => ("unverified", Value::Null),
            };
            let formula = if cf.fim_outer.is_some() {
                json!("sum J^T Cov[T] J")
            } else {
                Value::Null
            };
            obj.insert(
                "fim_check".into(),
                json!({"formula": formula, "agrees_symbolically": cf.formulas_agree_symbolically, "agreement": how, "max_rel_difference": max_rel}),
            );
            obj.insert("singular".into(), json!(cf.singular));
            if let Some(o) = &cf.omitted {
                obj.insert("omitted".into(), json!(o));
            }
            if let Some((w, a)) = &cf.rank_one {
                obj.insert(
                    "fim_rank_one".into(),
                    json!({"w": s(w), "a": a.iter().map(s).collect::<Vec<_>>()}),
                );
            }
            obj.insert(
                "rank".into(),
                cf.singularity
                    .as_ref()
                    .map_or(json!(d.params.len()), |sg| json!(sg.rank)),
            );
            let null_dirs: Vec<serde_json::Map<String, Value>> = cf
                .singularity
                .iter()
                .flat_map(|sg| sg.null_directions.iter())
                .map(|v| {
                    d.params
                        .iter()
                        .map(|p| p.to_string())
                        .zip(v.iter().map(|x| json!(x)))
                        .collect()
                })
                .collect();
            obj.insert("null_directions".into(), json!(null_dirs));
            obj.insert("det".into(), cf.det.as_ref().map_or(Value::Null, s));
            let crb = cf.inverse.as_ref().map(Inverse::to_dense);
            obj.insert(
                "crb".into(),
                crb.as_ref().map_or(Value::Null, |m| strings(m)),
            );
            obj.insert(
                "jeffreys".into(),
                cf.jeffreys.as_ref().map_or(Value::Null, s),
            );
            obj.insert(
                "natural_gradient".into(),
                cf.natural_gradient
                    .as_ref()
                    .map_or(Value::Null, |v| Value::Array(v.iter().map(s).collect())),
            );
            obj.insert(
                "exponential_family".into(),
                Value::Array(
                    cf.groups
                        .iter()
                        .map(|g| {
                            json!({
                                "family": g.family,
                                "data": g.vars.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                                "T": vector_json(&g.stats, &lead),
                                "eta": vector_json(&g.natural, &lead),
                                "A": expr_json(&g.log_partition, &lead),
                                "log_h": expr_json(&g.log_base, &lead),
                            })
                        })
                        .collect(),
                ),
            );
            f.insert("fim".into(), matrix_json(&cf.fim, &lead));
            f.insert(
                "det".into(),
                cf.det.as_ref().map_or(Value::Null, |e| expr_json(e, &lead)),
            );
            f.insert(
                "crb".into(),
                crb.as_ref().map_or(Value::Null, |m| matrix_json(m, &lead)),
            );
            f.insert(
                "jeffreys".into(),
                cf.jeffreys
                    .as_ref()
                    .map_or(Value::Null, |e| expr_json(e, &lead)),
            );
            f.insert(
                "natural_gradient".into(),
                cf.natural_gradient
                    .as_ref()
                    .map_or(Value::Null, |v| vector_json(v, &lead)),
            );
        }
        Err(b) => {
            obj.insert("closed_form".into(), json!(false));
            obj.insert("method".into(), json!("none"));
            obj.insert("fim".into(), Value::Null);
            obj.insert("no_closed_form_reason".into(), json!(b.to_string()));
        }
    }
    obj.insert("formulas".into(), formulas);
    obj.insert(
        "coordinates".into(),
        Value::Array(
            coords
                .iter()
                .map(|c| {
                    let cf = c.derivation.fisher.as_ref().ok();
                    let jeffreys = cf.and_then(|cf| cf.jeffreys.as_ref());
                    // `--fim-only`: no score (null, the key stays).
                    let score = c.derivation.has_score().then_some(&c.derivation.score);
                    json!({
                        "name": c.name,
                        "parameters": c.derivation.params.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                        "score": score.map(|v| v.iter().map(s).collect::<Vec<_>>()),
                        "fim": cf.map(|cf| strings(&cf.fim)),
                        "jeffreys": jeffreys.map(s),
                        "pullback_agrees": c.pullback_agrees,
                        "formulas": {
                            "score": score.map(|v| vector_json(v, &lead)),
                            "fim": cf.map(|cf| matrix_json(&cf.fim, &lead)),
                            "jeffreys": jeffreys.map(|e| expr_json(e, &lead)),
                        },
                    })
                })
                .collect(),
        ),
    );
    out
}
