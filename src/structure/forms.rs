//! Linear forms: a log-density that depends on θ only through a few
//! forms `η_k = a_k(z)ᵀθ + c_k(z)` whose coefficients and offsets hold
//! covariates and constants only (never the response), read off the
//! expression by a symbolic affine decomposition.
//!
//! [`linear_forms`] replaces every maximal affine subexpression of θ by a
//! variable standing for its form (named by what it stands for,
//! `(b0 + b1*z)`), in the log-density and in each `~` statement's
//! arguments and term. The result, [`LinearForms`], is the model written
//! in η: the fit's GLM fast path (`fit::linear`) differentiates it in η
//! and takes the expected weights `E[−∂²/∂η∂η]` from it.
//!
//! ```
//! use fimkit::structure::forms::linear_forms;
//! let src = "param b0 : real\nparam b1 : real\ncovariate z : real\ndata k : count\n\
//!            k ~ poisson(exp(b0 + b1*z))\n";
//! let model = fimkit::load(src, "m").unwrap();
//! let f = linear_forms(&model).unwrap();
//! assert_eq!(f.m(), 1);
//! assert_eq!(&*f.eta[0], "(b0 + b1*z)");
//! let coeffs: Vec<String> = f.forms[0].coeffs.iter().map(|c| c.to_string()).collect();
//! assert_eq!(coeffs, ["1", "z"]);
//! // the log-density in η holds no parameter
//! assert!(!f.reduced.logp.contains_var("b0"));
//! ```

use crate::ir::expr::{Expr, Name};
use crate::ir::model::{Arg, Domain, Model, Param, TermSource};
use std::collections::{BTreeMap, BTreeSet};

/// Most linear forms a model may have to be read through its forms.
pub const MAX_FORMS: usize = 4;

/// One linear form `aᵀθ + c`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearForm {
    /// The coefficient of each parameter (covariates and constants only).
    pub coeffs: Vec<Expr>,
    /// The offset (covariates and constants only).
    pub offset: Expr,
}

/// A model written through its linear forms.
#[derive(Clone, Debug)]
pub struct LinearForms {
    /// The forms, one per η variable (the model's constants kept by name).
    pub forms: Vec<LinearForm>,
    /// Names of the η variables standing for the forms.
    pub eta: Vec<Name>,
    /// The model in η: its parameters the η variables (real), its
    /// log-density, terms and `~` arguments with every form replaced by its
    /// variable, no coordinate systems.
    pub reduced: Model,
}

impl LinearForms {
    /// Number of forms.
    pub fn m(&self) -> usize {
        self.forms.len()
    }
}

/// Which names are parameters and which are the response (data): the
/// two roles a linear form's coefficients must be free of.
#[derive(Clone, Copy, Debug)]
pub struct Roles<'a> {
    /// The parameters θ.
    pub params: &'a BTreeSet<Name>,
    /// The data variables (the response): never inside a form.
    pub response: &'a BTreeSet<Name>,
}

impl Roles<'_> {
    /// Does `e` hold a parameter?
    pub fn has_param(&self, e: &Expr) -> bool {
        e.any_var(&|v| self.params.contains(v))
    }

    /// Does `e` hold the response?
    pub fn has_response(&self, e: &Expr) -> bool {
        e.any_var(&|v| self.response.contains(v))
    }
}

/// An expression read as `Σ_p a_p·p + c`, `a` and `c` free of θ and of
/// the response. Only the parameters that occur have a coefficient (a
/// 300-parameter model's forms are read without 300-long rows per node).
#[derive(Clone, Debug, PartialEq)]
pub struct Affine {
    /// Each occurring parameter's coefficient.
    pub coeffs: BTreeMap<Name, Expr>,
    /// The part free of θ.
    pub offset: Expr,
}

/// The one symbolic affine decomposition: `e` as `aᵀθ + c` when it is one
/// as written (sums, products by θ-free factors, parameters), `None`
/// otherwise. The fit's linear forms ([`linear_forms`]) and the
/// derivation's named predictors ([`super::predictors`]) both read forms
/// with it.
///
/// ```
/// use fimkit::ir::{Expr, Name};
/// use fimkit::structure::forms::{Roles, affine};
/// use std::collections::BTreeSet;
/// let params: BTreeSet<Name> = ["b0".into(), "b1".into()].into();
/// let response: BTreeSet<Name> = ["y".into()].into();
/// let roles = Roles { params: &params, response: &response };
/// let e = Expr::int(2) * (Expr::var("b0") + Expr::var("b1") * Expr::var("z")) + Expr::one();
/// let a = affine(&e, &roles).unwrap();
/// assert_eq!(a.coeffs.len(), 2);
/// assert_eq!(a.offset, Expr::one());
/// assert!(affine(&(Expr::var("b0") * Expr::var("y")), &roles).is_none()); // the response
/// assert!(affine(&Expr::exp(Expr::var("b0")), &roles).is_none()); // not affine
/// ```
pub fn affine(e: &Expr, roles: &Roles) -> Option<Affine> {
    if !roles.has_param(e) {
        if roles.has_response(e) {
            return None;
        }
        return Some(Affine {
            coeffs: BTreeMap::new(),
            offset: e.clone(),
        });
    }
    match e {
        Expr::Var(v) => Some(Affine {
            coeffs: BTreeMap::from([(v.clone(), Expr::one())]),
            offset: Expr::zero(),
        }),
        Expr::Add(ts) => {
            let mut coeffs: BTreeMap<Name, Vec<Expr>> = BTreeMap::new();
            let mut offsets = Vec::with_capacity(ts.len());
            for t in ts.iter() {
                let part = affine(t, roles)?;
                for (p, c) in part.coeffs {
                    coeffs.entry(p).or_default().push(c);
                }
                offsets.push(part.offset);
            }
            Some(Affine {
                coeffs: coeffs
                    .into_iter()
                    .map(|(p, cs)| (p, Expr::add(cs)))
                    .collect(),
                offset: Expr::add(offsets),
            })
        }
        Expr::Mul(fs) => {
            let (with, without): (Vec<&Expr>, Vec<&Expr>) =
                fs.iter().partition(|f| roles.has_param(f));
            if with.len() != 1 || without.iter().any(|f| roles.has_response(f)) {
                return None;
            }
            let inner = affine(with[0], roles)?;
            let scale = Expr::mul(without.into_iter().cloned().collect());
            Some(Affine {
                coeffs: inner
                    .coeffs
                    .into_iter()
                    .map(|(p, c)| (p, Expr::mul2(scale.clone(), c)))
                    .collect(),
                offset: Expr::mul2(scale, inner.offset),
            })
        }
        _ => None,
    }
}

/// `k`, free of θ, with `new = k·old` in every coefficient (the offsets
/// aside): a number, or a data factor (`y·(b0 + b1·z)` read as one form
/// of its own, beside `b0 + b1·z`). Read off the first coefficient `old`
/// has, then checked on all.
fn multiple(new: &LinearForm, old: &LinearForm) -> Option<Expr> {
    let (n0, o0) = new
        .coeffs
        .iter()
        .zip(&old.coeffs)
        .find(|(_, o)| !o.is_zero())?;
    let k = ratio(n0, o0)?;
    let same = new
        .coeffs
        .iter()
        .zip(&old.coeffs)
        .all(|(n, o)| Expr::mul2(k.clone(), o.clone()).expand() == *n);
    same.then_some(k)
}

/// `n / o` when it is plain to read: `o` a number, `n` and `o` equal, or
/// `o`'s factors among `n`'s.
fn ratio(n: &Expr, o: &Expr) -> Option<Expr> {
    if n.is_zero() {
        return None;
    }
    if let Some(r) = o.as_num() {
        return Some(Expr::mul2(n.clone(), Expr::Num(r.recip())).expand());
    }
    if n == o {
        return Some(Expr::one());
    }
    let mut rest: Vec<Expr> = match n {
        Expr::Mul(fs) => fs.to_vec(),
        _ => return None,
    };
    let of: &[Expr] = match o {
        Expr::Mul(fs) => fs,
        single => std::slice::from_ref(single),
    };
    for f in of {
        let k = rest.iter().position(|g| g == f)?;
        rest.remove(k);
    }
    Some(Expr::mul(rest))
}

struct Finder<'a> {
    /// The parameters in model order (the forms' coefficient rows).
    params: &'a [Name],
    roles: Roles<'a>,
    forms: Vec<LinearForm>,
    eta: Vec<Name>,
    /// More than [`MAX_FORMS`] forms met: the reading stops (a model of a
    /// thousand means would otherwise compare a thousand forms of a
    /// thousand coefficients each).
    too_many: bool,
}

impl Finder<'_> {
    fn has_param(&self, e: &Expr) -> bool {
        self.roles.has_param(e)
    }

    fn affine(&self, e: &Expr) -> Option<Affine> {
        affine(e, &self.roles)
    }

    /// The η variable for a form, registering it when new.
    fn eta_for(&mut self, a: Affine) -> Expr {
        let form = LinearForm {
            coeffs: self
                .params
                .iter()
                .map(|p| a.coeffs.get(p).map_or_else(Expr::zero, Expr::expand))
                .collect(),
            offset: a.offset.expand(),
        };
        if let Some(k) = self.forms.iter().position(|f| *f == form) {
            return Expr::Var(self.eta[k].clone());
        }
        // A multiple of a form plus a θ-free shift (`−2c − 2s·x` beside
        // `c + s·x`, `y·b0 + y·b1·z` beside `b0 + b1·z`) is that form's
        // variable scaled and shifted: no new direction.
        for (j, old) in self.forms.iter().enumerate() {
            if let Some(k) = multiple(&form, old) {
                let shift = Expr::sub(
                    form.offset.clone(),
                    Expr::mul2(k.clone(), old.offset.clone()),
                )
                .expand();
                let scaled = Expr::mul2(k, Expr::Var(self.eta[j].clone()));
                return Expr::add2(scaled, shift);
            }
        }
        if self.forms.len() == MAX_FORMS {
            self.too_many = true;
            return Expr::zero();
        }
        // Named by what it stands for, so a message about a row reads
        // `1/Phi((b0 + b1*z1))^2`, not `__eta1` (identifiers of the
        // language have no parentheses: no clash with a model's names).
        let mut terms: Vec<Expr> = self
            .params
            .iter()
            .zip(&form.coeffs)
            .map(|(p, c)| Expr::mul2(c.clone(), Expr::Var(p.clone())))
            .collect();
        terms.push(form.offset.clone());
        let mut name: Name = format!("({})", Expr::add(terms)).into();
        if self.eta.contains(&name) {
            name = format!("__eta{}", self.forms.len() + 1).into();
        }
        self.forms.push(form);
        self.eta.push(name.clone());
        Expr::Var(name)
    }

    /// Replace maximal linear forms by η variables.
    fn replace(&mut self, e: &Expr) -> Expr {
        if self.too_many || !self.has_param(e) {
            return e.clone();
        }
        match e {
            Expr::Var(_) => match self.affine(e) {
                Some(a) => self.eta_for(a),
                None => e.clone(),
            },
            Expr::Mul(fs) => {
                let kids = fs.iter().map(|f| self.replace(f)).collect();
                Expr::mul(kids)
            }
            Expr::Add(ts) => {
                // The terms with θ that are affine (with covariate
                // coefficients) form one linear form, the others are
                // searched on their own; θ-free terms (the response) stay.
                let (lin, rest): (Vec<&Expr>, Vec<&Expr>) = ts
                    .iter()
                    .partition(|t| self.has_param(t) && self.affine(t).is_some());
                let mut out: Vec<Expr> = rest.into_iter().map(|t| self.replace(t)).collect();
                if !lin.is_empty() {
                    let joined = Expr::add(lin.into_iter().cloned().collect());
                    let a = self
                        .affine(&joined)
                        .expect("a sum of affine terms is affine");
                    out.push(self.eta_for(a));
                }
                Expr::add(out)
            }
            Expr::Pow(b, x) => Expr::pow(self.replace(b), self.replace(x)),
            Expr::Call(f, args) => {
                let kids = args.iter().map(|a| self.replace(a)).collect();
                Expr::call(*f, kids)
            }
            Expr::Num(_) | Expr::Const(_) => e.clone(),
        }
    }
}

/// A log-density written through its forms, for row-by-row derivatives:
/// a form's coefficients and offset may hold any data (they are numbers
/// in each row), only θ must not occur in them.
#[derive(Clone, Debug)]
pub struct RowForms {
    /// The forms, one per η variable.
    pub forms: Vec<LinearForm>,
    /// Names of the η variables standing for the forms.
    pub eta: Vec<Name>,
    /// The log-density in η: no parameter left in it.
    pub logp: Expr,
}

/// The forms of `logp` in `params` row by row (the numeric linear
/// engine's, [`crate::numeric::linear`]), when θ enters only through
/// between 1 and [`MAX_FORMS`] of them. The same reading as
/// [`linear_forms`], with every other variable a row's number.
///
/// ```
/// use fimkit::ir::{Expr, Name};
/// use fimkit::structure::forms::row_forms;
/// // −log t − (x − m)²/(2t²): the forms t and −m
/// let (x, m, t) = (Expr::var("x"), Expr::var("m"), Expr::var("t"));
/// let logp = -Expr::log(t.clone()) - Expr::powi(x - m, 2) / (Expr::int(2) * Expr::powi(t, 2));
/// let params: Vec<Name> = vec!["m".into(), "t".into()];
/// assert_eq!(row_forms(&logp, &params).map(|f| f.forms.len()), Some(2));
/// ```
pub fn row_forms(logp: &Expr, params: &[Name]) -> Option<RowForms> {
    let param_set: BTreeSet<Name> = params.iter().cloned().collect();
    let none = BTreeSet::new();
    let mut finder = Finder {
        params,
        roles: Roles {
            params: &param_set,
            response: &none,
        },
        forms: Vec::new(),
        eta: Vec::new(),
        too_many: false,
    };
    let logp = finder.replace(logp);
    let m = finder.forms.len();
    if m == 0 || finder.too_many || logp.any_var(&|v| param_set.contains(v)) {
        return None;
    }
    Some(RowForms {
        forms: finder.forms,
        eta: finder.eta,
        logp,
    })
}

/// The linear forms of `model`, when it has covariates and θ enters its
/// log-density through between 1 and [`MAX_FORMS`] forms only.
pub fn linear_forms(model: &Model) -> Option<LinearForms> {
    if model.covariates.is_empty() {
        return None;
    }
    let params = model.param_names();
    let param_set: BTreeSet<Name> = params.iter().cloned().collect();
    let data: BTreeSet<Name> = model.data.iter().map(|d| d.name.clone()).collect();
    let mut finder = Finder {
        params: &params,
        roles: Roles {
            params: &param_set,
            response: &data,
        },
        forms: Vec::new(),
        eta: Vec::new(),
        too_many: false,
    };
    let logp = finder.replace(&model.logp);
    // Family arguments and raw terms, for the expectation.
    let mut reduced = model.clone();
    for t in &mut reduced.terms {
        if let TermSource::Family { args, .. } = &mut t.source {
            for a in args.iter_mut() {
                *a = match a {
                    Arg::Scalar(e) => Arg::Scalar(finder.replace(e)),
                    Arg::Vector(v) => Arg::Vector(v.iter().map(|e| finder.replace(e)).collect()),
                };
            }
        }
        t.logp = finder.replace(&t.logp);
    }
    let m = finder.forms.len();
    if m == 0 || finder.too_many {
        return None;
    }
    if logp.any_var(&|v| param_set.contains(v)) {
        return None;
    }
    let Finder { forms, eta, .. } = finder;
    reduced.logp = logp;
    reduced.params = eta
        .iter()
        .map(|n| Param {
            name: n.clone(),
            domain: Domain::real(),
            span: Default::default(),
        })
        .collect();
    reduced.coords.clear();
    Some(LinearForms {
        forms,
        eta,
        reduced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Model {
        crate::load(src, "m").expect("model")
    }

    #[test]
    fn a_form_shared_by_two_statements_is_one_form() {
        // The same predictor in the mean of one response and the rate of
        // another: one η, used twice.
        let m = load(
            "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : real\ndata k : count\n\
             y ~ normal(b0 + b1*z, 1)\nk ~ poisson(exp(b0 + b1*z))\n",
        );
        let f = linear_forms(&m).expect("forms");
        assert_eq!(f.m(), 1);
        assert_eq!(f.reduced.params.len(), 1);
        assert!(
            f.reduced
                .terms
                .iter()
                .all(|t| t.logp.contains_var(&f.eta[0]))
        );
    }

    #[test]
    fn the_response_stays_out_of_the_form() {
        // (y − b0 − b1·z)²: the form is b0 + b1·z, y stays beside it.
        let m = load(
            "param b0 : real\nparam b1 : real\ncovariate z : real\ndata y : real\n\
             y ~ normal(b0 + b1*z, 1)\n",
        );
        let f = linear_forms(&m).expect("forms");
        assert_eq!(
            f.eta.iter().map(|n| &**n).collect::<Vec<_>>(),
            ["(b0 + b1*z)"]
        );
        assert!(f.reduced.logp.contains_var("y"));
        assert_eq!(f.forms[0].offset, Expr::zero());
    }

    #[test]
    fn the_reading_stops_at_the_fifth_form() {
        // A thousand means, each its own form: the reading gives up at the
        // fifth, not after comparing a thousand forms with each other.
        let m = load(
            "const K = 1000\nparam mu[1..K] : real\ndata x[1..K] : real\n\
             for k in 1..K { x[k] ~ normal(mu[k], 1) }\n",
        );
        let params = m.param_names();
        let set: BTreeSet<Name> = params.iter().cloned().collect();
        let none = BTreeSet::new();
        let mut finder = Finder {
            params: &params,
            roles: Roles {
                params: &set,
                response: &none,
            },
            forms: Vec::new(),
            eta: Vec::new(),
            too_many: false,
        };
        finder.replace(&m.logp_numeric());
        assert!(finder.too_many);
        assert_eq!(finder.forms.len(), MAX_FORMS);
        assert!(row_forms(&m.logp_numeric(), &params).is_none());
    }

    #[test]
    fn more_than_max_forms_refuses() {
        let m = load(
            "param b[1..5] : real\ncovariate z : real\ndata y[1..5] : real\n\
             for i in 1..5 { y[i] ~ normal(b[i]*z, 1) }\n",
        );
        assert!(linear_forms(&m).is_none());
    }
}
