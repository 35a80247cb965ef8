//! Bounded e-graph simplification: find the form of an expression a
//! textbook would print.
//!
//! The expression goes into an [egg] e-graph ([`Math`]), the [`rules`]
//! grow it under a bounded [`Runner`](egg::Runner) ([`SimplifyConfig`]),
//! the [`FactAnalysis`] folds constants exactly and tracks what is known of
//! each class's values (from the model's [`Assumptions`]), and extraction
//! by [`TextbookCost`] picks the cheapest form, which goes back to the IR
//! through its canonical constructors. The result is never larger (by
//! [`Expr::op_count`]) than the input: if it would be, the input is kept.
//!
//! ```
//! use fimkit::ir::Expr;
//! use fimkit::symbolic::simplify::{simplify, Assumptions, Bounds, SimplifyConfig};
//! let (x, p) = (Expr::var("x"), Expr::var("p"));
//! // d/dp of x log p + (1 - x) log(1 - p)
//! let score = Expr::sub(
//!     Expr::div(x.clone(), p.clone()),
//!     Expr::div(Expr::sub(Expr::one(), x), Expr::sub(Expr::one(), p)),
//! );
//! let facts = Assumptions::new().with("p", Bounds::unit());
//! let s = simplify(&score, &facts, &SimplifyConfig::default());
//! assert!(s.after <= s.before);
//! ```

mod analysis;
mod bounds;
mod cost;
mod language;
mod rules;
mod seeds;

pub use analysis::{FactAnalysis, Facts, MathGraph};
pub use bounds::{Assumptions, Bounds};
pub use cost::TextbookCost;
pub use egg::StopReason;
pub use language::{Math, Named, Num, add_expr, from_rec_expr, to_rec_expr};
pub use rules::{Rewrite, rule_names, rules};
pub use seeds::{factor_sums, seeds};

use crate::ir::expr::Expr;
use crate::symbolic::diff::diff;
use egg::{Extractor, Id, RecExpr, Runner};
use std::time::Duration;

/// The bounds on one saturation run. Every run stops at the first limit
/// reached, so simplification can never hang.
///
/// With the node and iteration limits binding first the run is
/// reproducible (egg's `deterministic` feature fixes hashing); the time
/// limit is a safety net that may cut a run short on a slow machine.
#[derive(Clone, Debug, PartialEq)]
pub struct SimplifyConfig {
    /// Most rewrite iterations.
    pub iter_limit: usize,
    /// Most e-nodes in the e-graph.
    pub node_limit: usize,
    /// Longest wall-clock time of a run.
    pub time_limit: Duration,
    /// Most matches a rule may apply in one iteration before egg's backoff
    /// scheduler bans it for a while (tames commutativity and
    /// associativity).
    pub match_limit: usize,
}

impl Default for SimplifyConfig {
    /// Limits that keep a textbook model's score and Hessian well under
    /// 20 ms (see `benches/derive.rs`).
    fn default() -> Self {
        SimplifyConfig {
            iter_limit: 8,
            node_limit: 2_500,
            time_limit: Duration::from_millis(100),
            match_limit: 1_000,
        }
    }
}

/// How a saturation run went.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// Why the run stopped.
    pub stop_reason: StopReason,
    /// Iterations performed.
    pub iterations: usize,
    /// E-nodes at the end.
    pub egraph_nodes: usize,
    /// E-classes at the end.
    pub egraph_classes: usize,
    /// Merges of two different constants (an unsound rule; always 0). When
    /// non-zero every input is returned unchanged.
    pub conflicts: usize,
}

impl RunReport {
    /// Why the run stopped, in a short stable form (`saturated`,
    /// `iteration limit`, `node limit`, `time limit`).
    pub fn stop_label(&self) -> &'static str {
        match self.stop_reason {
            StopReason::Saturated => "saturated",
            StopReason::IterationLimit(_) => "iteration limit",
            StopReason::NodeLimit(_) => "node limit",
            StopReason::TimeLimit(_) => "time limit",
            StopReason::Other(_) => "stopped",
        }
    }
}

/// One simplified expression.
#[derive(Clone, Debug)]
pub struct Simplified {
    /// The simplest form found (the input when nothing smaller was found).
    pub expr: Expr,
    /// [`Expr::op_count`] of the input.
    pub before: usize,
    /// [`Expr::op_count`] of the result.
    pub after: usize,
    /// The saturation run.
    pub report: RunReport,
}

impl Simplified {
    /// Did the expression get smaller?
    pub fn smaller(&self) -> bool {
        self.after < self.before
    }
}

/// Several expressions simplified in one shared e-graph.
#[derive(Clone, Debug)]
pub struct SimplifiedMany {
    /// Each result, in input order: the simplest form, and the op counts
    /// before and after.
    pub exprs: Vec<(Expr, usize, usize)>,
    /// The one saturation run.
    pub report: RunReport,
}

/// A symmetric matrix simplified entry by entry (each upper-triangle entry
/// once, all in one e-graph).
#[derive(Clone, Debug)]
pub struct SimplifiedMatrix {
    /// The simplified matrix, symmetric.
    pub matrix: Vec<Vec<Expr>>,
    /// Op counts of the upper triangle, row by row, before.
    pub before: Vec<usize>,
    /// Op counts of the upper triangle, row by row, after.
    pub after: Vec<usize>,
    /// The saturation run.
    pub report: RunReport,
}

/// Simplify one expression under `assumptions`, bounded by `config`.
pub fn simplify(e: &Expr, assumptions: &Assumptions, config: &SimplifyConfig) -> Simplified {
    let many = simplify_many(std::slice::from_ref(e), assumptions, config);
    let (expr, before, after) = many.exprs.into_iter().next().expect("one result per input");
    Simplified {
        expr,
        before,
        after,
        report: many.report,
    }
}

/// Simplify several expressions in one e-graph, so shared subterms are
/// rewritten once. Each result is no larger than its input.
pub fn simplify_many(
    es: &[Expr],
    assumptions: &Assumptions,
    config: &SimplifyConfig,
) -> SimplifiedMany {
    let forms: Vec<Vec<Expr>> = es.iter().map(|e| vec![e.clone()]).collect();
    simplify_forms(&forms, assumptions, config)
}

/// Simplify several expressions in one e-graph, each given by one or more
/// forms known to be equal (say, a derivative taken before and after a
/// simplification). Each result is no larger than the smallest form given,
/// and `before` counts the first form.
pub fn simplify_forms(
    forms: &[Vec<Expr>],
    assumptions: &Assumptions,
    config: &SimplifyConfig,
) -> SimplifiedMany {
    if forms.is_empty() {
        return SimplifiedMany {
            exprs: Vec::new(),
            report: RunReport {
                stop_reason: StopReason::Saturated,
                iterations: 0,
                egraph_nodes: 0,
                egraph_classes: 0,
                conflicts: 0,
            },
        };
    }
    let mut runner: Runner<Math, FactAnalysis> =
        Runner::new(FactAnalysis::new(assumptions.clone()))
            .with_iter_limit(config.iter_limit)
            .with_node_limit(config.node_limit)
            .with_time_limit(config.time_limit)
            .with_scheduler(
                egg::BackoffScheduler::default().with_initial_match_limit(config.match_limit),
            );
    let mut roots: Vec<Id> = Vec::with_capacity(forms.len());
    for equal in forms {
        let mut root: Option<Id> = None;
        for e in equal {
            for f in std::iter::once(e.clone()).chain(seeds(e)) {
                let id = runner.egraph.add_expr(&to_rec_expr(&f));
                match root {
                    None => root = Some(id),
                    Some(r) => {
                        runner.egraph.union(r, id);
                    }
                }
            }
        }
        roots.push(root.unwrap_or_else(|| runner.egraph.add(Math::num(num_traits::Zero::zero()))));
    }
    runner.egraph.rebuild();
    runner.roots = roots.clone();
    let runner = runner.run(&rules());
    let report = RunReport {
        stop_reason: runner
            .stop_reason
            .clone()
            .unwrap_or(StopReason::Other("not run".into())),
        iterations: runner.iterations.len(),
        egraph_nodes: runner.egraph.total_number_of_nodes(),
        egraph_classes: runner.egraph.number_of_classes(),
        conflicts: runner.egraph.analysis.conflicts,
    };
    let extractor = Extractor::new(&runner.egraph, TextbookCost::new(&runner.egraph));
    let exprs = forms
        .iter()
        .zip(&roots)
        .map(|(equal, root)| {
            let before = equal.first().map_or(0, Expr::op_count);
            // The smallest given form is the fallback.
            let given = equal
                .iter()
                .min_by_key(|e| (e.op_count(), e.size()))
                .cloned()
                .unwrap_or_else(Expr::zero);
            if report.conflicts > 0 {
                return (given.clone(), before, given.op_count());
            }
            let (_, best): (_, RecExpr<Math>) = extractor.find_best(runner.egraph.find(*root));
            let candidate = from_rec_expr(&best);
            let after = candidate.op_count();
            if (after, candidate.size()) < (given.op_count(), given.size()) {
                (candidate, before, after)
            } else {
                let after = given.op_count();
                (given, before, after)
            }
        })
        .collect();
    SimplifiedMany { exprs, report }
}

/// Simplify a symmetric matrix: each upper-triangle entry once, in one
/// shared e-graph; the lower triangle mirrors the upper.
pub fn simplify_symmetric(
    m: &[Vec<Expr>],
    assumptions: &Assumptions,
    config: &SimplifyConfig,
) -> SimplifiedMatrix {
    let n = m.len();
    let mut upper = Vec::with_capacity(n * (n + 1) / 2);
    for (i, row) in m.iter().enumerate() {
        upper.extend(row.iter().skip(i).cloned());
    }
    symmetric_from_upper(n, simplify_many(&upper, assumptions, config))
}

/// The symmetric matrix whose upper triangle, row by row, is `many`.
fn symmetric_from_upper(n: usize, many: SimplifiedMany) -> SimplifiedMatrix {
    let mut matrix = vec![vec![Expr::zero(); n]; n];
    let mut it = many.exprs.iter();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    #[expect(
        clippy::needless_range_loop,
        reason = "fills both triangles of a square matrix"
    )]
    for i in 0..n {
        for j in i..n {
            let Some((e, b, a)) = it.next() else {
                break;
            };
            matrix[i][j] = e.clone();
            matrix[j][i] = e.clone();
            before.push(*b);
            after.push(*a);
        }
    }
    SimplifiedMatrix {
        matrix,
        before,
        after,
        report: many.report,
    }
}

/// Score and Hessian of a log-density, simplified at each step.
#[derive(Clone, Debug)]
pub struct Derived {
    /// The log-density, simplified.
    pub logp: Simplified,
    /// The score `∂ logp/∂θ_i`, simplified, in parameter order.
    pub score: SimplifiedMany,
    /// The Hessian `∂² logp/∂θ_i∂θ_j`, simplified (symmetric).
    pub hessian: SimplifiedMatrix,
}

/// Differentiate and simplify in a cascade: simplify the log-density,
/// differentiate it, simplify the score, differentiate the simplified
/// score (row `i` gives the entries `j ≥ i`) and simplify the Hessian.
/// Simplifying before each derivative keeps the derivatives small:
/// `x log(φ/(1 + φ))` becomes `x log φ - x log(1 + φ)` before it is
/// differentiated, so the Hessian comes out as a sum of simple fractions.
///
/// ```
/// use fimkit::symbolic::simplify::{derive_simplified, Assumptions, SimplifyConfig};
/// let model = fimkit::load(
///     "param lambda : positive\ndata k : count\nk ~ poisson(lambda)\n", "poisson",
/// ).unwrap();
/// let d = derive_simplified(
///     &model.logp, &model.param_names(), &Assumptions::from_model(&model),
///     &SimplifyConfig::default(),
/// );
/// let text = fimkit::render::text::render(&d.hessian.matrix[0][0], &Default::default());
/// assert_eq!(text, "-k/lambda^2");
/// ```
pub fn derive_simplified(
    logp: &Expr,
    params: &[impl AsRef<str>],
    assumptions: &Assumptions,
    config: &SimplifyConfig,
) -> Derived {
    let simple_logp = simplify(logp, assumptions, config);
    // Each derivative is taken of the input and of the simplified form;
    // both go into the e-class, so the cascade never loses.
    let grad: Vec<Vec<Expr>> = params
        .iter()
        .map(|p| {
            let plain = diff(logp, p.as_ref());
            let cascaded = diff(&simple_logp.expr, p.as_ref());
            if cascaded == plain {
                vec![plain]
            } else {
                vec![plain, cascaded]
            }
        })
        .collect();
    let score = simplify_forms(&grad, assumptions, config);
    let n = params.len();
    let mut upper: Vec<Vec<Expr>> = Vec::with_capacity(n * (n + 1) / 2);
    for (i, (given, simple)) in grad.iter().zip(&score.exprs).enumerate() {
        for p in &params[i..] {
            let mut forms: Vec<Expr> = Vec::new();
            for s in given.iter().chain(std::iter::once(&simple.0)) {
                let d = diff(s, p.as_ref());
                if !forms.contains(&d) {
                    forms.push(d);
                }
            }
            upper.push(forms);
        }
    }
    let many = simplify_forms(&upper, assumptions, config);
    let hessian = symmetric_from_upper(n, many);
    let logp = simple_logp;
    Derived {
        logp,
        score,
        hessian,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_simplify_is_fine() {
        let d = derive_simplified(
            &Expr::var("x"),
            &[] as &[&str],
            &Assumptions::new(),
            &SimplifyConfig::default(),
        );
        assert!(d.score.exprs.is_empty() && d.hessian.matrix.is_empty());
    }

    #[test]
    fn never_larger_than_the_input() {
        let x = Expr::var("x");
        let e = Expr::add2(Expr::exp(x.clone()), Expr::log(x));
        let s = simplify(&e, &Assumptions::new(), &SimplifyConfig::default());
        assert!(s.after <= s.before);
    }
}
