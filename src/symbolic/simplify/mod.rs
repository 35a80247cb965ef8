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
}

impl Default for SimplifyConfig {
    /// Limits that keep a textbook model's score and Hessian well under
    /// 20 ms (see `benches/derive.rs`).
    fn default() -> Self {
        SimplifyConfig {
            iter_limit: 10,
            node_limit: 4_000,
            time_limit: Duration::from_millis(200),
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
    let mut runner: Runner<Math, FactAnalysis> =
        Runner::new(FactAnalysis::new(assumptions.clone()))
            .with_iter_limit(config.iter_limit)
            .with_node_limit(config.node_limit)
            .with_time_limit(config.time_limit);
    let mut roots: Vec<Id> = Vec::with_capacity(es.len());
    for e in es {
        let id = runner.egraph.add_expr(&to_rec_expr(e));
        for seed in seeds(e) {
            let sid = runner.egraph.add_expr(&to_rec_expr(&seed));
            runner.egraph.union(id, sid);
        }
        roots.push(id);
    }
    runner.egraph.rebuild();
    runner.roots = roots.clone();
    let runner = runner.run(&rules());
    if std::env::var("FIMKIT_SIMPLIFY_TRACE").is_ok() {
        for it in &runner.iterations {
            eprintln!(
                "  iter nodes {} classes {} search {:.4} apply {:.4} rebuild {:.4} applied {:?}",
                it.egraph_nodes,
                it.egraph_classes,
                it.search_time,
                it.apply_time,
                it.rebuild_time,
                it.applied
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| format!("{k}:{n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
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
    let exprs = es
        .iter()
        .zip(&roots)
        .map(|(e, root)| {
            let before = e.op_count();
            if report.conflicts > 0 {
                return (e.clone(), before, before);
            }
            let (_, best): (_, RecExpr<Math>) = extractor.find_best(runner.egraph.find(*root));
            let candidate = from_rec_expr(&best);
            let after = candidate.op_count();
            if (after, candidate.size()) < (before, e.size()) {
                (candidate, before, after)
            } else {
                (e.clone(), before, before)
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
    let many = simplify_many(&upper, assumptions, config);
    let mut matrix = vec![vec![Expr::zero(); n]; n];
    let mut it = many.exprs.iter();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in i..n {
            let (e, b, a) = it.next().expect("one result per upper entry");
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
