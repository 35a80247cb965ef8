//! One `start => goal` test per rewrite rule: each rule, run alone, must
//! prove its case (so every rule fires and does what its name says), and
//! the domain-conditioned rules must *not* fire where their condition is
//! not proved.

use egg::{RecExpr, Runner};
use fimkit::symbolic::simplify::{
    Assumptions, Bounds, FactAnalysis, Math, Rewrite, rule_names, rules,
};

/// Variables of the cases: `s`, `t` positive, `p` in (0, 1), `n` negative,
/// anything else real.
fn assumptions() -> Assumptions {
    Assumptions::new()
        .with("s", Bounds::positive())
        .with("t", Bounds::positive())
        .with("p", Bounds::unit())
        .with("n", Bounds::negative())
}

/// `(rule, start, goal)`.
#[rustfmt::skip]
const CASES: &[(&str, &str, &str)] = &[
    ("add-comm",         "(+ x y)",                              "(+ y x)"),
    ("add-assoc",        "(+ x (+ y z))",                        "(+ (+ x y) z)"),
    ("add-zero",         "(+ x 0)",                              "x"),
    ("add-cancel",       "(+ x (* -1 x))",                       "0"),
    ("add-double",       "(+ x x)",                              "(* 2 x)"),
    ("mul-comm",         "(* x y)",                              "(* y x)"),
    ("mul-assoc",        "(* x (* y z))",                        "(* (* x y) z)"),
    ("mul-one",          "(* x 1)",                              "x"),
    ("mul-zero",         "(* x 0)",                              "0"),
    ("mul-distribute",   "(* x (+ y z))",                        "(+ (* x y) (* x z))"),
    ("mul-factor",       "(+ (* x y) (* x z))",                  "(* x (+ y z))"),
    ("mul-factor-one",   "(+ x (* x z))",                        "(* x (+ 1 z))"),
    ("pow-one",          "(^ x 1)",                              "x"),
    ("pow-zero",         "(^ x 0)",                              "1"),
    ("pow-square",       "(* x x)",                              "(^ x 2)"),
    ("pow-unsquare",     "(^ x 2)",                              "(* x x)"),
    ("pow-combine",      "(* (^ x 2) (^ x -3))",                 "(^ x -1)"),
    ("pow-combine",      "(* (^ s a) (^ s b))",                  "(^ s (+ a b))"),
    ("pow-combine-base", "(* x (^ x 2))",                        "(^ x 3)"),
    ("pow-pow",          "(^ (^ s a) b)",                        "(^ s (* a b))"),
    ("pow-pow",          "(^ (^ x 1/2) 2)",                      "(^ x 1)"),
    ("pow-mul",          "(^ (* x y) 2)",                        "(* (^ x 2) (^ y 2))"),
    ("pow-mul",          "(^ (* s p) 1/2)",                      "(* (^ s 1/2) (^ p 1/2))"),
    ("pow-mul-rev",      "(* (^ x -1) (^ y -1))",                "(^ (* x y) -1)"),
    ("pow-sqrt-square",  "(^ (^ s 2) 1/2)",                      "s"),
    ("pow-sqrt-abs",     "(^ (^ x 2) 1/2)",                      "(abs x)"),
    ("abs-nonneg",       "(abs (exp x))",                        "(exp x)"),
    ("abs-nonpos",       "(abs n)",                              "(* -1 n)"),
    ("frac-cancel",      "(* s (^ s -1))",                       "1"),
    ("frac-cancel",      "(* (exp x) (^ (exp x) -1))",           "1"),
    ("frac-same-den",    "(+ (* x (^ s -1)) (* y (^ s -1)))",    "(* (+ x y) (^ s -1))"),
    ("frac-add",         "(+ (* x (^ s -1)) (* y (^ p -1)))",    "(* (+ (* x p) (* y s)) (^ (* s p) -1))"),
    ("frac-add-whole",   "(+ x (* y (^ s -1)))",                 "(* (+ (* x s) y) (^ s -1))"),
    ("frac-add-recip",   "(+ x (^ s -1))",                       "(* (+ (* x s) 1) (^ s -1))"),
    ("log-mul",          "(log (* s p))",                        "(+ (log s) (log p))"),
    ("log-add",          "(+ (log s) (log (+ 1 s)))",            "(log (* s (+ 1 s)))"),
    ("log-pow",          "(log (^ s x))",                        "(* x (log s))"),
    ("log-pow",          "(log (^ (+ 1 p) -1))",                 "(* -1 (log (+ 1 p)))"),
    ("log-exp",          "(log (exp x))",                        "x"),
    ("exp-log",          "(exp (log s))",                        "s"),
    ("exp-add",          "(exp (+ x y))",                        "(* (exp x) (exp y))"),
    ("exp-mul",          "(* (exp x) (exp y))",                  "(exp (+ x y))"),
    ("exp-neg",          "(exp (* -1 x))",                       "(^ (exp x) -1)"),
    ("log-log1p",        "(log1p x)",                            "(log (+ 1 x))"),
    ("exp-expm1",        "(expm1 x)",                            "(+ -1 (exp x))"),
    ("sigmoid-def",      "(sigmoid x)",                          "(^ (+ 1 (exp (* -1 x))) -1)"),
    ("sigmoid-exp",      "(sigmoid x)",                          "(* (exp x) (^ (+ 1 (exp x)) -1))"),
    ("sigmoid-reflect",  "(sigmoid (* -1 x))",                   "(+ 1 (* -1 (sigmoid x)))"),
    ("sigmoid-log",      "(log (sigmoid x))",                    "(* -1 (log1p (exp (* -1 x))))"),
    ("sigmoid-prime",    "(* (sigmoid x) (sigmoid (* -1 x)))",   "(* (exp x) (^ (+ 1 (exp x)) -2))"),
    ("sigmoid-unprime",  "(* (exp x) (^ (+ 1 (exp x)) -2))",     "(* (sigmoid x) (sigmoid (* -1 x)))"),
    ("digamma-step",     "(polygamma 0 (+ 1 s))",                "(+ (polygamma 0 s) (^ s -1))"),
    ("digamma-unstep",   "(+ (polygamma 0 s) (^ s -1))",         "(polygamma 0 (+ 1 s))"),
    ("trigamma-step",    "(polygamma 1 (+ 1 s))",                "(+ (polygamma 1 s) (* -1 (^ s -2)))"),
    ("trigamma-unstep",  "(+ (polygamma 1 s) (* -1 (^ s -2)))",  "(polygamma 1 (+ 1 s))"),
    ("lgamma-step",      "(lgamma (+ 1 s))",                     "(+ (lgamma s) (log s))"),
    ("lgamma-unstep",    "(+ (lgamma s) (log s))",               "(lgamma (+ 1 s))"),
    ("lbeta-def",        "(lbeta s t)",                          "(+ (lgamma s) (+ (lgamma t) (* -1 (lgamma (+ s t)))))"),
    ("lbeta-comm",       "(lbeta x y)",                          "(lbeta y x)"),
];

/// `(rule, start, not a goal)`: the condition is not proved, so the rule
/// must leave the two apart.
#[rustfmt::skip]
const BLOCKED: &[(&str, &str, &str)] = &[
    ("pow-sqrt-square",  "(^ (^ x 2) 1/2)",       "x"),
    ("pow-pow",          "(^ (^ x 2) 1/2)",       "(^ x 1)"),
    ("pow-pow",          "(^ (^ x a) b)",         "(^ x (* a b))"),
    ("pow-mul",          "(^ (* x y) 1/2)",       "(* (^ x 1/2) (^ y 1/2))"),
    ("pow-combine",      "(* (^ x a) (^ x b))",   "(^ x (+ a b))"),
    ("abs-nonneg",       "(abs x)",               "x"),
    ("abs-nonpos",       "(abs x)",               "(* -1 x)"),
    ("frac-cancel",      "(* x (^ x -1))",        "1"),
    ("log-mul",          "(log (* x y))",         "(+ (log x) (log y))"),
    ("log-mul",          "(log (* s n))",         "(+ (log s) (log n))"),
    ("log-pow",          "(log (^ x 2))",         "(* 2 (log x))"),
    ("exp-log",          "(exp (log x))",         "x"),
    ("lgamma-step",      "(lgamma (+ 1 x))",      "(+ (lgamma x) (log x))"),
    ("digamma-step",     "(polygamma 0 (+ 1 n))", "(+ (polygamma 0 n) (^ n -1))"),
    ("frac-add",         "(+ (* a (^ x -1)) (* b (^ y -1)))", "(* (+ (* a y) (* b x)) (^ (* x y) -1))"),
];

fn rule(name: &str) -> Rewrite {
    rules()
        .into_iter()
        .find(|r| r.name.as_str() == name)
        .unwrap_or_else(|| panic!("no rule named {name}"))
}

/// Run one rule on `start` and `goal`; are they in one e-class afterwards?
fn proves(name: &str, start: &str, goal: &str) -> bool {
    let start: RecExpr<Math> = start.parse().expect("start parses");
    let goal: RecExpr<Math> = goal.parse().expect("goal parses");
    let runner: Runner<Math, FactAnalysis> = Runner::new(FactAnalysis::new(assumptions()))
        .with_iter_limit(3)
        .with_node_limit(2_000)
        .with_expr(&start)
        .with_expr(&goal)
        .run(&[rule(name)]);
    assert_eq!(
        runner.egraph.analysis.conflicts, 0,
        "{name}: constant conflict"
    );
    runner.egraph.find(runner.roots[0]) == runner.egraph.find(runner.roots[1])
}

#[test]
fn every_rule_proves_its_case() {
    let failed: Vec<String> = CASES
        .iter()
        .filter(|(name, start, goal)| !proves(name, start, goal))
        .map(|(name, start, goal)| format!("{name}: {start} => {goal}"))
        .collect();
    assert!(
        failed.is_empty(),
        "rules that did not prove their case:\n{}",
        failed.join("\n")
    );
}

#[test]
fn conditioned_rules_stay_off_without_proof() {
    let fired: Vec<String> = BLOCKED
        .iter()
        .filter(|(name, start, goal)| proves(name, start, goal))
        .map(|(name, start, goal)| format!("{name}: {start} => {goal}"))
        .collect();
    assert!(
        fired.is_empty(),
        "rules that fired without their condition:\n{}",
        fired.join("\n")
    );
}

#[test]
fn every_rule_has_a_case() {
    let missing: Vec<String> = rule_names()
        .into_iter()
        .filter(|n| !CASES.iter().any(|(c, _, _)| c == n))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a start => goal case: {missing:?}"
    );
    let mut names = rule_names();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "rule names are unique");
}

#[test]
fn the_full_rule_set_runs_deterministically() {
    let start: RecExpr<Math> = "(+ (* y (^ p -1)) (* -1 (* (+ 1 (* -1 y)) (^ (+ 1 (* -1 p)) -1))))"
        .parse()
        .unwrap();
    let run = || {
        let r: Runner<Math, FactAnalysis> = Runner::new(FactAnalysis::new(assumptions()))
            .with_iter_limit(6)
            .with_node_limit(3_000)
            .with_expr(&start)
            .run(&rules());
        (
            r.egraph.total_number_of_nodes(),
            r.egraph.number_of_classes(),
            r.iterations.len(),
        )
    };
    assert_eq!(run(), run());
}
