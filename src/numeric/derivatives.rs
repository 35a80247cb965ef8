//! Symbolic derivatives compiled once, evaluated a block of rows at a
//! time: the row engine of a model with no exploitable structure (a
//! nonlinear regression such as a pharmacokinetic curve).
//!
//! The dense engine carries a second-order dual number through every
//! instruction of the log-density: `1 + d + d²` numbers per instruction
//! per row, one row at a time. Here the log-density, its `d` first
//! derivatives and its `d(d+1)/2` second derivatives are differentiated
//! symbolically ([`crate::symbolic::diff`]) and compiled into one tape
//! ([`Tape`]): what they share (an `exp(-ke·t)` in the value, the score
//! and the Hessian) is computed once, what depends on θ only is hoisted,
//! and each remaining instruction runs in plain `f64` over a block of rows
//! ([`Tape::eval_block`]), a loop the compiler vectorizes. The numbers are
//! the same derivatives as the duals' (exact, not finite differences),
//! rounded differently.
//!
//! Used when it is cheaper by a simple count: at most [`MAX_PARAMS`]
//! parameters, and the derivative tape has no more instructions per row
//! than the dense engine's dual tape times `1 + d + d²`. A block whose
//! instructions fail or whose outputs are not finite is rerun by the
//! dense engine, which then names the failing row as before.
//!
//! ```
//! use fimkit::ir::{Expr, Name};
//! use fimkit::numeric::derivatives::DerivativeTape;
//! // log p = −(y − exp(−k·t))²/2
//! let (y, k, t) = (Expr::var("y"), Expr::var("k"), Expr::var("t"));
//! let logp = -Expr::powi(y - Expr::exp(-(k * t)), 2) / Expr::int(2);
//! let params: Vec<Name> = vec!["k".into()];
//! let inputs: Vec<Name> = vec!["y".into(), "t".into()];
//! let dt = DerivativeTape::new(&logp, &params, &inputs, usize::MAX).expect("compiles");
//! let mut ws = dt.workspace(&[0.0]).unwrap();
//! let (mut v, mut g, mut h) = ([0.0; 1], [0.0; 1], [0.0; 1]);
//! // y = 1, t = 2 at k = 0: value 0, score −(y − 1)·t = 0, Hessian −t² = −4.
//! dt.eval_block(&[1.0, 2.0], 1, &mut ws, &mut v, &mut g, &mut h).unwrap();
//! assert_eq!((v[0], g[0], h[0]), (0.0, 0.0, -4.0));
//! ```

use super::compiled::{BlockWorkspace, Tape};
use super::eval::EvalError;
use crate::ir::expr::{Expr, Name};
use crate::symbolic::diff;

/// Most parameters for which second derivatives are compiled one by one
/// (`d(d+1)/2` of them).
pub const MAX_PARAMS: usize = 8;

/// Largest log-density (in expression nodes) that is differentiated, and
/// its deepest nesting: a tree's derivatives copy what they nest in, so
/// their size grows with the depth (a chain of 95 `exp(sin(…))` has a
/// score of 18,000 nodes and a Hessian of millions).
const MAX_SIZE: usize = 2000;
const MAX_DEPTH: usize = 20;

/// Most nodes of the score and of the Hessian per node of the log-density
/// (the corpus's largest: 9 and 50, a probit regression), beyond a
/// constant: past them the derivatives are not worth compiling.
const SCORE_GROWTH: usize = 40;
const HESSIAN_GROWTH: usize = 200;

/// Most rows per block: each instruction's loop runs over this many rows,
/// so its dispatch is paid once per block (a PK model's 130 registers of
/// 128 rows take 130 kB, in L2). Measured on the PK bench: 64 rows gave
/// 21–23 M rows/s summed, 128 and 256 gave 28–31.
pub const BLOCK_ROWS: usize = 128;

/// Depth of an expression tree.
fn depth(e: &Expr) -> usize {
    match e {
        Expr::Pow(b, x) => 1 + depth(b).max(depth(x)),
        _ => 1 + e.children().iter().map(depth).max().unwrap_or(0),
    }
}

/// `logp`, its derivatives in `vars` and the upper triangle of its second
/// derivatives, row by row, symbolically; `None` when `logp` or its
/// derivatives are too large to be worth compiling (the bounds above).
pub(crate) fn derivatives(logp: &Expr, vars: &[Name]) -> Option<Vec<Expr>> {
    let (d, size) = (vars.len(), logp.size());
    if size > MAX_SIZE || depth(logp) > MAX_DEPTH {
        return None;
    }
    let score: Vec<Expr> = vars.iter().map(|p| diff(logp, p)).collect();
    let mut total: usize = score.iter().map(Expr::size).sum();
    if total > SCORE_GROWTH * size + 2000 {
        return None;
    }
    let mut exprs = Vec::with_capacity(1 + d + d * (d + 1) / 2);
    exprs.push(logp.clone());
    exprs.extend(score.iter().cloned());
    for (i, gi) in score.iter().enumerate() {
        for p in &vars[i..] {
            let h = diff(gi, p);
            total += h.size();
            if total > HESSIAN_GROWTH * size + 8000 {
                return None;
            }
            exprs.push(h);
        }
    }
    Some(exprs)
}

/// The log-density, its score and its Hessian compiled into one tape.
#[derive(Clone, Debug)]
pub struct DerivativeTape {
    /// Output 0 the log-density, 1..=d the score, then the Hessian's upper
    /// triangle row by row.
    tape: Tape,
    d: usize,
}

/// A [`DerivativeTape`]'s registers for one θ.
#[derive(Clone, Debug)]
pub struct DerivativeWorkspace {
    block: BlockWorkspace,
}

impl DerivativeWorkspace {
    /// Most rows a block may hold.
    pub fn capacity(&self) -> usize {
        self.block.capacity()
    }
}

impl DerivativeTape {
    /// Differentiate `logp` twice in `params` and compile the lot, or
    /// `None` when that is not worth it: more than [`MAX_PARAMS`]
    /// parameters, a log-density too large to differentiate, or more than
    /// `budget` instructions per row (the caller's cost of the dense
    /// engine) or a compile error.
    pub fn new(
        logp: &Expr,
        params: &[Name],
        inputs: &[Name],
        budget: usize,
    ) -> Option<DerivativeTape> {
        let d = params.len();
        if d == 0 || d > MAX_PARAMS {
            return None;
        }
        let exprs = derivatives(logp, params)?;
        let tape = Tape::compile(&exprs, params, inputs).ok()?;
        let (plain, _, per_row) = tape.instruction_counts();
        (plain + per_row <= budget).then_some(DerivativeTape { tape, d })
    }

    /// Instructions per row (data-only and parameter-dependent).
    pub fn instructions(&self) -> usize {
        let (plain, _, per_row) = self.tape.instruction_counts();
        plain + per_row
    }

    /// Registers for blocks of up to [`BLOCK_ROWS`] rows at `theta`
    /// (what depends on θ only is computed here). Fails as the dense
    /// engine's set-up does (a parameter outside a function's domain).
    pub fn workspace(&self, theta: &[f64]) -> Result<DerivativeWorkspace, EvalError> {
        let mut block = self.tape.block_workspace(BLOCK_ROWS);
        self.tape.set_block_params(theta, &mut block)?;
        Ok(DerivativeWorkspace { block })
    }

    /// `n ≤ BLOCK_ROWS` rows of the tape's inputs (row-major in `x`):
    /// values into `v[..n]`, scores into `g[..n·d]` and Hessians (full,
    /// d×d, symmetric) into `h[..n·d²]`. Fails, with nothing to say about
    /// which row, when an instruction fails or an output is not finite.
    pub fn eval_block(
        &self,
        x: &[f64],
        n: usize,
        ws: &mut DerivativeWorkspace,
        v: &mut [f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<(), EvalError> {
        let (tape, d) = (&self.tape, self.d);
        let dd = d * d;
        tape.eval_block_unchecked(x, n, &mut ws.block)?;
        let ws = &ws.block;
        // Output by output, down the rows (a block's outputs are columns):
        // the value, the score's entries, the Hessian's upper triangle and
        // its mirror; every output checked finite once, in its column.
        let mut finite = true;
        let mut column = |k: usize, out: &mut [f64], stride: usize, at: &[usize]| {
            let col = &tape.block_output(ws, k)[..n];
            finite &= col.iter().fold(true, |ok, x| ok & x.is_finite());
            for &j in at {
                for (o, &c) in out[j..].iter_mut().step_by(stride).zip(col) {
                    *o = c;
                }
            }
        };
        column(0, v, 1, &[0]);
        for k in 0..d {
            column(1 + k, g, d, &[k]);
        }
        let mut out = 1 + d;
        for k in 0..d {
            for l in k..d {
                let mirror = [k * d + l, l * d + k];
                column(out, h, dd, if k == l { &mirror[..1] } else { &mirror });
                out += 1;
            }
        }
        if !finite {
            return Err(EvalError::NonFinite {
                expr: "a block of rows".into(),
                value: f64::NAN,
            });
        }
        Ok(())
    }
}
