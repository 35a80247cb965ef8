//! The rewrite rules, as named data: one `rules()` list, one aligned
//! `rw!("family-case"; lhs => rhs if condition)` line each.
//!
//! Families: `add-*`/`mul-*` (algebra), `pow-*`/`abs-*` (powers), `frac-*`
//! (fractions and common denominators), `log-*`/`exp-*`/`sigmoid-*`
//! (exponentials and logarithms), `digamma-*`/`trigamma-*`/`lgamma-*`/
//! `lbeta-*` (special functions).
//!
//! Side conditions read the [`Facts`](super::analysis::Facts) of the
//! matched classes and are conservative: a rule that needs `a > 0` fires
//! only when the assumptions *prove* `a > 0` (egg issue #297: a condition
//! such as "not known to be zero" turns unsound when a zero is merged in
//! later; "proved positive" stays true as facts only ever get sharper).
//! Every rule is an identity wherever its left side is defined and its
//! condition holds; each has a `start => goal` test in
//! `tests/symbolic_rules.rs`.

use super::analysis::{FactAnalysis, MathGraph};
use super::bounds::Bounds;
use super::language::Math;
use egg::{Id, Subst, Var, rewrite as rw};

/// A rewrite of the simplifier.
pub type Rewrite = egg::Rewrite<Math, FactAnalysis>;

type Condition = Box<dyn Fn(&mut MathGraph, Id, &Subst) -> bool + Send + Sync>;

fn var(name: &str) -> Var {
    name.parse().expect("pattern variable")
}

/// Holds when every listed class's bounds satisfy `test`.
fn all(names: &[&str], test: fn(&Bounds) -> bool) -> Condition {
    let vars: Vec<Var> = names.iter().map(|n| var(n)).collect();
    Box::new(move |g, _, s| vars.iter().all(|v| test(&g[s[*v]].data.bounds)))
}

/// The classes are known `> 0`.
fn positive(names: &[&str]) -> Condition {
    all(names, Bounds::is_positive)
}

/// The classes are known `≥ 0`.
fn nonnegative(names: &[&str]) -> Condition {
    all(names, Bounds::is_nonnegative)
}

/// The class is known `≤ 0`.
fn nonpositive(name: &str) -> Condition {
    all(&[name], Bounds::is_nonpositive)
}

/// The classes are known `≠ 0`.
fn nonzero(names: &[&str]) -> Condition {
    all(names, Bounds::is_nonzero)
}

/// The classes are integer constants.
fn int_consts(names: &[&str]) -> Condition {
    let vars: Vec<Var> = names.iter().map(|n| var(n)).collect();
    Box::new(move |g, _, s| {
        vars.iter()
            .all(|v| g[s[*v]].data.value.as_ref().is_some_and(|r| r.is_integer()))
    })
}

/// Either condition.
fn or(a: Condition, b: Condition) -> Condition {
    Box::new(move |g, id, s| a(g, id, s) || b(g, id, s))
}

/// The condition wrapped for `rw!`'s `if` clause.
fn cond(c: Condition) -> impl Fn(&mut MathGraph, Id, &Subst) -> bool {
    move |g, id, s| c(g, id, s)
}

/// Every rule of the simplifier.
#[rustfmt::skip]
pub fn rules() -> Vec<Rewrite> { vec![
    // ----- algebra ------------------------------------------------------
    rw!("add-comm";        "(+ ?a ?b)"                 => "(+ ?b ?a)"),
    rw!("add-assoc";       "(+ ?a (+ ?b ?c))"          => "(+ (+ ?a ?b) ?c)"),
    rw!("add-zero";        "(+ ?a 0)"                  => "?a"),
    rw!("add-cancel";      "(+ ?a (* -1 ?a))"          => "0"),
    rw!("add-double";      "(+ ?a ?a)"                 => "(* 2 ?a)"),
    rw!("mul-comm";        "(* ?a ?b)"                 => "(* ?b ?a)"),
    rw!("mul-assoc";       "(* ?a (* ?b ?c))"          => "(* (* ?a ?b) ?c)"),
    rw!("mul-one";         "(* ?a 1)"                  => "?a"),
    rw!("mul-zero";        "(* ?a 0)"                  => "0"),
    rw!("mul-distribute";  "(* ?a (+ ?b ?c))"          => "(+ (* ?a ?b) (* ?a ?c))"),
    rw!("mul-factor";      "(+ (* ?a ?b) (* ?a ?c))"   => "(* ?a (+ ?b ?c))"),
    rw!("mul-factor-one";  "(+ ?a (* ?a ?c))"          => "(* ?a (+ 1 ?c))"),
    // ----- powers -------------------------------------------------------
    rw!("pow-one";         "(^ ?a 1)"                  => "?a"),
    rw!("pow-zero";        "(^ ?a 0)"                  => "1"),
    rw!("pow-square";      "(* ?a ?a)"                 => "(^ ?a 2)"),
    rw!("pow-unsquare";    "(^ ?a 2)"                  => "(* ?a ?a)"),
    rw!("pow-combine";     "(* (^ ?a ?b) (^ ?a ?c))"   => "(^ ?a (+ ?b ?c))"
        if cond(or(int_consts(&["?b", "?c"]), positive(&["?a"])))),
    rw!("pow-combine-base";"(* ?a (^ ?a ?b))"          => "(^ ?a (+ ?b 1))"
        if cond(or(int_consts(&["?b"]), positive(&["?a"])))),
    rw!("pow-pow";         "(^ (^ ?a ?b) ?c)"          => "(^ ?a (* ?b ?c))"
        if cond(or(int_consts(&["?c"]), positive(&["?a"])))),
    rw!("pow-mul";         "(^ (* ?a ?b) ?c)"          => "(* (^ ?a ?c) (^ ?b ?c))"
        if cond(or(int_consts(&["?c"]), nonnegative(&["?a", "?b"])))),
    rw!("pow-mul-rev";     "(* (^ ?a ?c) (^ ?b ?c))"   => "(^ (* ?a ?b) ?c)"
        if cond(or(int_consts(&["?c"]), nonnegative(&["?a", "?b"])))),
    rw!("pow-sqrt-square"; "(^ (^ ?a 2) 1/2)"          => "?a"
        if cond(nonnegative(&["?a"]))),
    rw!("pow-sqrt-abs";    "(^ (^ ?a 2) 1/2)"          => "(abs ?a)"),
    rw!("abs-nonneg";      "(abs ?a)"                  => "?a"
        if cond(nonnegative(&["?a"]))),
    rw!("abs-nonpos";      "(abs ?a)"                  => "(* -1 ?a)"
        if cond(nonpositive("?a"))),
    // ----- fractions ----------------------------------------------------
    rw!("frac-cancel";     "(* ?a (^ ?a -1))"          => "1"
        if cond(nonzero(&["?a"]))),
    rw!("frac-same-den";   "(+ (* ?a (^ ?c -1)) (* ?b (^ ?c -1)))"
                                                       => "(* (+ ?a ?b) (^ ?c -1))"),
    rw!("frac-add";        "(+ (* ?a (^ ?b -1)) (* ?c (^ ?d -1)))"
                                                       => "(* (+ (* ?a ?d) (* ?c ?b)) (^ (* ?b ?d) -1))"
        if cond(nonzero(&["?b", "?d"]))),
    rw!("frac-add-whole";  "(+ ?a (* ?b (^ ?c -1)))"   => "(* (+ (* ?a ?c) ?b) (^ ?c -1))"
        if cond(nonzero(&["?c"]))),
    rw!("frac-add-recip";  "(+ ?a (^ ?c -1))"          => "(* (+ (* ?a ?c) 1) (^ ?c -1))"
        if cond(nonzero(&["?c"]))),
    // ----- exponentials and logarithms ----------------------------------
    rw!("log-mul";         "(log (* ?a ?b))"           => "(+ (log ?a) (log ?b))"
        if cond(positive(&["?a", "?b"]))),
    rw!("log-add";         "(+ (log ?a) (log ?b))"     => "(log (* ?a ?b))"
        if cond(positive(&["?a", "?b"]))),
    rw!("log-pow";         "(log (^ ?a ?b))"           => "(* ?b (log ?a))"
        if cond(positive(&["?a"]))),
    rw!("log-exp";         "(log (exp ?a))"            => "?a"),
    rw!("exp-log";         "(exp (log ?a))"            => "?a"
        if cond(positive(&["?a"]))),
    rw!("exp-add";         "(exp (+ ?a ?b))"           => "(* (exp ?a) (exp ?b))"),
    rw!("exp-mul";         "(* (exp ?a) (exp ?b))"     => "(exp (+ ?a ?b))"),
    rw!("exp-neg";         "(exp (* -1 ?a))"           => "(^ (exp ?a) -1)"),
    rw!("log-log1p";       "(log1p ?a)"                => "(log (+ 1 ?a))"),
    rw!("exp-expm1";       "(expm1 ?a)"                => "(+ -1 (exp ?a))"),
    rw!("sigmoid-def";     "(sigmoid ?a)"              => "(^ (+ 1 (exp (* -1 ?a))) -1)"),
    rw!("sigmoid-exp";     "(sigmoid ?a)"              => "(* (exp ?a) (^ (+ 1 (exp ?a)) -1))"),
    rw!("sigmoid-reflect"; "(sigmoid (* -1 ?a))"       => "(+ 1 (* -1 (sigmoid ?a)))"),
    rw!("sigmoid-log";     "(log (sigmoid ?a))"        => "(* -1 (log1p (exp (* -1 ?a))))"),
    rw!("sigmoid-prime";   "(* (sigmoid ?a) (sigmoid (* -1 ?a)))"
                                                       => "(* (exp ?a) (^ (+ 1 (exp ?a)) -2))"),
    rw!("sigmoid-unprime"; "(* (exp ?a) (^ (+ 1 (exp ?a)) -2))"
                                                       => "(* (sigmoid ?a) (sigmoid (* -1 ?a)))"),
    // ----- special functions --------------------------------------------
    rw!("digamma-step";    "(polygamma 0 (+ 1 ?x))"    => "(+ (polygamma 0 ?x) (^ ?x -1))"
        if cond(positive(&["?x"]))),
    rw!("digamma-unstep";  "(+ (polygamma 0 ?x) (^ ?x -1))" => "(polygamma 0 (+ 1 ?x))"
        if cond(positive(&["?x"]))),
    rw!("trigamma-step";   "(polygamma 1 (+ 1 ?x))"    => "(+ (polygamma 1 ?x) (* -1 (^ ?x -2)))"
        if cond(positive(&["?x"]))),
    rw!("trigamma-unstep"; "(+ (polygamma 1 ?x) (* -1 (^ ?x -2)))" => "(polygamma 1 (+ 1 ?x))"
        if cond(positive(&["?x"]))),
    rw!("lgamma-step";     "(lgamma (+ 1 ?x))"         => "(+ (lgamma ?x) (log ?x))"
        if cond(positive(&["?x"]))),
    rw!("lgamma-unstep";   "(+ (lgamma ?x) (log ?x))"  => "(lgamma (+ 1 ?x))"
        if cond(positive(&["?x"]))),
    rw!("lbeta-def";       "(lbeta ?a ?b)"             => "(+ (lgamma ?a) (+ (lgamma ?b) (* -1 (lgamma (+ ?a ?b)))))"
        if cond(positive(&["?a", "?b"]))),
    rw!("lbeta-comm";      "(lbeta ?a ?b)"             => "(lbeta ?b ?a)"),
]}

/// The rules, built once (parsing the patterns costs about as much as a
/// small saturation run).
pub(crate) fn rule_set() -> &'static [Rewrite] {
    static RULES: std::sync::OnceLock<Vec<Rewrite>> = std::sync::OnceLock::new();
    RULES.get_or_init(rules)
}

/// The names of every rule, in order.
pub fn rule_names() -> Vec<String> {
    rules().iter().map(|r| r.name.to_string()).collect()
}
