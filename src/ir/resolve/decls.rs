//! Declarations and statements: `param`, `data`, `covariate`, `const`,
//! `let`, `for`, `logp +=`; domains, supports and constant integers.

use super::*;

impl Resolver {
    /// Evaluate an index range `lo..hi` to integers.
    pub(super) fn int_range(&mut self, r: &ast::Range) -> Res<(i64, i64)> {
        let lo = self.const_int(&r.lo, "a range bound")?;
        let hi = self.const_int(&r.hi, "a range bound")?;
        if hi < lo {
            self.error(
                Diagnostic::error(
                    "E0108",
                    format!("empty range {lo}..{hi}"),
                    r.span,
                    "the upper end is below the lower end",
                )
                .with_help("ranges are inclusive: write lo..hi with hi >= lo"),
            );
            return Err(());
        }
        Ok((lo, hi))
    }

    pub(super) fn const_int(&mut self, e: &AstExpr, what: &str) -> Res<i64> {
        let v = self.scalar(e, Ctx::Constant)?;
        let v = self.fold_consts(&v);
        match v.as_num() {
            Some(r) if r.is_integer() => match r.to_integer().to_i64() {
                Some(i) if i.abs() <= 1_000_000_000 => Ok(i),
                _ => {
                    self.error(
                        Diagnostic::error(
                            "E0108",
                            format!("{what} is out of range"),
                            e.span,
                            format!("value {r}"),
                        )
                        .with_help("use integers of at most 10^9"),
                    );
                    Err(())
                }
            },
            Some(r) => {
                self.error(
                    Diagnostic::error(
                        "E0107",
                        format!("{what} must be an integer"),
                        e.span,
                        format!("this is {r}"),
                    )
                    .with_help("use an integer constant"),
                );
                Err(())
            }
            None => {
                self.error(
                    Diagnostic::error(
                        "E0107",
                        format!("{what} must be a constant integer"),
                        e.span,
                        "not a constant",
                    )
                    .with_help("use numbers, `const` names and loop variables only"),
                );
                Err(())
            }
        }
    }

    /// The exact value of an expression made of numbers and `const` names
    /// only; `None` as soon as anything else occurs (without rebuilding a
    /// large expression just to find out).
    pub(super) fn constant_value(&self, e: &Expr) -> Option<Rational> {
        fn only_consts(r: &Resolver, e: &Expr) -> bool {
            match e {
                Expr::Num(_) => true,
                Expr::Const(_) => false,
                Expr::Var(v) => r.consts.contains_key(&**v),
                Expr::Add(xs) | Expr::Mul(xs) | Expr::Call(_, xs) => {
                    xs.iter().all(|x| only_consts(r, x))
                }
                Expr::Pow(b, x) => only_consts(r, b) && only_consts(r, x),
            }
        }
        match e {
            Expr::Num(r) => Some(r.clone()),
            _ if only_consts(self, e) => self.fold_consts(e).as_num().cloned(),
            _ => None,
        }
    }

    /// The exact value of a numeric expression that the smart
    /// constructors left as a power (`2^8192`: they fold integer powers up
    /// to 4096 only), within the constant size limit.
    pub(super) fn exact_value(&self, e: &Expr) -> Option<Rational> {
        match e {
            Expr::Num(r) => Some(r.clone()),
            Expr::Add(xs) => xs
                .iter()
                .try_fold(Rational::zero(), |acc, x| Some(acc + self.exact_value(x)?)),
            Expr::Mul(xs) => xs
                .iter()
                .try_fold(Rational::one(), |acc, x| Some(acc * self.exact_value(x)?)),
            Expr::Pow(b, x) => {
                let (b, x) = (self.exact_value(b)?, self.exact_value(x)?);
                let n = x.is_integer().then(|| x.to_integer().to_i32()).flatten()?;
                let bits = power_bits(&b, &x);
                if (b.is_zero() && n < 0) || bits > self.config.max_constant_bits {
                    return None;
                }
                Some(num_traits::pow::Pow::pow(&b, n))
            }
            _ => None,
        }
    }

    pub(super) fn fold_consts(&self, e: &Expr) -> Expr {
        e.substitute(&|v| self.consts.get(v).map(|r| Expr::Num(r.clone())))
    }

    pub(super) fn decl_names(&mut self, d: &ast::DeclName, kind: Kind) -> Res<Vec<Name>> {
        let range = match &d.range {
            Some(r) => Some(self.int_range(r)?),
            None => None,
        };
        self.declare(&d.ident, kind, range)?;
        match range {
            None => {
                self.spend(1, d.ident.span)?;
                Ok(vec![Name::from(d.ident.name.as_str())])
            }
            Some((lo, hi)) => {
                self.spend((hi - lo + 1) as usize, d.ident.span)?;
                Ok((lo..=hi)
                    .map(|i| Name::from(format!("{}[{}]", d.ident.name, i).as_str()))
                    .collect())
            }
        }
    }

    pub(super) fn domain(&mut self, d: &ast::Domain, ctx: Ctx) -> Res<Domain> {
        Ok(match d {
            ast::Domain::Real(_) => Domain::real(),
            ast::Domain::Positive(_) => Domain::positive(),
            ast::Domain::Negative(_) => Domain::negative(),
            ast::Domain::Unit(_) => Domain::unit(),
            ast::Domain::Interval(lo, hi, span) => {
                let l = self.bound(lo, ctx, false)?;
                let h = self.bound(hi, ctx, true)?;
                self.check_interval(&l, &h, *span)?;
                // The label shows the bounds as written: `(-pi, pi)`, `(c, inf)`.
                Domain {
                    label: format!("({lo}, {hi})"),
                    lo: l,
                    hi: h,
                }
            }
        })
    }

    pub(super) fn check_interval(
        &mut self,
        lo: &Option<Expr>,
        hi: &Option<Expr>,
        span: Span,
    ) -> Res<()> {
        if let (Some(l), Some(h)) = (lo, hi) {
            let (l, h) = (self.fold_consts(l), self.fold_consts(h));
            if let (Some(a), Some(b)) = (numeric_value(&l), numeric_value(&h))
                && a >= b
            {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "empty interval",
                        span,
                        format!("the lower end {l} is not below the upper end {h}"),
                    )
                    .with_help("write (lo, hi) with lo < hi"),
                );
                return Err(());
            }
        }
        Ok(())
    }

    /// An interval end: `inf` / `-inf` give `None`.
    pub(super) fn bound(&mut self, e: &AstExpr, ctx: Ctx, upper: bool) -> Res<Option<Expr>> {
        let is_inf = |e: &AstExpr| matches!(&e.kind, ExprKind::Name(n) if n == "inf");
        if is_inf(e) {
            if !upper {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "the lower end cannot be +inf",
                        e.span,
                        "+inf as the lower end",
                    )
                    .with_help("write -inf for an unbounded lower end"),
                );
                return Err(());
            }
            return Ok(None);
        }
        if let ExprKind::Neg(inner) = &e.kind
            && is_inf(inner)
        {
            if upper {
                self.error(
                    Diagnostic::error(
                        "E0108",
                        "the upper end cannot be -inf",
                        e.span,
                        "-inf as the upper end",
                    )
                    .with_help("write inf for an unbounded upper end"),
                );
                return Err(());
            }
            return Ok(None);
        }
        Ok(Some(self.scalar(e, ctx)?))
    }

    pub(super) fn support(
        &mut self,
        s: &ast::Support,
        group: Option<(&str, usize)>,
    ) -> Res<Support> {
        Ok(match s {
            ast::Support::Real(_) => Support::Continuous { lo: None, hi: None },
            ast::Support::Positive(_) => Support::Continuous {
                lo: Some(Expr::zero()),
                hi: None,
            },
            ast::Support::Unit(_) => Support::Continuous {
                lo: Some(Expr::zero()),
                hi: Some(Expr::one()),
            },
            ast::Support::Count(_) => Support::Integers {
                lo: Expr::zero(),
                hi: None,
            },
            ast::Support::Simplex(span) => match group {
                Some((g, dim)) => Support::Simplex {
                    group: Name::from(g),
                    dim,
                },
                None => {
                    self.error(
                        Diagnostic::error(
                            "E0120",
                            "`simplex` needs an indexed data declaration",
                            *span,
                            "used on a scalar",
                        )
                        .with_help("declare the whole vector: `data x[1..K] : simplex`"),
                    );
                    return Err(());
                }
            },
            ast::Support::Interval(lo, hi, span) => {
                let l = self.bound(lo, Ctx::SupportBound, false)?;
                let h = self.bound(hi, Ctx::SupportBound, true)?;
                self.check_interval(&l, &h, *span)?;
                Support::Continuous { lo: l, hi: h }
            }
            ast::Support::Set(items, span) => {
                let mut vals = Vec::new();
                for it in items {
                    vals.push(Rational::from_integer(
                        self.const_int(it, "a set element")?.into(),
                    ));
                }
                vals.sort();
                vals.dedup();
                if vals.len() < 2 {
                    self.error(
                        Diagnostic::error("E0108", "a finite support needs at least two values", *span, "only one value")
                            .with_help("a variable with one possible value carries no information; make it a const"),
                    );
                    return Err(());
                }
                Support::Set(vals)
            }
            ast::Support::IntRange(lo, hi, _) => {
                let l = self.scalar(lo, Ctx::SupportBound)?;
                let h = match hi {
                    Some(h) => Some(self.scalar(h, Ctx::SupportBound)?),
                    None => None,
                };
                if let (Some(a), Some(Some(b))) = (
                    numeric_value(&self.fold_consts(&l)),
                    h.as_ref().map(|h| numeric_value(&self.fold_consts(h))),
                ) && b <= a
                {
                    self.error(
                        Diagnostic::error(
                            "E0108",
                            "integer range has fewer than two values",
                            s.span(),
                            format!("{a}..{b}"),
                        )
                        .with_help("write lo..hi with hi > lo, or lo.. for no upper end"),
                    );
                    return Err(());
                }
                Support::Integers { lo: l, hi: h }
            }
        })
    }

    // ------------------------------------------------------------- statements

    pub(super) fn statement(&mut self, stmt: &Stmt) {
        let declared = match stmt {
            Stmt::Const { name, .. } | Stmt::Let { name, .. } => Some(name),
            Stmt::Param { name, .. } | Stmt::Data { name, .. } | Stmt::Covariate { name, .. } => {
                Some(&name.ident)
            }
            _ => None,
        };
        let existed = declared.is_some_and(|n| self.decls.contains_key(&n.name));
        let result = self.statement_inner(stmt);
        if let Some(n) = declared
            && result.is_err()
            && !existed
        {
            self.poisoned.insert(n.name.clone());
        }
    }

    pub(super) fn statement_inner(&mut self, stmt: &Stmt) -> Res<()> {
        match stmt {
            Stmt::Const { name, value, .. } => self.const_stmt(name, value),
            Stmt::Param { name, domain, span } => self.param_stmt(name, domain, *span),
            Stmt::Covariate { name, domain, span } => self.covariate_stmt(name, domain, *span),
            Stmt::Data {
                name,
                support,
                span,
            } => self.data_stmt(name, support, *span),
            Stmt::Let { name, value, .. } => self.let_stmt(name, value),
            Stmt::Logp { value, span } => {
                let v = self.scalar(value, Ctx::General)?;
                self.terms.push(Term {
                    source: TermSource::Raw,
                    logp: v,
                    span: *span,
                });
                Ok(())
            }
            Stmt::Sample {
                target,
                family,
                args,
                span,
            } => self.sample(target, family, args, *span),
            Stmt::For {
                var, range, body, ..
            } => self.for_stmt(var, range, body),
            Stmt::Coords {
                name,
                params,
                maps,
                span,
            } => self.coords_block(name, params, maps, *span),
        }
    }

    /// `const name = value`: an exact rational.
    fn const_stmt(&mut self, name: &ast::Ident, value: &AstExpr) -> Res<()> {
        let v = self.scalar(value, Ctx::Constant);
        let folded = v.map(|v| self.fold_consts(&v));
        let exact = folded.as_ref().ok().and_then(|e| self.exact_value(e));
        let r = match (folded, exact) {
            (Ok(Expr::Num(r)), _) | (Ok(_), Some(r)) => r,
            (Ok(other), None) => {
                self.error(
                        Diagnostic::error("E0114", format!("constant `{}` is not a number", name.name), value.span, format!("evaluates to `{other}`"))
                            .with_help("a const must be a rational number, such as 10, 0.5 or 1/3 (functions like sqrt are not allowed here)"),
                    );
                self.declare(name, Kind::Const, None)?;
                return Err(());
            }
            (Err(()), _) => {
                self.declare(name, Kind::Const, None)?;
                return Err(());
            }
        };
        self.declare(name, Kind::Const, None)?;
        self.consts.insert(name.name.clone(), r.clone());
        self.model_consts.push(ConstDecl {
            name: Name::from(name.name.as_str()),
            value: r,
            span: name.span,
        });
        Ok(())
    }

    /// `param name : domain`.
    fn param_stmt(&mut self, name: &ast::DeclName, domain: &ast::Domain, span: Span) -> Res<()> {
        let dom = self.domain(domain, Ctx::Constant);
        let names = self.decl_names(name, Kind::Param)?;
        let dom = dom?;
        for n in names {
            self.params.push(Param {
                name: n,
                domain: dom.clone(),
                span,
            });
        }
        Ok(())
    }

    /// `covariate name : domain`.
    fn covariate_stmt(
        &mut self,
        name: &ast::DeclName,
        domain: &ast::Domain,
        span: Span,
    ) -> Res<()> {
        let dom = self.domain(domain, Ctx::Constant);
        let names = self.decl_names(name, Kind::Covariate)?;
        let dom = dom?;
        for n in names {
            self.covariates.push(Covariate {
                name: n,
                domain: dom.clone(),
                span,
            });
        }
        Ok(())
    }

    /// `data name : support`; a support that moves with a parameter is a
    /// warning (no FIM is reported for such a model).
    fn data_stmt(&mut self, name: &ast::DeclName, support: &ast::Support, span: Span) -> Res<()> {
        let range = match &name.range {
            Some(r) => Some(self.int_range(r)?),
            None => None,
        };
        let group = range.map(|(lo, hi)| (name.ident.name.as_str(), (hi - lo + 1) as usize));
        let sup = self.support(support, group);
        let names = self.decl_names(name, Kind::Data)?;
        let sup = sup?;
        let params_in_bounds: Vec<Name> = sup
            .bound_vars()
            .into_iter()
            .filter(|v| self.decl_kind(v) == Some(Kind::Param))
            .collect();
        if let Some(p) = params_in_bounds.first() {
            self.error(
                    Diagnostic::warning(
                        "W0205",
                        format!("the support of `{}` depends on the parameter `{p}`", name.ident.name),
                        support.span(),
                        "support moves with a parameter",
                    )
                    .with_help("the regularity conditions behind the Fisher information fail (the Bartlett identities do not hold); fimkit will not report a FIM for this model"),
                );
        }
        for n in names {
            self.data.push(DataVar {
                name: n,
                support: sup.clone(),
                span,
            });
        }
        Ok(())
    }

    /// `let name = value`: bound for inlining, its depth bounded.
    fn let_stmt(&mut self, name: &ast::Ident, value: &AstExpr) -> Res<()> {
        let v = self.value(value, Ctx::General);
        self.declare(name, Kind::Let, None)?;
        let v = v?;
        let depth = match &v {
            Value::Scalar(e) => expr_depth(e),
            Value::Vector(xs) => xs.iter().map(expr_depth).max().unwrap_or(0),
        };
        if depth > MAX_EXPR_DEPTH {
            self.error(
                    Diagnostic::error(
                        "E0125",
                        format!("`{}` is nested too deeply once earlier let bindings are inlined", name.name),
                        value.span,
                        format!("{depth} levels deep"),
                    )
                    .with_help(format!("formulas may nest at most {MAX_EXPR_DEPTH} levels after inlining; a long chain of lets that each wrap the previous one in a function exceeds this")),
                );
            return Err(());
        }
        if let (Value::Scalar(e), true) = (&v, self.loops.is_empty()) {
            self.model_lets.push(LetDecl {
                name: Name::from(name.name.as_str()),
                value: e.clone(),
                span: name.span,
            });
        }
        self.lets.insert(name.name.clone(), v);
        Ok(())
    }

    /// `for var in lo..hi { body }`: unrolled.
    /// `for var in lo..hi { body }`: unrolled.
    fn for_stmt(&mut self, var: &ast::Ident, range: &ast::Range, body: &[Stmt]) -> Res<()> {
        let (lo, hi) = self.int_range(range)?;
        self.check_loop_var(var)?;
        self.check_loop_body(var, range, body)?;
        self.unroll(var, (lo, hi), body)
    }

    /// A loop variable must not shadow a declared name or an outer loop's.
    fn check_loop_var(&mut self, var: &ast::Ident) -> Res<()> {
        let shadows =
            self.decls.contains_key(&var.name) || self.loops.iter().any(|(n, _)| *n == var.name);
        if !shadows {
            return Ok(());
        }
        let fresh = self.fresh_index_name();
        let mut d = Diagnostic::error(
            "E0102",
            format!("loop variable `{}` shadows a name", var.name),
            var.span,
            "already in use",
        )
        .with_help(format!(
            "pick a fresh name for the loop variable, such as `{fresh}`"
        ));
        if let Some(prev) = self.decls.get(&var.name) {
            d = d.with_label(
                prev.span,
                format!("declared as a {} here", prev.kind.noun()),
            );
        }
        self.error(d);
        Err(())
    }

    /// Nothing is declared inside a loop (it would be declared once per
    /// iteration); each such declaration is reported and poisoned.
    fn check_loop_body(&mut self, var: &ast::Ident, range: &ast::Range, body: &[Stmt]) -> Res<()> {
        let mut ok = true;
        for s in body {
            let declared = match s {
                Stmt::Const { name, .. } => Some(("const", name)),
                Stmt::Param { name, .. } => Some(("param", &name.ident)),
                Stmt::Data { name, .. } => Some(("data", &name.ident)),
                Stmt::Covariate { name, .. } => Some(("covariate", &name.ident)),
                Stmt::Coords { name, .. } => Some(("coords", name)),
                _ => None,
            };
            if let Some((kw, n)) = declared {
                ok = false;
                self.error(
                        Diagnostic::error(
                            "E0117",
                            format!("`{kw} {}` is inside a `for` loop", n.name),
                            n.span,
                            "would be declared once per iteration",
                        )
                        .with_help(match kw {
                            "param" | "data" | "covariate" => format!(
                                "declare the whole vector before the loop, `{kw} {}[{}..{}] : ...`, and use `{}[{}]` inside",
                                n.name, range.lo, range.hi, n.name, var.name
                            ),
                            _ => format!("move the `{kw}` above the loop"),
                        }),
                    );
                if !self.decls.contains_key(&n.name) {
                    self.poisoned.insert(n.name.clone());
                }
            }
        }
        if !ok {
            return Err(());
        }
        Ok(())
    }

    /// Run the body once per index value; a `let` in the body is local to
    /// one iteration, and a body's errors are reported once.
    fn unroll(&mut self, var: &ast::Ident, (lo, hi): (i64, i64), body: &[Stmt]) -> Res<()> {
        // A `let` in the body is local to one iteration.
        let local_lets: Vec<&str> = body
            .iter()
            .filter_map(|s| match s {
                Stmt::Let { name, .. } => Some(name.name.as_str()),
                _ => None,
            })
            .collect();
        for k in lo..=hi {
            self.spend(body.len().max(1), var.span)?;
            self.loops.push((var.name.clone(), k));
            let before = self.diagnostics.len();
            for s in body {
                self.statement(s);
            }
            self.loops.pop();
            for n in &local_lets {
                if self.decls.get(*n).is_some_and(|d| d.kind == Kind::Let) {
                    self.decls.remove(*n);
                }
                self.lets.remove(*n);
            }
            if self.diagnostics[before..].iter().any(Diagnostic::is_error) {
                // Report a body's errors once, not once per iteration.
                break;
            }
        }
        Ok(())
    }
}
