//! The resolved model as readable text (`fimkit parse`) and JSON.

use super::text::{TextStyle, render};
use crate::ir::model::{Arg, Model, TermSource};
use serde_json::{Value, json};
use std::fmt::Write;

/// Resolved model as an aligned text summary.
pub fn model_text(m: &Model, style: &TextStyle) -> String {
    let style = &style
        .clone()
        .with_leading(super::leading_names(m).iter().map(|n| &**n));
    let mut out = String::new();
    let _ = writeln!(out, "model {}", m.name);
    let width = m
        .params
        .iter()
        .map(|p| p.name.len())
        .chain(m.data.iter().map(|d| d.name.len()))
        .chain(m.covariates.iter().map(|c| c.name.len()))
        .chain(m.consts.iter().map(|c| c.name.len()))
        .max()
        .unwrap_or(0);
    if !m.consts.is_empty() {
        let _ = writeln!(out, "  constants");
        for c in &m.consts {
            let _ = writeln!(out, "    {:width$} = {}", c.name, c.value);
        }
    }
    let _ = writeln!(out, "  parameters ({})", m.params.len());
    for p in &m.params {
        let _ = writeln!(out, "    {:width$} : {}", p.name, p.domain.label);
    }
    let _ = writeln!(out, "  data ({})", m.data.len());
    for d in &m.data {
        let _ = writeln!(out, "    {:width$} : {}", d.name, d.support.label());
    }
    if !m.covariates.is_empty() {
        let _ = writeln!(out, "  covariates ({})", m.covariates.len());
        for c in &m.covariates {
            let _ = writeln!(out, "    {:width$} : {}", c.name, c.domain.label);
        }
    }
    let _ = writeln!(out, "  terms");
    for t in &m.terms {
        let _ = writeln!(out, "    {}", term_label(&t.source, style));
    }
    let _ = writeln!(out, "  log-density");
    let _ = writeln!(out, "    {}", render(&m.logp, style));
    for c in &m.coords {
        let _ = writeln!(out, "  coordinates {}", c.name);
        for p in &c.params {
            let _ = writeln!(out, "    param {} : {}", p.name, p.domain.label);
        }
        for (old, e) in &c.map {
            let _ = writeln!(out, "    {old} = {}", render(e, style));
        }
    }
    out
}

/// `x ~ normal(mu, sigma)` or `logp += ...`.
pub fn term_label(source: &TermSource, style: &TextStyle) -> String {
    match source {
        TermSource::Raw => "logp += ...".to_string(),
        TermSource::Family { family, data, args } => {
            let lhs = if data.len() == 1 {
                data[0].to_string()
            } else {
                let first = &data[0];
                first.split('[').next().unwrap_or(first).to_string()
            };
            let args: Vec<String> = args
                .iter()
                .map(|a| match a {
                    Arg::Scalar(e) => render(e, style),
                    Arg::Vector(v) => format!(
                        "[{}]",
                        v.iter()
                            .map(|e| render(e, style))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
                .collect();
            format!("{lhs} ~ {family}({})", args.join(", "))
        }
    }
}

/// Resolved model as JSON.
pub fn model_json(m: &Model) -> Value {
    let style = TextStyle::ascii();
    json!({
        "name": m.name,
        "constants": m.consts.iter().map(|c| json!({"name": &*c.name, "value": c.value.to_string()})).collect::<Vec<_>>(),
        "parameters": m.params.iter().map(|p| json!({"name": &*p.name, "domain": p.domain.label})).collect::<Vec<_>>(),
        "data": m.data.iter().map(|d| json!({"name": &*d.name, "support": d.support.label()})).collect::<Vec<_>>(),
        "covariates": m.covariates.iter().map(|c| json!({"name": &*c.name, "domain": c.domain.label})).collect::<Vec<_>>(),
        "terms": m.terms.iter().map(|t| term_label(&t.source, &style)).collect::<Vec<_>>(),
        "logp": render(&m.logp, &style),
        "coordinates": m.coords.iter().map(|c| json!({
            "name": c.name,
            "parameters": c.params.iter().map(|p| json!({"name": &*p.name, "domain": p.domain.label})).collect::<Vec<_>>(),
            "map": c.map.iter().map(|(o, e)| json!({"parameter": &**o, "expr": render(e, &style)})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
