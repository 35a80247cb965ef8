//! Budgets and size limits: unrolled items, inlined nodes, the size of
//! exact constants and of coefficients, the depth of formulas.

use super::*;

impl Resolver {
    /// Count unrolled items; report once when the budget is exceeded.
    pub(super) fn spend(&mut self, n: usize, span: Span) -> Res<()> {
        self.unrolled = self.unrolled.saturating_add(n);
        if self.unrolled > self.config.max_unrolled {
            if !self.budget_reported {
                self.budget_reported = true;
                let max = self.config.max_unrolled;
                self.error(
                    Diagnostic::error("E0123", "model is too large to unroll", span, "unrolling this goes past the limit")
                        .with_help(format!("indexed declarations, loops and sums may unroll to at most {max} items in total")),
                );
            }
            return Err(());
        }
        Ok(())
    }

    /// Adding (or multiplying) terms combines their exact numeric
    /// coefficients. Bound the size of the result before doing it, so that,
    /// say, `sum(k in 1..20000, x/(1e300 + k))` is refused instead of
    /// building a 20-million-bit rational.
    ///
    /// For a sum of coefficients p_k/q_k with L = lcm(q_k), the result is
    /// (Σ p_k·L/q_k)/L, so it has at most
    /// 2·bits(L) + max(bits(p_k) − bits(q_k)) + bits(n) + 1 bits. L is
    /// tracked exactly for denominators that fit in 64 bits (one pass over
    /// L per term) and bounded by adding bits for larger ones. Each exact
    /// addition also costs about the square of that size (the gcd that
    /// reduces the fraction), so the sum of squares is bounded too: a sum
    /// of thousands of fractions with different denominators is refused
    /// rather than left to run for minutes. For a product the bound is the
    /// sum of all the coefficients' bits.
    pub(super) fn check_coefficient_growth<'e>(
        &mut self,
        terms: impl Iterator<Item = (&'e Expr, Span)>,
        product: bool,
    ) -> Res<()> {
        /// The coefficients added into one like term.
        #[derive(Default)]
        struct Group {
            lcm_small: Option<num_bigint::BigUint>,
            big_denom_bits: u64,
            count: u64,
            max_excess: i64,
        }
        let max = self.config.max_constant_bits;
        let mut groups: std::collections::BTreeMap<Expr, Group> = Default::default();
        let mut product_bits = 0u64;
        let mut work = 0f64;
        let max_work = 12.0 * (max as f64) * (max as f64);
        for (term, span) in terms {
            let mut stack = vec![term];
            while let Some(t) = stack.pop() {
                // The numeric coefficient, and (for sums) the rest of the
                // term: only like terms have their coefficients added.
                let (c, rest) = match t {
                    Expr::Add(xs) if !product => {
                        stack.extend(xs.iter());
                        continue;
                    }
                    Expr::Mul(xs) if product => {
                        stack.extend(xs.iter());
                        continue;
                    }
                    Expr::Num(r) => (r, None),
                    Expr::Mul(xs) => match xs.split_first() {
                        Some((Expr::Num(r), rest)) => (r, Some(rest)),
                        _ => continue,
                    },
                    _ => continue,
                };
                let bits = if product {
                    product_bits = product_bits.saturating_add(rational_bits(c));
                    product_bits
                } else {
                    let key = match rest {
                        None => Expr::one(),
                        Some([one]) => one.clone(),
                        Some(many) => Expr::Mul(many.into()),
                    };
                    let g = groups.entry(key).or_default();
                    g.count += 1;
                    let (p, q) = (c.numer().bits(), c.denom().bits());
                    g.max_excess = g.max_excess.max(p as i64 - q as i64);
                    let lcm = g.lcm_small.get_or_insert_with(num_bigint::BigUint::one);
                    match c.denom().magnitude().to_u64() {
                        Some(d) if d > 1 => {
                            let r = (&*lcm % d).to_u64().unwrap_or(0);
                            let gcd = num_integer::Integer::gcd(&r, &d);
                            *lcm *= d / gcd;
                        }
                        Some(_) => {}
                        None => g.big_denom_bits = g.big_denom_bits.saturating_add(q),
                    }
                    let l = lcm.bits().saturating_add(g.big_denom_bits);
                    let b =
                        (2 * l) as i64 + g.max_excess + i64::from(64 - g.count.leading_zeros()) + 1;
                    let (b, count) = (b.max(0) as u64, g.count);
                    // Adding into the group costs about the square of its size.
                    if count > 1 {
                        work += (b as f64) * (b as f64);
                    }
                    if work > max_work {
                        self.error(
                            Diagnostic::error(
                                "E0108",
                                "too many fractions with different denominators to add exactly",
                                span,
                                format!("the exact sum reaches about {b} bits after {count} terms"),
                            )
                            .with_help("adding many fractions exactly builds ever larger denominators; use a closed form (such as digamma for harmonic numbers), fewer terms, or decimals with a common denominator"),
                        );
                        return Err(());
                    }
                    b
                };
                if bits > max {
                    return self.check_constant_bits(bits, span);
                }
            }
        }
        Ok(())
    }

    /// Count the nodes copied by inlining a `let`; report once past the limit.
    pub(super) fn spend_inlined(&mut self, v: &Value, name: &str, span: Span) -> Res<()> {
        let size = match v {
            Value::Scalar(e) => e.size(),
            Value::Vector(xs) => xs.iter().map(Expr::size).sum(),
        };
        self.inlined = self.inlined.saturating_add(size);
        if self.inlined > self.config.max_inlined_nodes {
            if !self.inline_reported {
                self.inline_reported = true;
                let max = self.config.max_inlined_nodes;
                self.error(
                    Diagnostic::error(
                        "E0125",
                        "the model grows too large when `let` bindings are inlined",
                        span,
                        format!("this use of `{name}` copies {size} nodes"),
                    )
                    .with_help(format!("every use of a let binding copies its definition, and uses of lets may copy at most {max} nodes in total; a let that uses the previous let several times doubles the size at each step")),
                );
            }
            return Err(());
        }
        Ok(())
    }

    /// Refuse exact arithmetic whose result would exceed the constant size
    /// limit. `bits` estimates the result's size.
    pub(super) fn check_constant_bits(&mut self, bits: u64, span: Span) -> Res<()> {
        let max = self.config.max_constant_bits;
        if bits > max {
            self.error(
                Diagnostic::error(
                    "E0108",
                    "exact constant too large",
                    span,
                    format!("about {bits} bits"),
                )
                .with_help(format!("constants are exact rationals of at most {max} bits (about {} digits); write the quantity with log or exp, or rescale it", max * 3 / 10)),
            );
            return Err(());
        }
        Ok(())
    }

    // ------------------------------------------------------------ declarations
}

/// Deepest nesting of a lowered formula (after `let` bindings are inlined).
/// Later stages recurse over formulas, so their depth stays bounded.
pub(super) const MAX_EXPR_DEPTH: usize = 1000;

/// Depth of a formula whose parts are already bounded by [`MAX_EXPR_DEPTH`].
pub(super) fn expr_depth(e: &Expr) -> usize {
    match e {
        Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => 1,
        Expr::Add(xs) | Expr::Mul(xs) | Expr::Call(_, xs) => {
            1 + xs.iter().map(expr_depth).max().unwrap_or(0)
        }
        Expr::Pow(b, x) => 1 + expr_depth(b).max(expr_depth(x)),
    }
}

/// Size of the exact power `b^e` (bits of the numerator plus the
/// denominator, as [`rational_bits`] counts them), from logarithms: 2^131000
/// has 131,001 bits. 0 for a base 0 or ±1.
pub(super) fn power_bits(b: &Rational, e: &Rational) -> u64 {
    if b.is_zero() || b.abs().is_one() {
        return 0;
    }
    fn log2(x: &num_bigint::BigInt) -> f64 {
        let bits = x.bits();
        let shift = bits.saturating_sub(64);
        let top = (x.magnitude() >> shift).to_f64().unwrap_or(f64::MAX);
        top.log2() + shift as f64
    }
    let e = e.to_f64().unwrap_or(f64::INFINITY).abs();
    let part = |x: &num_bigint::BigInt| {
        let v = (e * log2(x)).floor();
        if v.is_finite() && v < 1e18 {
            v as u64 + 1
        } else {
            u64::MAX / 4
        }
    };
    (part(b.numer()) + part(b.denom())).saturating_sub(1)
}

/// Size of an exact rational: bits of the numerator plus the denominator.
pub(super) fn rational_bits(r: &Rational) -> u64 {
    r.numer().bits() + r.denom().bits() - 1
}
