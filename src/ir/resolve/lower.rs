//! Lowering of expressions to the IR: operators, chains, calls of the
//! language's functions, `sum` and `prod` unrolled.

use super::*;

impl Resolver {
    pub(super) fn scalar(&mut self, e: &AstExpr, ctx: Ctx) -> Res<Expr> {
        match self.value(e, ctx)? {
            Value::Scalar(x) => Ok(x),
            Value::Vector(_) => {
                self.error(
                    Diagnostic::error(
                        "E0116",
                        "a vector is used where a number is expected",
                        e.span,
                        "this is a vector",
                    )
                    .with_help("index it (`a[k]`) or reduce it (`sum(k in 1..K, a[k])`)"),
                );
                Err(())
            }
        }
    }

    pub(super) fn value(&mut self, e: &AstExpr, ctx: Ctx) -> Res<Value> {
        match &e.kind {
            ExprKind::Number(r) => {
                self.check_constant_bits(rational_bits(r), e.span)?;
                Ok(Value::Scalar(Expr::Num(r.clone())))
            }
            ExprKind::Name(n) => self.name(n, e.span, ctx),
            ExprKind::Index(id, ix) => self.indexed(id, ix, ctx),
            ExprKind::Neg(a) => Ok(Value::Scalar(Expr::neg(self.scalar(a, ctx)?))),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, ctx, e.span),
            ExprKind::Chain(first, rest) => self.chain(first, rest, ctx, e.span),
            ExprKind::Vector(items) => self.vector(items, ctx, e.span),
            ExprKind::Reduce(op, var, range, body) => {
                self.reduce(*op, var, range, body, ctx, e.span)
            }
            ExprKind::Call(f, args) => self.call(f, args, ctx, e.span),
        }
    }

    /// `a[i]`: an element of a declared vector or of a `let` vector.
    fn indexed(&mut self, id: &ast::Ident, ix: &AstExpr, ctx: Ctx) -> Res<Value> {
        if self.poisoned.contains(&id.name) && !self.coord_scope.contains_key(&id.name) {
            return Err(());
        }
        let decl = if ctx == Ctx::Coords {
            self.coord_scope.get(&id.name).cloned()
        } else {
            None
        }
        .or_else(|| self.decls.get(&id.name).cloned());
        let let_vec = self.lets.get(&id.name).cloned();
        if let (None, Some(Value::Vector(xs))) = (&decl, &let_vec) {
            let i = self.index_value(ix, &id.name, (1, xs.len() as i64))?;
            return Ok(Value::Scalar(xs[(i - 1) as usize].clone()));
        }
        let Some(d) = decl else {
            self.error(self.unknown_name(
                &id.name,
                id.span,
                "declare it with an index range, e.g. `param a[1..K] : real`",
            ));
            return Err(());
        };
        let Some(range) = d.range else {
            self.error(
                Diagnostic::error(
                    "E0107",
                    format!("`{}` is not indexed", id.name),
                    ix.span,
                    "index on a scalar",
                )
                .with_label(d.span, "declared without an index range")
                .with_help(format!(
                    "declare it as `{}[1..K]` or drop the index",
                    id.name
                )),
            );
            return Err(());
        };
        let i = self.index_value(ix, &id.name, range)?;
        // Re-check the kind is allowed in this context via the base name.
        self.name(&id.name, id.span, ctx)?;
        Ok(Value::Scalar(Expr::var(&format!("{}[{i}]", id.name))))
    }

    /// `a op b`, with the size of folded constants bounded and division by a
    /// zero constant refused.
    fn binary(&mut self, op: BinOp, a: &AstExpr, b: &AstExpr, ctx: Ctx, span: Span) -> Res<Value> {
        let x = self.scalar(a, ctx);
        let y = self.scalar(b, ctx);
        let (x, y) = (x?, y?);
        let folded = (self.constant_value(&x), self.constant_value(&y));
        if let (Some(bx), Some(ey)) = &folded {
            let bits = match op {
                BinOp::Pow => power_bits(bx, ey),
                _ => rational_bits(bx).saturating_add(rational_bits(ey)),
            };
            self.check_constant_bits(bits, span)?;
        }
        Ok(Value::Scalar(match op {
            BinOp::Add => Expr::add2(x, y),
            BinOp::Sub => Expr::sub(x, y),
            BinOp::Mul => Expr::mul2(x, y),
            BinOp::Div => {
                if folded.1.as_ref().is_some_and(|r| r.is_zero()) {
                    self.error(
                            Diagnostic::error(
                                "E0124",
                                "division by zero",
                                b.span,
                                "this is zero",
                            )
                            .with_help("the denominator is zero once constants are substituted; check the constants it uses"),
                        );
                    return Err(());
                }
                Expr::div(x, y)
            }
            BinOp::Pow => Expr::pow(x, y),
        }))
    }

    /// `[a, b, ...]`: every item lowered, each error reported.
    fn vector(&mut self, items: &[AstExpr], ctx: Ctx, span: Span) -> Res<Value> {
        let mut out = Vec::new();
        let mut ok = true;
        for it in items {
            match self.scalar(it, ctx) {
                Ok(x) => out.push(x),
                Err(()) => ok = false,
            }
        }
        if !ok {
            return Err(());
        }
        // Families such as dirichlet add the components up.
        self.check_coefficient_growth(out.iter().map(|t| (t, span)), false)?;
        Ok(Value::Vector(out))
    }

    /// `sum`/`prod` over an index range, unrolled.
    fn reduce(
        &mut self,
        op: Reduce,
        var: &ast::Ident,
        range: &ast::Range,
        body: &AstExpr,
        ctx: Ctx,
        span: Span,
    ) -> Res<Value> {
        let (lo, hi) = self.int_range(range)?;
        if self.decls.contains_key(&var.name) || self.lets.contains_key(&var.name) {
            let fresh = self.fresh_index_name();
            let mut d = Diagnostic::error(
                "E0102",
                format!("index `{}` shadows a declared name", var.name),
                var.span,
                "already declared",
            )
            .with_help(format!("use a fresh index name, such as `{fresh}`"));
            if let Some(prev) = self.decls.get(&var.name) {
                d = d.with_label(
                    prev.span,
                    format!("declared as a {} here", prev.kind.noun()),
                );
            }
            self.error(d);
            return Err(());
        }
        self.spend((hi - lo + 1) as usize, var.span)?;
        let mut terms = Vec::new();
        for k in lo..=hi {
            self.loops.push((var.name.clone(), k));
            let t = self.scalar(body, ctx);
            self.loops.pop();
            terms.push(t?);
        }
        let product = op == Reduce::Prod;
        self.check_coefficient_growth(terms.iter().map(|t| (t, span)), product)?;
        Ok(Value::Scalar(if product {
            Expr::mul(terms)
        } else {
            Expr::add(terms)
        }))
    }

    /// `a + b - c ...` or `a * b / c ...`, flat: one canonical sum or
    /// product of all the terms (no quadratic rebuilding for a sum of
    /// thousands of terms), with the same checks as one binary operation
    /// at a time: the size of exact constants folded left to right, and
    /// division by zero.
    pub(super) fn chain(
        &mut self,
        first: &AstExpr,
        rest: &[(BinOp, AstExpr)],
        ctx: Ctx,
        span: Span,
    ) -> Res<Value> {
        let sum = rest
            .first()
            .is_none_or(|(op, _)| matches!(op, BinOp::Add | BinOp::Sub));
        let mut ok = true;
        let mut items = Vec::with_capacity(rest.len() + 1);
        let head = self.scalar(first, ctx);
        // The exact value of the chain so far, while it is a constant.
        let mut folded = match &head {
            Ok(x) => self.constant_value(x),
            Err(()) => None,
        };
        match head {
            Ok(x) => items.push(x),
            Err(()) => ok = false,
        }
        for (op, b) in rest {
            let Ok(y) = self.scalar(b, ctx) else {
                ok = false;
                folded = None;
                continue;
            };
            let ey = self.constant_value(&y);
            if *op == BinOp::Div && ey.as_ref().is_some_and(|r| r.is_zero()) {
                self.error(
                    Diagnostic::error("E0124", "division by zero", b.span, "this is zero")
                        .with_help("the denominator is zero once constants are substituted; check the constants it uses"),
                );
                ok = false;
                folded = None;
                continue;
            }
            folded = match (folded, ey) {
                (Some(bx), Some(ey)) if ok => {
                    let bits = rational_bits(&bx).saturating_add(rational_bits(&ey));
                    if self.check_constant_bits(bits, span).is_err() {
                        return Err(());
                    }
                    Some(match op {
                        BinOp::Add => bx + ey,
                        BinOp::Sub => bx - ey,
                        BinOp::Mul => bx * ey,
                        _ => bx / ey,
                    })
                }
                _ => None,
            };
            items.push(match op {
                BinOp::Sub => Expr::neg(y),
                BinOp::Div => Expr::recip(y),
                _ => y,
            });
        }
        if !ok {
            return Err(());
        }
        self.check_coefficient_growth(items.iter().map(|t| (t, span)), !sum)?;
        Ok(Value::Scalar(if sum {
            Expr::add(items)
        } else {
            Expr::mul(items)
        }))
    }

    pub(super) fn call(
        &mut self,
        f: &ast::Ident,
        args: &[AstExpr],
        ctx: Ctx,
        span: Span,
    ) -> Res<Value> {
        let Some(&(_, arity, signature)) = FUNCTIONS.iter().find(|(n, _, _)| *n == f.name) else {
            self.error(self.unknown_function(f));
            return Err(());
        };
        self.check_arity(f, args.len(), arity, signature, span)?;
        let xs = self.call_args(args, ctx)?;
        Ok(Value::Scalar(self.builtin(f, args, xs)?))
    }

    /// An unknown function, with help: a family's name, another
    /// language's name, `pow`, a near miss, or the list.
    fn unknown_function(&self, f: &ast::Ident) -> Diagnostic {
        let is_family = families::lookup(&f.name).is_some();
        let alias = FUNCTION_ALIASES
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(&f.name));
        let d = Diagnostic::error(
            "E0105",
            format!("unknown function `{}`", f.name),
            f.span,
            "not a function of the language",
        );
        if is_family {
            let also = match f.name.as_str() {
                "gamma" => "; for the gamma function use lgamma(x)",
                "beta" => "; for the beta function use lbeta(a, b)",
                _ => "",
            };
            d.with_help(format!(
                "`{}` is a distribution: write `x ~ {}(...)` as a statement{also}",
                f.name, f.name
            ))
        } else if let Some((_, real)) = alias {
            d.with_help(format!("the language calls this function `{real}`"))
        } else if f.name == "pow" {
            d.with_help("powers are written with `^`: pow(a, b) is a^b")
        } else if let Some(s) = did_you_mean(&f.name, FUNCTIONS.iter().map(|(n, _, _)| *n)) {
            d.with_help(format!("did you mean `{s}`?"))
        } else {
            d.with_help(format!(
                "available functions: {}",
                FUNCTIONS
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }

    /// The number of arguments is the function's arity.
    fn check_arity(
        &mut self,
        f: &ast::Ident,
        given: usize,
        arity: usize,
        signature: &str,
        span: Span,
    ) -> Res<()> {
        if given == arity {
            return Ok(());
        }
        self.error(
            Diagnostic::error(
                "E0103",
                format!(
                    "`{}` takes {arity} argument{}, but {} {} given",
                    f.name,
                    plural(arity),
                    given,
                    if given == 1 { "was" } else { "were" }
                ),
                span,
                "wrong number of arguments",
            )
            .with_help(match f.name.as_str() {
                "log" => {
                    "log is the natural logarithm of one argument; for base b write log(x)/log(b)"
                        .to_string()
                }
                _ => format!("write {signature}"),
            }),
        );
        Err(())
    }

    /// The arguments lowered, each error reported.
    fn call_args(&mut self, args: &[AstExpr], ctx: Ctx) -> Res<Vec<Expr>> {
        let mut xs = Vec::new();
        let mut ok = true;
        for a in args {
            match self.scalar(a, ctx) {
                Ok(x) => xs.push(x),
                Err(()) => ok = false,
            }
        }
        if !ok {
            return Err(());
        }
        Ok(xs)
    }

    /// Argument `i` (an order) must be a constant, with `nonneg_int` an
    /// integer in 0..100.
    fn check_order(
        &mut self,
        f: &ast::Ident,
        args: &[AstExpr],
        xs: &[Expr],
        (i, what, nonneg_int): (usize, &str, bool),
    ) -> Res<()> {
        let folded = self.fold_consts(&xs[i]);
        let fine = folded.as_num().is_some_and(|r| {
            !nonneg_int
                || (r.is_integer() && !r.is_negative() && *r <= Rational::from_integer(100.into()))
        });
        if !fine {
            self.error(
                Diagnostic::error(
                    "E0119",
                    format!(
                        "the {what} of `{}` must be a constant{}",
                        f.name,
                        if nonneg_int { " integer in 0..100" } else { "" }
                    ),
                    args[i].span,
                    "not a constant",
                )
                .with_help(format!("write {}(n, x) with n a number or const", f.name)),
            );
            return Err(());
        }
        Ok(())
    }

    /// A language function applied to its lowered arguments.
    fn builtin(&mut self, f: &ast::Ident, args: &[AstExpr], xs: Vec<Expr>) -> Res<Expr> {
        let one = |x: &Expr| x.clone();
        let c = |func: Func, xs: Vec<Expr>| Expr::call(func, xs);
        Ok(match f.name.as_str() {
            "log" => Expr::log(one(&xs[0])),
            "exp" => Expr::exp(one(&xs[0])),
            "sqrt" => Expr::sqrt(one(&xs[0])),
            "log1p" => c(Func::Log1p, xs),
            "expm1" => c(Func::Expm1, xs),
            "sigmoid" => c(Func::Sigmoid, xs),
            "logit" => Expr::sub(
                Expr::log(xs[0].clone()),
                Expr::log(Expr::sub(Expr::one(), xs[0].clone())),
            ),
            "lgamma" => Expr::lgamma(one(&xs[0])),
            "digamma" => Expr::polygamma(0, one(&xs[0])),
            "trigamma" => Expr::polygamma(1, one(&xs[0])),
            "polygamma" => {
                self.check_order(f, args, &xs, (0, "order", true))?;
                c(Func::Polygamma, xs)
            }
            "lbeta" => c(Func::Lbeta, xs),
            "lchoose" => {
                let (n, k) = (xs[0].clone(), xs[1].clone());
                Expr::add(vec![
                    Expr::lgamma(Expr::add2(n.clone(), Expr::one())),
                    Expr::neg(Expr::lgamma(Expr::add2(k.clone(), Expr::one()))),
                    Expr::neg(Expr::lgamma(Expr::add(vec![n, Expr::neg(k), Expr::one()]))),
                ])
            }
            "lfactorial" => Expr::lgamma(Expr::add2(xs[0].clone(), Expr::one())),
            "erf" => c(Func::Erf, xs),
            "erfc" => c(Func::Erfc, xs),
            "Phi" => c(Func::NormalCdf, xs),
            "sin" => c(Func::Sin, xs),
            "cos" => c(Func::Cos, xs),
            "besseli" => {
                self.check_order(f, args, &xs, (0, "order", false))?;
                c(Func::BesselI, xs)
            }
            "abs" => c(Func::Abs, xs),
            "indicator" => c(Func::Indicator, xs),
            other => unreachable!("function table lists {other}"),
        })
    }

    // ----------------------------------------------------------------- finish
}
