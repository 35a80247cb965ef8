//! Scope and names: declarations in scope, the names declared later in
//! the file, loop indices, and what a name stands for where it is used
//! (with "did you mean" help for unknown ones).

use super::*;

impl Resolver {
    pub(super) fn declared_later_scan(&mut self, stmt: &Stmt) {
        let name = match stmt {
            Stmt::Const { name, .. } | Stmt::Let { name, .. } => Some(name),
            Stmt::Param { name, .. } | Stmt::Data { name, .. } | Stmt::Covariate { name, .. } => {
                Some(&name.ident)
            }
            Stmt::For { body, .. } => {
                body.iter().for_each(|s| self.declared_later_scan(s));
                None
            }
            _ => None,
        };
        if let Some(n) = name {
            self.all_declared.entry(n.name.clone()).or_insert(n.span);
        }
    }

    /// A loop or sum index name that is not in use.
    pub(super) fn fresh_index_name(&self) -> &'static str {
        ["k", "j", "i", "l", "m", "k2", "k3"]
            .into_iter()
            .find(|c| {
                !self.decls.contains_key(*c)
                    && !self.lets.contains_key(*c)
                    && !self.loops.iter().any(|(n, _)| n == c)
            })
            .unwrap_or("k_")
    }

    pub(super) fn declare(
        &mut self,
        name: &ast::Ident,
        kind: Kind,
        range: Option<(i64, i64)>,
    ) -> Res<()> {
        if BUILTIN_CONSTANTS.contains(&name.name.as_str()) || name.name == "inf" {
            self.error(
                Diagnostic::error(
                    "E0102",
                    format!("`{}` is a built-in constant", name.name),
                    name.span,
                    "cannot be redeclared",
                )
                .with_help(match name.name.as_str() {
                    "inf" => "choose another name; `inf` is infinity in interval ends".to_string(),
                    other => format!(
                        "choose another name; `{other}` always means the constant {}",
                        if other == "pi" { "π" } else { "e = 2.718..." }
                    ),
                }),
            );
            return Err(());
        }
        if let Some(prev) = self.decls.get(&name.name) {
            let d = Diagnostic::error(
                "E0102",
                format!("`{}` is declared twice", name.name),
                name.span,
                "declared again here",
            )
            .with_label(
                prev.span,
                format!("first declared here as a {}", prev.kind.noun()),
            )
            .with_help("rename one of them");
            self.error(d);
            return Err(());
        }
        if self.loops.iter().any(|(n, _)| *n == name.name) {
            self.error(
                Diagnostic::error(
                    "E0102",
                    format!("`{}` is already the loop variable", name.name),
                    name.span,
                    "shadows the loop variable",
                )
                .with_help("rename the declaration or the loop variable"),
            );
            return Err(());
        }
        self.poisoned.remove(&name.name);
        self.decls.insert(
            name.name.clone(),
            Decl {
                kind,
                span: name.span,
                range,
            },
        );
        Ok(())
    }

    pub(super) fn decl_kind(&self, name: &str) -> Option<Kind> {
        let base = name.split('[').next().unwrap_or(name);
        self.decls.get(base).map(|d| d.kind)
    }

    pub(super) fn unknown_name(&self, name: &str, span: Span, fallback_help: &str) -> Diagnostic {
        if let Some(later) = self.all_declared.get(name)
            && later.start > span.start
        {
            return Diagnostic::error(
                "E0101",
                format!("`{name}` is used before it is declared"),
                span,
                "used here",
            )
            .with_label(*later, "declared later here")
            .with_help("move the declaration above its first use");
        }
        let mut candidates: Vec<&str> = self.decls.keys().map(String::as_str).collect();
        candidates.extend(self.lets.keys().map(String::as_str));
        candidates.extend(self.coord_scope.keys().map(String::as_str));
        candidates.extend(self.loops.iter().map(|(n, _)| n.as_str()));
        candidates.extend(BUILTIN_CONSTANTS);
        candidates.sort();
        let d = Diagnostic::error(
            "E0101",
            format!("unknown name `{name}`"),
            span,
            "not declared",
        );
        match did_you_mean(name, candidates) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(fallback_help.to_string()),
        }
    }

    pub(super) fn name(&mut self, n: &str, span: Span, ctx: Ctx) -> Res<Value> {
        if let Some((_, k)) = self.loops.iter().rev().find(|(l, _)| l == n) {
            return Ok(Value::Scalar(Expr::int(*k)));
        }
        if ctx == Ctx::Coords
            && let Some(d) = self.coord_scope.get(n).cloned()
        {
            return Ok(self.var_value(n, &d));
        }
        if self.poisoned.contains(n) {
            return Err(());
        }
        if let Some(v) = self.lets.get(n).cloned() {
            return self.let_use(n, v, span, ctx);
        }
        if let Some(v) = self.builtin_constant(n, span) {
            return v;
        }
        let Some(d) = self.decls.get(n).cloned() else {
            self.error(self.unknown_name(
                n,
                span,
                "declare it with param, data, covariate, const or let",
            ));
            return Err(());
        };
        self.check_allowed(n, &d, span, ctx)?;
        Ok(self.var_value(n, &d))
    }

    /// A use of a `let` binding: inlined (and counted), refused where a
    /// constant or a new coordinate is needed.
    fn let_use(&mut self, n: &str, v: Value, span: Span, ctx: Ctx) -> Res<Value> {
        if matches!(ctx, Ctx::Constant | Ctx::Coords) {
            self.error(
                Diagnostic::error(
                    "E0110",
                    format!("`{n}` is a let binding and cannot be used here"),
                    span,
                    "not a constant",
                )
                .with_help(if ctx == Ctx::Coords {
                    "the right side of a coordinate map may use only the block's new parameters and constants".to_string()
                } else {
                    match v {
                        Value::Scalar(Expr::Num(r)) => {
                            format!("a let is not a constant: declare `const {n} = {r}` instead")
                        }
                        _ => format!("a let is not a constant: for a fixed number use `const {n} = ...`"),
                    }
                }),
            );
            return Err(());
        }
        self.spend_inlined(&v, n, span)?;
        Ok(v)
    }

    /// `pi`, `e`, `eulergamma`; `inf` is an error outside an interval.
    fn builtin_constant(&mut self, n: &str, span: Span) -> Option<Res<Value>> {
        match n {
            "pi" => Some(Ok(Value::Scalar(Expr::Const(Constant::Pi)))),
            "e" => Some(Ok(Value::Scalar(Expr::Const(Constant::E)))),
            "eulergamma" => Some(Ok(Value::Scalar(Expr::Const(Constant::EulerGamma)))),
            "inf" => {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "`inf` is only allowed as an interval end",
                        span,
                        "infinity here",
                    )
                    .with_help("write (lo, inf) or (-inf, hi) in a domain or support"),
                );
                Some(Err(()))
            }
            _ => None,
        }
    }

    /// A declared name may be used in this context: constants anywhere,
    /// data and parameters in support bounds, anything in the log-density,
    /// nothing of the model's in a coordinate map.
    fn check_allowed(&mut self, n: &str, d: &Decl, span: Span, ctx: Ctx) -> Res<()> {
        let allowed = match (ctx, d.kind) {
            (_, Kind::Const) => true,
            (Ctx::Constant, _) => false,
            (Ctx::SupportBound, Kind::Data | Kind::Param) => true,
            (Ctx::SupportBound, _) => false,
            (Ctx::General, _) => true,
            (Ctx::Coords, _) => false,
        };
        if !allowed {
            let (code, what) = match (ctx, d.kind) {
                (Ctx::Coords, Kind::Data | Kind::Covariate) => (
                    "E0110",
                    format!("the {} `{n}` is used in a coordinate map", d.kind.noun()),
                ),
                (Ctx::Coords, _) => (
                    "E0110",
                    format!(
                        "`{n}` is a model {}, not one of the new coordinates",
                        d.kind.noun()
                    ),
                ),
                (Ctx::Constant, Kind::Data | Kind::Covariate) => (
                    "E0110",
                    format!(
                        "the {} `{n}` is used where a constant is needed",
                        d.kind.noun()
                    ),
                ),
                _ => (
                    "E0110",
                    format!(
                        "the {} `{n}` is used where a constant is needed",
                        d.kind.noun()
                    ),
                ),
            };
            let help = match ctx {
                Ctx::Coords => {
                    "the right side of a coordinate map may use only the block's new parameters and constants"
                }
                _ => {
                    "only numbers, `const` names and loop variables are allowed here (sizes, indices, bounds of a parameter's domain)"
                }
            };
            self.error(
                Diagnostic::error(code, what, span, "not allowed here")
                    .with_label(d.span, format!("declared as a {} here", d.kind.noun()))
                    .with_help(help),
            );
            return Err(());
        }
        Ok(())
    }

    pub(super) fn var_value(&self, n: &str, d: &Decl) -> Value {
        match d.range {
            None => Value::Scalar(Expr::var(n)),
            Some((lo, hi)) => {
                Value::Vector((lo..=hi).map(|i| Expr::var(&format!("{n}[{i}]"))).collect())
            }
        }
    }

    pub(super) fn index_value(
        &mut self,
        ix: &AstExpr,
        name: &str,
        (lo, hi): (i64, i64),
    ) -> Res<i64> {
        let i = self.const_int(ix, "an index")?;
        if i < lo || i > hi {
            self.error(
                Diagnostic::error(
                    "E0108",
                    format!("index {i} is out of range for `{name}`"),
                    ix.span,
                    format!("`{name}` is indexed {lo}..{hi}"),
                )
                .with_help(format!("use an index between {lo} and {hi}")),
            );
            return Err(());
        }
        Ok(i)
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
