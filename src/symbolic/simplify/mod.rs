//! Bounded e-graph simplification: find the form of an expression a
//! textbook would print.
//!
//! The expression goes into an [egg] e-graph ([`Math`]), the `rules`
//! grow it under a bounded [`egg::Runner`] ([`SimplifyConfig`]),
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
pub use seeds::{
    collect_terms, common_denominators, factor_sums, join_logs, seeds, split_positive,
};

use crate::ir::expr::Expr;
use crate::symbolic::diff::diff;
use egg::{Extractor, Id, RecExpr, Runner};
use std::collections::HashMap;
use std::time::Duration;

/// The default [`SimplifyConfig::growth`].
const GROWTH: usize = 4;

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
    /// Most e-nodes relative to the e-graph the run starts with (the
    /// inputs and their seeds): a run stops at `growth` times its start,
    /// or at `node_limit`, whichever comes first, so small inputs get
    /// small searches.
    pub growth: usize,
    /// Longest wall-clock time of a run: a safety net only. The
    /// iteration and node limits end every run on the corpus (the slowest
    /// takes ~35 ms in a debug build on a loaded machine); a run that
    /// stopped on time would make the output depend on the machine's load.
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
            growth: GROWTH,
            time_limit: Duration::from_secs(1),
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
    /// The report when no search was needed (every input already minimal).
    fn not_run() -> RunReport {
        RunReport {
            stop_reason: StopReason::Saturated,
            iterations: 0,
            egraph_nodes: 0,
            egraph_classes: 0,
            conflicts: 0,
        }
    }

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
            report: RunReport::not_run(),
        };
    }
    // Each distinct group once (a Dirichlet Hessian repeats one entry
    // K(K − 1)/2 times): its candidates are the given forms and their seeds.
    let mut distinct: Vec<&[Expr]> = Vec::new();
    let mut index: HashMap<&[Expr], usize> = HashMap::new();
    // A lone number or name needs no search (most entries of a large
    // model's Hessian are 0): it is its own result, not hashed.
    let atom = |equal: &[Expr]| -> bool {
        matches!(equal, [Expr::Num(_) | Expr::Var(_) | Expr::Const(_)])
    };
    let slots: Vec<usize> = forms
        .iter()
        .map(|equal| {
            if atom(equal) {
                return usize::MAX;
            }
            *index.entry(equal.as_slice()).or_insert_with(|| {
                distinct.push(equal.as_slice());
                distinct.len() - 1
            })
        })
        .collect();
    let candidates: Vec<Vec<Expr>> = distinct
        .iter()
        .map(|equal| {
            let mut out: Vec<Expr> = Vec::new();
            for e in *equal {
                for f in std::iter::once(e.clone()).chain(seeds(e, assumptions)) {
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
            }
            if out.is_empty() {
                out.push(Expr::zero());
            }
            out
        })
        .collect();
    let smallest: Vec<Expr> = candidates
        .iter()
        .map(|c| {
            c.iter()
                .min_by_key(|e| rank(e))
                .cloned()
                .unwrap_or_else(Expr::zero)
        })
        .collect();
    // Already minimal: nothing to search for.
    let searched: Vec<usize> = (0..distinct.len())
        .filter(|&k| smallest[k].op_count() > MINIMAL_OPS)
        .collect();
    let (best, report) = if searched.is_empty() {
        (smallest.clone(), RunReport::not_run())
    } else {
        // egg times its phases with `quanta`, whose first clock in a
        // process calibrates the CPU's counter by spinning on the system
        // clock for 0.5 ms to 200 ms (a third of a small `fimkit derive`'s
        // CPU time). The runs read no timing but the time limit, so egg
        // gets a clock that stands still ([`saturate`] keeps the limit).
        let (still, _) = quanta::Clock::mock();
        quanta::with_clock(&still, || {
            saturate(&searched, &candidates, &smallest, assumptions, config)
        })
    };
    let exprs = forms
        .iter()
        .zip(&slots)
        .map(|(equal, &k)| {
            let before = equal.first().map_or(0, Expr::op_count);
            let e = if k == usize::MAX {
                equal[0].clone()
            } else {
                best[k].clone()
            };
            let after = e.op_count();
            (e, before, after)
        })
        .collect();
    SimplifiedMany { exprs, report }
}

/// How good a form is, lower is better: its operations
/// ([`Expr::op_count`]); then, as [`TextbookCost`] does, powers of function
/// values (`σ(t)(1 − σ(t))` over `σ(t)² − σ(t)`); then the tree size.
fn rank(e: &Expr) -> (usize, usize, usize) {
    fn call_powers(e: &Expr) -> usize {
        let own = match e {
            Expr::Pow(b, x) => usize::from(
                matches!(**b, Expr::Call(..))
                    && x.as_num()
                        .is_some_and(|r| r.is_integer() && num_traits::Signed::is_positive(r)),
            ),
            _ => 0,
        };
        own + match e {
            Expr::Pow(b, x) => call_powers(b) + call_powers(x),
            _ => e.children().iter().map(call_powers).sum(),
        }
    }
    (e.op_count(), call_powers(e), e.size())
}

/// Expressions of at most this many operations are taken as they are
/// (with their seeds): a search could save at most one or two operations.
const MINIMAL_OPS: usize = 2;

/// The node limit of a run that starts with `start` e-nodes: the
/// configured limit, or [`SimplifyConfig::growth`] times the start, which
/// ever is smaller (small inputs get small searches).
fn node_limit(start: usize, config: &SimplifyConfig) -> usize {
    config
        .node_limit
        .min(start.saturating_mul(config.growth).max(start + 1))
}

/// What the time-limit hook of [`saturate`] says when it stops a run.
const TIME_LIMIT: &str = "time limit";

/// One bounded saturation of the groups `searched` (indices into
/// `candidates`), each group's candidates in one e-class; returns, for
/// every group, the smallest of its candidates and its extracted form.
///
/// The time limit is a hook on std's clock, checked before every iteration
/// as egg checks its own: egg's clock stands still during the run.
fn saturate(
    searched: &[usize],
    candidates: &[Vec<Expr>],
    smallest: &[Expr],
    assumptions: &Assumptions,
    config: &SimplifyConfig,
) -> (Vec<Expr>, RunReport) {
    let (started, limit) = (std::time::Instant::now(), config.time_limit);
    let mut runner: Runner<Math, FactAnalysis> =
        Runner::new(FactAnalysis::new(assumptions.clone()))
            .with_iter_limit(config.iter_limit)
            .with_hook(move |_| {
                if started.elapsed() > limit {
                    Err(TIME_LIMIT.into())
                } else {
                    Ok(())
                }
            })
            .with_scheduler(
                egg::BackoffScheduler::default().with_initial_match_limit(config.match_limit),
            );
    let mut roots: Vec<Id> = Vec::with_capacity(searched.len());
    for &k in searched {
        let mut root: Option<Id> = None;
        for f in &candidates[k] {
            let id = runner.egraph.add_expr(&to_rec_expr(f));
            match root {
                None => root = Some(id),
                Some(r) => {
                    runner.egraph.union(r, id);
                }
            }
        }
        roots.push(root.unwrap_or_else(|| runner.egraph.add(Math::num(num_traits::Zero::zero()))));
    }
    runner.egraph.rebuild();
    runner.roots = roots.clone();
    let limit = node_limit(runner.egraph.total_number_of_nodes(), config);
    let runner = runner.with_node_limit(limit).run(rules::rule_set());
    let report = RunReport {
        stop_reason: match runner.stop_reason.clone() {
            Some(StopReason::Other(why)) if why == TIME_LIMIT => {
                StopReason::TimeLimit(started.elapsed().as_secs_f64())
            }
            other => other.unwrap_or(StopReason::Other("not run".into())),
        },
        iterations: runner.iterations.len(),
        egraph_nodes: runner.egraph.total_number_of_nodes(),
        egraph_classes: runner.egraph.number_of_classes(),
        conflicts: runner.egraph.analysis.conflicts,
    };
    let mut best = smallest.to_vec();
    if report.conflicts > 0 {
        return (best, report);
    }
    let extractor = Extractor::new(&runner.egraph, TextbookCost::new(&runner.egraph));
    for (&k, root) in searched.iter().zip(&roots) {
        let (_, found): (_, RecExpr<Math>) = extractor.find_best(runner.egraph.find(*root));
        let found = from_rec_expr(&found);
        // On a tie the extracted form wins: the extraction cost also
        // weighs how much sits inside sums (factored forms first).
        let (f, b) = (rank(&found), rank(&best[k]));
        if (f.0, f.1) <= (b.0, b.1) {
            best[k] = found;
        }
    }
    (best, report)
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
    let (mut before, mut after) = (Vec::new(), Vec::new());
    // Row i of the upper triangle, from column i on, as given.
    let mut upper: Vec<Vec<Expr>> = Vec::with_capacity(n);
    let mut it = many.exprs.into_iter();
    for i in 0..n {
        let mut row = Vec::with_capacity(n - i);
        for (e, b, a) in it.by_ref().take(n - i) {
            row.push(e);
            before.push(b);
            after.push(a);
        }
        upper.push(row);
    }
    // Row i is column i of the rows above it, then its own upper part:
    // every entry built once (a large model's matrix has a million).
    let matrix: Vec<Vec<Expr>> = (0..n)
        .map(|i| {
            let mut row: Vec<Expr> = (0..i)
                .map(|j| upper[j].get(i - j).cloned().unwrap_or_else(Expr::zero))
                .collect();
            row.extend(upper[i].iter().cloned());
            row.resize(n, Expr::zero());
            row
        })
        .collect();
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
            // A simplified log-density can differentiate into something
            // much larger (the log of a product of K sums, from Σ log of
            // them, gives K products of K − 1 sums): then it is no help.
            if cascaded == plain || cascaded.op_count() > 2 * plain.op_count() + 8 {
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
        // The variables any form of this score entry holds: the others'
        // derivatives are 0 without differentiating (most of a large
        // model's Hessian).
        let mut free: Vec<crate::ir::expr::Name> = given
            .iter()
            .chain(std::iter::once(&simple.0))
            .flat_map(Expr::free_vars)
            .collect();
        free.sort();
        free.dedup();
        for p in &params[i..] {
            if free.binary_search_by(|v| (**v).cmp(p.as_ref())).is_err() {
                upper.push(vec![Expr::zero()]);
                continue;
            }
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
