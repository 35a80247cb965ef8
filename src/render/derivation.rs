//! The `fimkit derive` report: text for people, JSON for programs.

use super::text::{TextStyle, render};
use crate::fisher::{Derivation, expectation::DataGroup, matrix::Inverse};
use crate::ir::expr::Expr;
use crate::ir::model::Model;
use serde_json::{Value, json};
use std::fmt::Write;

/// Render a matrix with aligned columns: `⎡ a  b ⎤` in Unicode, `[ a  b ]`
/// in ASCII.
pub fn matrix_text(m: &[Vec<Expr>], style: &TextStyle, indent: &str) -> String {
    let cells: Vec<Vec<String>> = m
        .iter()
        .map(|r| r.iter().map(|e| render(e, style)).collect())
        .collect();
    let n = cells.len();
    let cols = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|j| {
            cells
                .iter()
                .map(|r| r[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in cells.iter().enumerate() {
        let (l, r) = if !style.unicode || n == 1 {
            ("[", "]")
        } else if i == 0 {
            ("⎡", "⎤")
        } else if i == n - 1 {
            ("⎣", "⎦")
        } else {
            ("⎢", "⎥")
        };
        let body: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        let _ = writeln!(out, "{indent}{l} {} {r}", body.join("   "));
    }
    out
}

fn param_label(name: &str, style: &TextStyle) -> String {
    if style.unicode {
        super::text::unicode_name(name)
    } else {
        name.to_string()
    }
}

/// The derivation as readable text.
pub fn derivation_text(model: &Model, d: &Derivation, style: &TextStyle) -> String {
    let mut out = String::new();
    let r = |e: &Expr| render(e, style);
    let params: Vec<String> = model
        .params
        .iter()
        .map(|p| format!("{} : {}", param_label(&p.name, style), p.domain.label))
        .collect();
    let data: Vec<String> = model
        .data
        .iter()
        .map(|x| format!("{} : {}", param_label(&x.name, style), x.support.label()))
        .collect();
    let _ = writeln!(out, "{}", model.name);
    let _ = writeln!(out, "  parameters  {}", params.join(", "));
    let _ = writeln!(out, "  data        {}", data.join(", "));
    if !model.covariates.is_empty() {
        let cov: Vec<String> = model
            .covariates
            .iter()
            .map(|c| param_label(&c.name, style))
            .collect();
        let _ = writeln!(
            out,
            "  covariates  {} (the Fisher information is conditional on them)",
            cov.join(", ")
        );
    }
    let d_sym = if style.unicode { "∂" } else { "d" };
    let width = d
        .params
        .iter()
        .map(|p| param_label(p, style).chars().count())
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "\nscore");
    for (p, s) in d.params.iter().zip(&d.score) {
        let label = param_label(p, style);
        let _ = writeln!(
            out,
            "  {d_sym}/{d_sym}{label}{}   {}",
            " ".repeat(width - label.chars().count()),
            r(s)
        );
    }
    let _ = writeln!(out, "\nHessian of the log-density");
    out.push_str(&matrix_text(&d.hessian, style, "  "));
    match &d.fisher {
        Ok(cf) => {
            if !cf.groups.is_empty() {
                let _ = writeln!(out, "\nexponential family");
                for g in &cf.groups {
                    out.push_str(&group_text(g, style));
                }
            }
            let _ = writeln!(out, "\nFisher information, one observation");
            out.push_str(&matrix_text(&cf.fim, style, "  "));
            if !model.covariates.is_empty() {
                let _ = writeln!(
                    out,
                    "  (for one row of covariates; the dataset's information is the sum over rows)"
                );
            }
            if cf.singular {
                if model.covariates.is_empty() {
                    let _ = writeln!(
                        out,
                        "\nThe Fisher information is singular (det F = 0): the parameters are not identifiable."
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "\nOne row's Fisher information is singular, as expected with covariates; the sum over enough distinct rows is not."
                    );
                }
            } else {
                if let Some(det) = &cf.det {
                    let _ = writeln!(out, "\ndet F   {}", r(det));
                }
                match &cf.inverse {
                    Some(Inverse::Dense(inv)) => {
                        let _ = writeln!(
                            out,
                            "\nCramér–Rao bound, N observations: Cov(θ̂) ⪰ F⁻¹/N with F⁻¹ ="
                        );
                        out.push_str(&matrix_text(inv, style, "  "));
                    }
                    Some(Inverse::DiagonalMinusRankOne { w, c }) => {
                        let _ = writeln!(
                            out,
                            "\nCramér–Rao bound, N observations: Cov(θ̂) ⪰ F⁻¹/N with F⁻¹ = diag(w) − c·w·wᵀ,"
                        );
                        let ws: Vec<String> = w.iter().map(r).collect();
                        let _ = writeln!(out, "  w = ({})", ws.join(", "));
                        let _ = writeln!(out, "  c = {}", r(c));
                    }
                    None => {}
                }
                if let Some(j) = &cf.jeffreys
                    && model.covariates.is_empty()
                {
                    let _ = writeln!(out, "\nJeffreys prior   ∝ {}", r(j));
                }
            }
            let check = if cf.formulas_agree_symbolically {
                "−E[Hessian] = Σ Jᵀ Cov[T] J symbolically"
            } else {
                "−E[Hessian] and Σ Jᵀ Cov[T] J differ symbolically; see `fimkit check`"
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
pub fn coords_text(
    model: &Model,
    coords: &[crate::fisher::CoordsDerivation],
    style: &TextStyle,
) -> String {
    let mut out = String::new();
    for c in coords {
        let block = model.coords.iter().find(|b| b.name == c.name);
        let _ = writeln!(out, "\ncoordinates {}", c.name);
        if let Some(b) = block {
            for (old, e) in &b.map {
                let _ = writeln!(out, "  {} = {}", param_label(old, style), render(e, style));
            }
        }
        let d = &c.derivation;
        match &d.fisher {
            Ok(cf) => {
                let _ = writeln!(
                    out,
                    "  Fisher information in ({})",
                    d.params
                        .iter()
                        .map(|p| param_label(p, style))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                out.push_str(&matrix_text(&cf.fim, style, "    "));
                if let Some(j) = &cf.jeffreys {
                    let _ = writeln!(out, "  Jeffreys prior   ∝ {}", render(j, style));
                }
                let _ = writeln!(
                    out,
                    "  {}",
                    if c.pullback_agrees {
                        "verified: equals Jᵀ F J (J = ∂θ/∂φ)"
                    } else {
                        "warning: differs symbolically from Jᵀ F J; see `fimkit check`"
                    }
                );
            }
            Err(b) => {
                let _ = writeln!(out, "  no closed form: {b}");
            }
        }
    }
    if style.unicode { out } else { asciify(&out) }
}

/// Replace the Unicode that [`derivation_text`] uses by ASCII.
pub fn asciify(out: &str) -> String {
    out.replace('∂', "d")
        .replace('η', "eta")
        .replace('−', "-")
        .replace('Σ', "sum")
        .replace('ᵀ', "^T")
        .replace("⪰", ">=")
        .replace("⁻¹", "^-1")
        .replace("θ̂", "theta_hat")
        .replace('∝', "~")
        .replace('–', "-")
}

fn group_text(g: &DataGroup, style: &TextStyle) -> String {
    let r = |e: &Expr| render(e, style);
    let list = |v: &[Expr]| v.iter().map(r).collect::<Vec<_>>().join(", ");
    let vars: Vec<String> = g.vars.iter().map(|v| param_label(v, style)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "  {} ~ {}", vars.join(", "), g.family);
    let _ = writeln!(out, "    T = ({})", list(&g.stats));
    let _ = writeln!(out, "    η = ({})", list(&g.natural));
    let _ = writeln!(out, "    A = {}", r(&g.log_partition));
    let _ = writeln!(out, "    log h = {}", r(&g.log_base));
    out
}

fn matrix_json(m: &[Vec<Expr>]) -> Value {
    let style = TextStyle::ascii();
    Value::Array(
        m.iter()
            .map(|row| {
                Value::Array(
                    row.iter()
                        .map(|e| Value::String(render(e, &style)))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn vec_json(v: &[Expr]) -> Value {
    let style = TextStyle::ascii();
    Value::Array(v.iter().map(|e| Value::String(render(e, &style))).collect())
}

/// The derivation as JSON (schema "fimkit-json 1", see docs/json-schema.md).
pub fn derivation_json(model: &Model, d: &Derivation) -> Value {
    let style = TextStyle::ascii();
    let mut out = json!({
        "schema": "fimkit-json 1",
        "model": model.name,
        "parameters": d.params.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        "data": model.data.iter().map(|x| x.name.to_string()).collect::<Vec<_>>(),
        "covariates": model.covariates.iter().map(|x| x.name.to_string()).collect::<Vec<_>>(),
        "score": vec_json(&d.score),
        "hessian": matrix_json(&d.hessian),
    });
    let obj = out.as_object_mut().expect("object");
    match &d.fisher {
        Ok(cf) => {
            obj.insert("closed_form".into(), json!(true));
            obj.insert(
                "method".into(),
                json!("exponential-family moments (tier 1)"),
            );
            obj.insert("fim".into(), matrix_json(&cf.fim));
            obj.insert("fim_check".into(), json!({"formula": "sum J^T Cov[T] J", "agrees_symbolically": cf.formulas_agree_symbolically}));
            obj.insert(
                "det".into(),
                cf.det
                    .as_ref()
                    .map_or(Value::Null, |e| json!(render(e, &style))),
            );
            obj.insert("singular".into(), json!(cf.singular));
            obj.insert(
                "crb".into(),
                cf.inverse
                    .as_ref()
                    .map_or(Value::Null, |m| matrix_json(&m.to_dense())),
            );
            obj.insert(
                "jeffreys".into(),
                cf.jeffreys
                    .as_ref()
                    .map_or(Value::Null, |e| json!(render(e, &style))),
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
                                "T": vec_json(&g.stats),
                                "eta": vec_json(&g.natural),
                                "A": render(&g.log_partition, &style),
                                "log_h": render(&g.log_base, &style),
                            })
                        })
                        .collect(),
                ),
            );
        }
        Err(b) => {
            obj.insert("closed_form".into(), json!(false));
            obj.insert("method".into(), json!("none"));
            obj.insert("fim".into(), Value::Null);
            obj.insert("no_closed_form_reason".into(), json!(b.to_string()));
        }
    }
    out
}
