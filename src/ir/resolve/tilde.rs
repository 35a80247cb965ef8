//! `~` expansion: a sampling statement checked against its family
//! (arguments, their domains, the data's kind) and expanded to its
//! log-density.

use super::*;

impl Resolver {
    pub(super) fn sample(
        &mut self,
        target: &ast::Target,
        family: &ast::Ident,
        args: &[AstExpr],
        span: Span,
    ) -> Res<()> {
        let data_names = self.sample_target(target);
        let fam = self.lookup_family(family, target)?;
        self.check_family_arity(fam, family, args.len(), span)?;
        let lowered = self.family_args(args, fam);
        let data_names = data_names?;
        let lowered = lowered?;
        self.check_data_kind(fam, &data_names, &lowered, target)?;
        self.check_sampled_once(&data_names, target)?;
        for n in &data_names {
            self.sampled.insert(n.to_string(), target.span);
        }
        let xs: Vec<Expr> = data_names.iter().map(|n| Expr::Var(n.clone())).collect();
        let logp = (fam.log_density)(&xs, &lowered);
        self.terms.push(Term {
            source: TermSource::Family {
                family: fam.name,
                data: data_names,
                args: lowered,
            },
            logp,
            span,
        });
        Ok(())
    }

    /// The family, or an error with help: another name for it, a near
    /// miss, or the library's list.
    fn lookup_family(&mut self, family: &ast::Ident, target: &ast::Target) -> Res<&'static Family> {
        if let Some(f) = families::lookup(&family.name) {
            return Ok(f);
        }
        let mut d = Diagnostic::error(
            "E0106",
            format!("unknown family `{}`", family.name),
            family.span,
            "not in the family library",
        );
        let alias = FAMILY_ALIASES
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(&family.name));
        d = match (alias, did_you_mean(&family.name, families::names())) {
            (Some((_, real)), _) => d.with_help(format!(
                "fimkit calls this family `{real}`: write `{} ~ {real}(...)`",
                target.ident.name
            )),
            (None, Some(s)) => d.with_help(format!("did you mean `{s}`?")),
            (None, None) => d.with_help(format!(
                "available families: {}; or write the log-density with `logp += ...`",
                families::names().collect::<Vec<_>>().join(", ")
            )),
        };
        self.error(d);
        Err(())
    }

    /// A family takes its number of arguments.
    fn check_family_arity(
        &mut self,
        fam: &Family,
        family: &ast::Ident,
        given: usize,
        span: Span,
    ) -> Res<()> {
        if given == fam.args.len() {
            return Ok(());
        }
        let expected: Vec<&str> = fam.args.iter().map(|(n, _)| *n).collect();
        let signature = format!("{}({})", fam.name, expected.join(", "));
        let meaning = fam
            .description
            .split_once(": ")
            .map_or(fam.description, |(_, m)| m);
        self.error(
            Diagnostic::error(
                "E0104",
                format!(
                    "`{}` takes {} argument{}, but {} {} given",
                    fam.name,
                    fam.args.len(),
                    plural(fam.args.len()),
                    given,
                    if given == 1 { "was" } else { "were" }
                ),
                Span::new(family.span.start, span.end),
                format!("expected {signature}"),
            )
            .with_help(format!("write `{signature}`: {meaning}")),
        );
        Err(())
    }

    /// The family's arguments lowered, each error reported.
    fn family_args(&mut self, args: &[AstExpr], fam: &Family) -> Res<Vec<Arg>> {
        let mut lowered = Vec::new();
        let mut ok = true;
        for (a, (aname, kind)) in args.iter().zip(fam.args) {
            match self.family_arg(a, aname, *kind, fam) {
                Ok(v) => lowered.push(v),
                Err(()) => ok = false,
            }
        }
        if !ok {
            return Err(());
        }
        Ok(lowered)
    }

    /// Each data variable is on the left of `~` once.
    fn check_sampled_once(&mut self, data_names: &[Name], target: &ast::Target) -> Res<()> {
        for n in data_names {
            if let Some(prev) = self.sampled.get(&**n) {
                let d = Diagnostic::error("E0112", format!("`{n}` already has a distribution"), target.span, "second distribution for the same data")
                    .with_label(*prev, "first given here")
                    .with_help("each data variable appears on the left of `~` once; use another data variable for a second observation");
                self.error(d);
                return Err(());
            }
        }
        Ok(())
    }

    /// The data names on the left of `~`.
    pub(super) fn sample_target(&mut self, target: &ast::Target) -> Res<Vec<Name>> {
        let name = &target.ident.name;
        if self.poisoned.contains(name) {
            return Err(());
        }
        let decl = match self.decls.get(name) {
            Some(d) => d.clone(),
            None => {
                if self.lets.contains_key(name) || self.loops.iter().any(|(n, _)| n == name) {
                    self.error(self.not_data(target, "a let binding or loop variable"));
                    return Err(());
                }
                self.error(self.unknown_name(
                    name,
                    target.ident.span,
                    "declare it with `data NAME : SUPPORT`",
                ));
                return Err(());
            }
        };
        if decl.kind != Kind::Data {
            let d = self.not_data(target, decl.kind.noun()).with_label(
                decl.span,
                format!("declared as a {} here", decl.kind.noun()),
            );
            self.error(d);
            return Err(());
        }
        match (&target.index, decl.range) {
            (None, None) => Ok(vec![Name::from(name.as_str())]),
            (None, Some((lo, hi))) => Ok((lo..=hi)
                .map(|i| Name::from(format!("{name}[{i}]").as_str()))
                .collect()),
            (Some(ix), Some(range)) => {
                let i = self.index_value(ix, name, range)?;
                Ok(vec![Name::from(format!("{name}[{i}]").as_str())])
            }
            (Some(ix), None) => {
                self.error(
                    Diagnostic::error(
                        "E0107",
                        format!("`{name}` is not indexed"),
                        ix.span,
                        "index on a scalar",
                    )
                    .with_help(format!(
                        "declare it as `data {name}[1..K] : ...` or drop the index"
                    )),
                );
                Err(())
            }
        }
    }

    pub(super) fn not_data(&self, target: &ast::Target, what: &str) -> Diagnostic {
        Diagnostic::error(
            "E0109",
            format!("the left side of `~` must be data, but `{}` is a {what}", target.ident.name),
            target.span,
            "not a data variable",
        )
        .with_help("only data variables are drawn from a distribution; a parameter's prior is not part of the likelihood")
    }

    pub(super) fn family_arg(
        &mut self,
        a: &AstExpr,
        aname: &str,
        kind: ArgKind,
        fam: &Family,
    ) -> Res<Arg> {
        let v = self.value(a, Ctx::General)?;
        match (kind.is_vector(), v) {
            (true, Value::Vector(xs)) => Ok(Arg::Vector(xs)),
            (false, Value::Scalar(e)) => {
                if kind == ArgKind::Count {
                    let folded = self.fold_consts(&e);
                    let ok = folded
                        .as_num()
                        .is_some_and(|r| r.is_integer() && r.is_positive());
                    if !ok {
                        self.error(
                            Diagnostic::error(
                                "E0121",
                                format!(
                                    "`{aname}` of {} must be a positive integer constant",
                                    fam.name
                                ),
                                a.span,
                                "not a known positive integer",
                            )
                            .with_help(format!("`{aname}` must be known in advance: write a positive integer, or declare `const {aname} = 10` and use that")),
                        );
                        return Err(());
                    }
                }
                self.check_arg_domain(&e, aname, kind, fam, a.span);
                Ok(Arg::Scalar(e))
            }
            (true, Value::Scalar(_)) => {
                self.error(
                    Diagnostic::error("E0116", format!("`{aname}` of {} must be a vector", fam.name), a.span, "a scalar")
                        .with_help("pass an indexed name such as `a` (declared `param a[1..K]`) or a list `[p1, p2, 1 - p1 - p2]`"),
                );
                Err(())
            }
            (false, Value::Vector(xs)) => {
                let help = match &a.kind {
                    ExprKind::Name(n) => {
                        let (lo, hi) = self
                            .decls
                            .get(n)
                            .and_then(|d| d.range)
                            .unwrap_or((1, xs.len() as i64));
                        format!(
                            "`{n}` has {} components: pick one, as in `{n}[k]` inside `for k in {lo}..{hi} {{ ... }}`",
                            xs.len()
                        )
                    }
                    _ => "pick one component with an index, as in `a[k]`".to_string(),
                };
                self.error(
                    Diagnostic::error(
                        "E0116",
                        format!("`{aname}` of {} must be a scalar", fam.name),
                        a.span,
                        format!("a vector of {} components", xs.len()),
                    )
                    .with_help(help),
                );
                Err(())
            }
        }
    }

    /// Warn when a bare parameter's declared domain does not fit the argument.
    pub(super) fn check_arg_domain(
        &mut self,
        e: &Expr,
        aname: &str,
        kind: ArgKind,
        fam: &Family,
        span: Span,
    ) {
        let Expr::Var(v) = e else { return };
        let Some(p) = self.params.iter().find(|p| p.name == *v) else {
            return;
        };
        let fits = match kind {
            ArgKind::Positive => p.domain.is_positive(),
            ArgKind::Unit => {
                p.domain.is_positive()
                    && p.domain
                        .hi
                        .as_ref()
                        .and_then(Expr::as_num)
                        .is_some_and(|h| *h <= Rational::from_integer(1.into()))
            }
            _ => true,
        };
        if !fits {
            let d = Diagnostic::warning(
                "W0204",
                format!(
                    "`{v}` is declared {} but `{aname}` of {} must be {}",
                    p.domain.label,
                    fam.name,
                    kind.describe()
                ),
                span,
                format!("may leave the domain of {}", fam.name),
            )
            .with_label(p.span, "declared here")
            .with_help(match kind {
                ArgKind::Positive => format!("declare `param {v} : positive`, or pass exp({v})"),
                _ => format!("declare `param {v} : unit`, or pass sigmoid({v})"),
            });
            self.error(d);
        }
    }

    pub(super) fn check_data_kind(
        &mut self,
        fam: &Family,
        data: &[Name],
        args: &[Arg],
        target: &ast::Target,
    ) -> Res<()> {
        let vector_len = args.iter().find_map(|a| match a {
            Arg::Vector(v) => Some(v.len()),
            Arg::Scalar(_) => None,
        });
        self.check_data_shape(fam, data, vector_len, target)?;
        let var = self.data.iter().find(|d| d.name == data[0]).cloned();
        let Some(var) = var else { return Ok(()) };
        let sup = &var.support;
        if !support_fits(fam.data, sup) {
            let suggestion = support_suggestion(fam.data, args, vector_len);
            let d = Diagnostic::error(
                "E0115",
                format!(
                    "{} needs {}, but `{}` is declared {}",
                    fam.name,
                    fam.data.describe(),
                    target.ident.name,
                    sup.label()
                ),
                target.span,
                format!("`{}` has the wrong support", target.ident.name),
            )
            .with_label(var.span, "declared here")
            .with_help(format!(
                "declare `data {} : {suggestion}`",
                target.ident.name
            ));
            self.error(d);
            return Err(());
        }
        Ok(())
    }

    /// A vector family needs as many data components as its vector
    /// arguments; a scalar family one data variable.
    fn check_data_shape(
        &mut self,
        fam: &Family,
        data: &[Name],
        vector_len: Option<usize>,
        target: &ast::Target,
    ) -> Res<()> {
        if fam.data.is_vector() {
            let len = vector_len.unwrap_or(0);
            if data.len() != len || (data.len() == 1 && target.index.is_some()) {
                self.error(
                    Diagnostic::error(
                        "E0116",
                        format!(
                            "{} needs data with {len} components, but `{}` has {}",
                            fam.name,
                            target.ident.name,
                            data.len()
                        ),
                        target.span,
                        "dimension mismatch",
                    )
                    .with_help(format!(
                        "declare `data {}[1..{len}] : simplex` and write `{} ~ {}(...)`",
                        target.ident.name, target.ident.name, fam.name
                    )),
                );
                return Err(());
            }
        } else if data.len() != 1 {
            self.error(
                Diagnostic::error(
                    "E0116",
                    format!(
                        "{} generates one value, but `{}` is a vector",
                        fam.name, target.ident.name
                    ),
                    target.span,
                    "a vector",
                )
                .with_help(format!(
                    "index it inside a loop: `for k in 1..K {{ {}[k] ~ {}(...) }}`",
                    target.ident.name, fam.name
                )),
            );
            return Err(());
        }
        Ok(())
    }
}

/// Does the data's declared support fit what the family generates?
fn support_fits(kind: DataKind, sup: &Support) -> bool {
    let cont = |lo: &Option<Expr>, hi: &Option<Expr>| (numeric_opt(lo), numeric_opt(hi));
    match kind {
        DataKind::Real | DataKind::RealVector => !sup.is_discrete(),
        DataKind::Positive => {
            matches!(sup, Support::Continuous { lo, hi } if cont(lo, hi).0.is_some_and(|l| l >= 0.0))
        }
        DataKind::Unit => {
            matches!(sup, Support::Continuous { lo, hi } if {
                let (l, h) = cont(lo, hi);
                l.is_some_and(|l| l >= 0.0) && h.is_some_and(|h| h <= 1.0)
            }) || matches!(sup, Support::Simplex { .. })
        }
        DataKind::Binary => sup.is_binary(),
        DataKind::Count | DataKind::BoundedCount | DataKind::CountVector => {
            sup.is_nonnegative_integer()
        }
        DataKind::Category => {
            matches!(sup, Support::Integers { lo, hi: Some(_) } if lo.as_int() == Some(1))
                || matches!(sup, Support::Set(vs) if vs.iter().all(|v| v.is_integer() && v.is_positive()))
        }
        DataKind::Simplex => matches!(sup, Support::Simplex { .. }),
    }
}

/// The support to declare for data of this kind.
fn support_suggestion(kind: DataKind, args: &[Arg], vector_len: Option<usize>) -> String {
    match kind {
        DataKind::Real | DataKind::RealVector => "real".to_string(),
        DataKind::Positive => "positive".to_string(),
        DataKind::Unit => "unit".to_string(),
        DataKind::Binary => "{0, 1}".to_string(),
        DataKind::Count => "count".to_string(),
        DataKind::BoundedCount => match args.first() {
            Some(Arg::Scalar(n)) => format!("0..{n}"),
            _ => "0..n".to_string(),
        },
        DataKind::Category => format!("1..{}", vector_len.unwrap_or(1)),
        DataKind::Simplex => "simplex".to_string(),
        DataKind::CountVector => "count".to_string(),
    }
}
