//! Hessians through a few linear forms: the numeric linear engine.
//!
//! Many log-densities depend on θ only through a few linear forms
//! `η_i = a_iᵀθ + c_i` whose coefficients `a_i` are data (a GLM's linear
//! predictor `η = zᵀβ`). With `logp = g(η_1, …, η_m)`:
//!
//! ```text
//! ∇ logp = Σ_i g_i a_i,      ∇² logp = Σ_ij g_ij a_i a_jᵀ
//! ```
//!
//! so second-order dual numbers are needed in only `m` directions, not
//! `d`. The forms are the model's structure's
//! ([`crate::structure::forms::row_forms`]): the log-density written in
//! η is compiled to a tape whose parameters are the η, and each
//! coefficient and offset to a plain (data-only) register of it. Per row
//! the data-only instructions run in `f64`, each η is one dot product of
//! θ with its gathered coefficient row, and `g` runs with `Dual2SVec<m>`
//! (a scalar `Dual2` for one form, and for a block of rows at once in
//! [`LinearHessian::forms_block`]). Used when `m ≤ 4` and `m < d`.
//!
//! For one form (a GLM), `g`, `g′` and `g″` are differentiated
//! symbolically and compiled into one tape with η as a data column, when
//! that has no more instructions than the duals' three numbers per
//! instruction: per row plain `f64`, and over a block the block
//! evaluator's loops, where `σ(η)`, `σ(−η)`, `log σ(±η)` share one
//! exponential and one logarithm. A row it cannot compute (an instruction
//! fails, a result is not finite) is computed by the duals, which name
//! the failure. The logistic sum of issue 18 went from 0.9× to 1.6× the
//! hand-written Rust (BENCHMARKS.md).
//!
//! ```
//! use fimkit::ir::{Expr, Name};
//! use fimkit::numeric::linear::LinearHessian;
//! // log p = y·η − log(1 + exp(η)), η = b0 + b1·z
//! let eta = Expr::var("b0") + Expr::var("b1") * Expr::var("z");
//! let logp = Expr::var("y") * eta.clone() - Expr::log(Expr::one() + Expr::exp(eta));
//! let params: Vec<Name> = vec!["b0".into(), "b1".into(), "b2".into()];
//! let inputs: Vec<Name> = vec!["y".into(), "z".into()];
//! let lh = LinearHessian::new(&logp, &params, &inputs).unwrap().expect("one form");
//! assert_eq!(lh.forms(), 1);
//! ```

use super::SpecialFunctions;
use super::compiled::{
    Arg, BlockWorkspace, CompileError, Instr, Operand, Tape, exec, load_column, run_registers,
    single_dual,
};
use super::eval::EvalError;
use super::lower::{Fun, Op};
use crate::ir::expr::{Expr, Name};
use crate::structure::forms::{MAX_FORMS, RowForms};
use num_dual::DualNum;

/// The linear-form Hessians of a log-density.
#[derive(Clone, Debug)]
pub struct LinearHessian {
    /// The log-density in η (output 0; its parameters the η), and each
    /// coefficient and offset (plain outputs).
    tape: Tape,
    /// Its dual instructions in execution order.
    nonlin: Vec<Instr>,
    /// Number of forms.
    m: usize,
    /// Number of parameters θ.
    n_params: usize,
    /// The log-density's register.
    output: Operand,
    /// `a_ik = plain[coef[i·d + k]]` (the register past the tape's, 0,
    /// for a coefficient the form lacks).
    coef: Vec<u32>,
    /// `η_i = Σ_k θ_k a_ik + plain[offset[i]]`, when there is an offset.
    offset: Vec<Option<u32>>,
    /// For one form, `g` and its derivatives compiled symbolically, when
    /// that is cheaper than the duals.
    eta: Option<EtaTape>,
}

/// One form's log-density `g(η)` and its first two derivatives,
/// differentiated symbolically ([`super::derivatives`]) and compiled into
/// one tape whose data are the rows' then η: per row plain `f64`
/// instructions, not second-order duals, and over a block of rows the
/// block evaluator's loops ([`Tape::run_block`]).
#[derive(Clone, Debug)]
struct EtaTape {
    /// Outputs `g`, `g′`, `g″`; data columns the rows' inputs, then η.
    tape: Tape,
    /// The rows' columns it reads.
    cols: Vec<usize>,
    /// The data-only instructions of the coefficients and offset (a
    /// slice of the log-density tape's), for a block.
    coef_row: Vec<Instr>,
}

impl EtaTape {
    /// The tape of `forms` (one form) over rows of `inputs`, when it has no
    /// more instructions per row than `budget` (the duals' cost).
    fn new(
        forms: &RowForms,
        inputs: &[Name],
        lh_tape: &Tape,
        needed: &[u32],
        budget: usize,
    ) -> Option<EtaTape> {
        let [eta] = &forms.eta[..] else { return None };
        let exprs = super::derivatives::derivatives(&forms.logp, std::slice::from_ref(eta))?;
        let mut data = inputs.to_vec();
        data.push(eta.clone());
        let no_params: [&str; 0] = [];
        let tape = Tape::compile(&exprs, &no_params, &data).ok()?;
        if tape.instruction_counts().0 > budget {
            return None;
        }
        let cols = tape
            .data_read()
            .into_iter()
            .filter(|&c| c < inputs.len())
            .collect();
        Some(EtaTape {
            cols,
            coef_row: slice_of(&lh_tape.plain_row, needed),
            tape,
        })
    }

    /// One row: its data then η in `regs` (the tape's plain registers), the
    /// value, `g′` and `g″`, or `None` when an instruction fails or a result
    /// is not finite.
    fn row(&self, data: &[f64], eta: f64, regs: &mut [f64]) -> Option<(f64, f64, f64)> {
        let w = data.len();
        regs[..w].copy_from_slice(data);
        regs[w] = eta;
        self.tape.run_plain_row(regs).ok()?;
        let get = |k: usize| match self.tape.outputs[k] {
            Operand::Plain(r) => regs[r as usize],
            Operand::Dual(_) => f64::NAN,
        };
        let (v, g, h) = (get(0), get(1), get(2));
        (v.is_finite() && g.is_finite() && h.is_finite()).then_some((v, g, h))
    }

    /// [`EtaTape::row`] for the rows of `x` (row-major, `w` values a row)
    /// whose forms are `etas`, over a block: the values and derivatives
    /// into `out`; `false` when an instruction fails or a result is not
    /// finite. The same operations as row by row, so the same numbers.
    fn block(
        &self,
        x: &[f64],
        w: usize,
        etas: &[f64],
        ws: &mut BlockWorkspace,
        (value, grad, hess): (&mut [f64], &mut [f64], &mut [f64]),
    ) -> bool {
        let (tape, n) = (&self.tape, etas.len());
        for &c in &self.cols {
            load_column(&mut tape.block_data_mut(ws, c)[..n], x, w, c);
        }
        tape.block_data_mut(ws, w)[..n].copy_from_slice(etas);
        if tape.run_block(n, ws).is_err() {
            return false;
        }
        let mut finite = true;
        for (k, out) in [value, grad, hess].into_iter().enumerate() {
            out.copy_from_slice(&tape.block_output(ws, k)[..n]);
            finite &= out.iter().fold(true, |ok, v| ok & v.is_finite());
        }
        finite
    }
}

/// The instructions of `list` (in order) that the registers `needed`
/// depend on.
fn slice_of(list: &[Instr], needed: &[u32]) -> Vec<Instr> {
    let mut want: std::collections::HashSet<u32> = needed.iter().copied().collect();
    let mut kept: Vec<Instr> = Vec::new();
    for ins in list.iter().rev() {
        let Operand::Plain(dst) = ins.dst else {
            continue;
        };
        if want.contains(&dst) {
            for o in [ins.a, ins.b] {
                if let Operand::Plain(r) = o {
                    want.insert(r);
                }
            }
            kept.push(*ins);
        }
    }
    kept.reverse();
    kept
}

/// Run data-only instructions over the first `n` rows of register-major
/// columns of `b` rows each; `false` when one fails.
fn run_plain_block(list: &[Instr], plain: &mut [f64], n: usize, b: usize) -> bool {
    use Operand::{Dual as Dl, Plain as Pl};
    for ins in list {
        let Pl(dst) = ins.dst else { continue };
        let dst = dst as usize * b;
        let get = |p: &[f64], o: Operand, i: usize| match o {
            Pl(r) => p[r as usize * b + i],
            Dl(_) => f64::NAN,
        };
        for i in 0..n {
            let (u, v) = (get(plain, ins.a, i), get(plain, ins.b, i));
            plain[dst + i] = match ins.op {
                Op::Add => u + v,
                Op::Mul => u * v,
                op => match exec::<f64>(op, Arg::P(u), Arg::P(v)) {
                    Ok(y) => y,
                    Err(_) => return false,
                },
            };
        }
    }
    true
}

/// A function of one second-order dual that [`exec`] computes by calling
/// it, for [`LinearHessian::forms_block`] to call without the dispatch.
fn direct(f: Fun) -> Option<fn(&num_dual::Dual2_64) -> num_dual::Dual2_64> {
    type D = num_dual::Dual2_64;
    Some(match f {
        Fun::Log => |x: &D| x.ln(),
        Fun::Exp => |x: &D| x.exp(),
        Fun::Log1p => |x: &D| x.ln_1p(),
        Fun::Sigmoid => |x: &D| x.sigmoid(),
        Fun::LogSigmoid => |x: &D| x.log_sigmoid(),
        Fun::Lgamma => |x: &D| x.lgamma(),
        _ => return None,
    })
}

/// Rows per block of [`LinearHessian::forms_block`] (its registers stay
/// in the L2 cache).
pub const FORMS_BLOCK: usize = 128;

/// Registers for [`LinearHessian::forms_block`]: every register for a
/// block of rows, register-major (register `r` of row `i` at
/// `r·FORMS_BLOCK + i`), and the block's results.
#[derive(Clone, Debug)]
pub struct FormsBlock {
    /// The data columns read other than as a form's coefficient (those are
    /// read from the rows as they are): copied register-major.
    cols: Vec<usize>,
    plain: Vec<f64>,
    duals: Vec<num_dual::Dual2_64>,
    /// The η-tape's registers, when there is one.
    eta: Option<BlockWorkspace>,
    /// Each row's value.
    pub value: Vec<f64>,
    /// Each row's derivative in its form.
    pub grad: Vec<f64>,
    /// Each row's second derivative in its form.
    pub hess: Vec<f64>,
}

/// Registers for [`LinearHessian::eval_row`].
#[derive(Clone, Debug)]
pub struct LinearWorkspace {
    plain: Vec<f64>,
    /// The forms' values.
    eta: [f64; 4],
    /// The coefficient rows `a_1..a_m`.
    dense: Vec<f64>,
    duals: Duals,
    /// The η-tape's registers, when there is one.
    eta_regs: Vec<f64>,
}

#[derive(Clone, Debug)]
enum Duals {
    /// One form: scalar second-order duals.
    M1(Vec<num_dual::Dual2_64>),
    M2(Vec<num_dual::Dual2SVec64<2>>),
    M3(Vec<num_dual::Dual2SVec64<3>>),
    M4(Vec<num_dual::Dual2SVec64<4>>),
}

impl LinearHessian {
    /// The linear engine of `logp` in `params` over rows of `inputs`, when
    /// θ enters through between 1 and 4 linear forms, fewer than the
    /// parameters.
    pub fn new(
        logp: &Expr,
        params: &[Name],
        inputs: &[Name],
    ) -> Result<Option<LinearHessian>, CompileError> {
        match crate::structure::forms::row_forms(logp, params) {
            Some(forms) => LinearHessian::from_forms(&forms, params.len(), inputs),
            None => Ok(None),
        }
    }

    /// The engine for `forms` (of `n_params` parameters) over rows of
    /// `inputs`; `None` for more than 4 forms or not fewer than the
    /// parameters.
    pub fn from_forms(
        forms: &RowForms,
        n_params: usize,
        inputs: &[Name],
    ) -> Result<Option<LinearHessian>, CompileError> {
        let m = forms.forms.len();
        if m == 0 || m > MAX_FORMS || m >= n_params {
            return Ok(None);
        }
        let mut outputs = vec![forms.logp.clone()];
        let mut slots: Vec<Option<usize>> = Vec::new();
        for f in &forms.forms {
            for c in f.coeffs.iter().chain([&f.offset]) {
                if c.is_zero() {
                    slots.push(None);
                } else {
                    slots.push(Some(outputs.len()));
                    outputs.push(c.clone());
                }
            }
        }
        let tape = Tape::compile(&outputs, &forms.eta, inputs)?;
        let zero = tape.plain_init.len() as u32;
        let mut regs = Vec::with_capacity(slots.len());
        for s in slots {
            regs.push(match s {
                None => None,
                Some(k) => match tape.outputs[k] {
                    Operand::Plain(r) => Some(r),
                    // A coefficient holds no η.
                    Operand::Dual(_) => return Ok(None),
                },
            });
        }
        let (mut coef, mut offset) = (Vec::with_capacity(m * n_params), Vec::with_capacity(m));
        for row in regs.chunks(n_params + 1) {
            coef.extend(row[..n_params].iter().map(|r| r.unwrap_or(zero)));
            offset.push(row[n_params]);
        }
        let nonlin: Vec<Instr> = tape
            .dual_param
            .iter()
            .chain(&tape.dual_row)
            .copied()
            .collect();
        let output = tape.outputs[0];
        let eta = if m == 1 {
            let needed: Vec<u32> = coef
                .iter()
                .copied()
                .chain(offset.iter().flatten().copied())
                .collect();
            // A scalar second-order dual is three numbers.
            let budget = tape.plain_row.len() + 3 * nonlin.len();
            EtaTape::new(forms, inputs, &tape, &needed, budget)
        } else {
            None
        };
        Ok(Some(LinearHessian {
            tape,
            nonlin,
            m,
            n_params,
            output,
            coef,
            offset,
            eta,
        }))
    }
    /// Number of linear forms (dual directions used per row).
    pub fn forms(&self) -> usize {
        self.m
    }

    /// Fresh registers.
    pub fn workspace(&self) -> LinearWorkspace {
        let tape = &self.tape;
        let n = tape.n_dual;
        let m = self.m;
        let duals = match m {
            1 => Duals::M1(vec![num_dual::Dual2_64::from_re(0.0); n]),
            2 => Duals::M2(vec![num_dual::Dual2SVec64::<2>::from_re(0.0); n]),
            3 => Duals::M3(vec![num_dual::Dual2SVec64::<3>::from_re(0.0); n]),
            _ => Duals::M4(vec![num_dual::Dual2SVec64::<4>::from_re(0.0); n]),
        };
        // One more plain register: 0, a coefficient the form lacks.
        let mut plain = tape.plain_init.clone();
        plain.push(0.0);
        let eta_regs = self
            .eta
            .as_ref()
            .map_or(Vec::new(), |e| e.tape.plain_init.clone());
        LinearWorkspace {
            plain,
            eta: [0.0; 4],
            dense: vec![0.0; m * self.n_params],
            duals,
            eta_regs,
        }
    }

    /// Value of output 0 at `params` for one data row; its gradient into
    /// `grad` (length d) and Hessian into `hess` (d×d, row-major). A
    /// non-finite value or derivative is an error.
    pub fn eval_row(
        &self,
        tape: &Tape,
        params: &[f64],
        data: &[f64],
        ws: &mut LinearWorkspace,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Result<f64, EvalError> {
        let (value, g, h) = self.forms_row(tape, params, data, ws)?;
        self.chain(&ws.dense, &g, &h, grad, hess);
        Ok(value)
    }

    /// One data row in the forms' coordinates: the value, its gradient
    /// `g[..m]` and Hessian `h` (`h[i·4 + j]`, `i, j < m`) with respect
    /// to the forms `η_1..η_m`, and each form's coefficient row `a_i` in
    /// [`LinearHessian::coefficient_rows`]. The row's gradient in θ is
    /// `Σ g_i a_i` and its Hessian `Σ_ij h_ij a_i a_jᵀ`. A non-finite
    /// value or derivative is an error.
    pub fn forms_row(
        &self,
        tape: &Tape,
        params: &[f64],
        data: &[f64],
        ws: &mut LinearWorkspace,
    ) -> Result<(f64, [f64; 4], [f64; 16]), EvalError> {
        self.tape.eval_plain_row(data, &mut ws.plain)?;
        // Coefficient rows gathered, forms by one dot product each.
        let d = self.n_params;
        let plain = &ws.plain;
        for i in 0..self.m {
            let row = &mut ws.dense[i * d..(i + 1) * d];
            let mut eta = 0.0;
            for ((a, &c), t) in row
                .iter_mut()
                .zip(&self.coef[i * d..(i + 1) * d])
                .zip(params)
            {
                *a = plain[c as usize];
                eta += t * *a;
            }
            if let Some(o) = self.offset[i] {
                eta += plain[o as usize];
            }
            ws.eta[i] = eta;
        }
        // The η-tape, or when it fails the duals (which name the failure).
        if let Some(et) = &self.eta
            && let Some((v, g, h)) = et.row(data, ws.eta[0], &mut ws.eta_regs)
        {
            let (mut gs, mut hs) = ([0.0; 4], [0.0; 16]);
            (gs[0], hs[0]) = (g, h);
            return Ok((v, gs, hs));
        }
        self.nonlinear_part(tape, params, data, ws)
    }

    /// Registers for [`LinearHessian::forms_block`]: for one form whose
    /// coefficients are plain registers (the usual GLM), else `None`.
    pub fn block_workspace(&self) -> Option<FormsBlock> {
        if self.m != 1 || !matches!(self.output, Operand::Dual(_)) {
            return None;
        }
        let tape = &self.tape;
        let b = FORMS_BLOCK;
        let mut init = tape.plain_init.clone();
        init.push(0.0);
        let mut plain = vec![0.0; init.len() * b];
        for (r, &v) in init.iter().enumerate() {
            plain[r * b..(r + 1) * b].fill(v);
        }
        // Data columns read by the data-only or nonlinear instructions
        // (with an η-tape, those of the coefficients), or as a form's
        // offset.
        let w = tape.data.len();
        let list: &[Instr] = match &self.eta {
            Some(et) => &et.coef_row,
            None => &tape.plain_row,
        };
        let nonlin: &[Instr] = if self.eta.is_some() {
            &[]
        } else {
            &self.nonlin
        };
        let mut cols: Vec<usize> = (list.iter().chain(nonlin))
            .flat_map(|ins| [ins.a, ins.b])
            .filter_map(|o| match o {
                Operand::Plain(r) => Some(r as usize),
                Operand::Dual(_) => None,
            })
            .chain(self.offset.iter().flatten().map(|&r| r as usize))
            .filter(|&r| r < w)
            .collect();
        cols.sort_unstable();
        cols.dedup();
        Some(FormsBlock {
            cols,
            plain,
            duals: vec![num_dual::Dual2_64::from_re(0.0); tape.n_dual * b],
            eta: self.eta.as_ref().map(|e| e.tape.block_workspace(b)),
            value: vec![0.0; b],
            grad: vec![0.0; b],
            hess: vec![0.0; b],
        })
    }

    /// [`LinearHessian::forms_row`] for `n ≤ FORMS_BLOCK` rows at once
    /// (`x` row-major, `w` values a row), one instruction over every row
    /// before the next: each row's value and first two derivatives in
    /// its form into `blk`, its coefficient row into `a[i·d..]`. The same
    /// operations in the same order as row by row, so the same numbers.
    /// `false` when some row fails or is not finite: run
    /// [`LinearHessian::forms_row`] row by row for the first failure.
    pub fn forms_block(
        &self,
        params: &[f64],
        x: &[f64],
        n: usize,
        w: usize,
        blk: &mut FormsBlock,
        a: &mut [f64],
    ) -> bool {
        use Operand::{Dual as Dl, Plain as Pl};
        const B: usize = FORMS_BLOCK;
        let Operand::Dual(out) = self.output else {
            return false;
        };
        debug_assert!(n <= B && self.m == 1);
        let plain = &mut blk.plain;
        for &c in &blk.cols {
            load_column(&mut plain[c * B..c * B + n], x, w, c);
        }
        let list = self
            .eta
            .as_ref()
            .map_or(&self.tape.plain_row, |e| &e.coef_row);
        if !run_plain_block(list, plain, n, B) {
            return false;
        }
        // The form: coefficients gathered, η by one dot product, as in
        // [`LinearHessian::eval_row`].
        let d = self.n_params;
        let (coef, offset) = (&self.coef[..d], self.offset[0]);
        let mut etas = [0.0; B];
        for (i, e) in etas[..n].iter_mut().enumerate() {
            let (row, xi) = (&mut a[i * d..(i + 1) * d], &x[i * w..(i + 1) * w]);
            let mut eta = 0.0;
            for ((ak, &c), t) in row.iter_mut().zip(coef).zip(params) {
                let c = c as usize;
                *ak = if c < w { xi[c] } else { plain[c * B + i] };
                eta += t * *ak;
            }
            if let Some(o) = offset {
                eta += plain[o as usize * B + i];
            }
            *e = eta;
        }
        if let (Some(et), Some(ws)) = (&self.eta, &mut blk.eta) {
            let out = (&mut blk.value[..n], &mut blk.grad[..n], &mut blk.hess[..n]);
            return et.block(x, w, &etas[..n], ws, out);
        }
        // η is the first dual register.
        let duals = &mut blk.duals;
        for (dl, &eta) in duals.iter_mut().zip(&etas[..n]) {
            *dl = num_dual::Dual2_64::from_re(eta).derivative();
        }
        for ins in &self.nonlin {
            let Dl(dst) = ins.dst else { continue };
            let dst = dst as usize * B;
            let reg = |o: Operand| match o {
                Pl(r) | Dl(r) => r as usize * B,
            };
            let (ra, rb) = (reg(ins.a), reg(ins.b));
            match (ins.op, ins.a, ins.b) {
                (Op::Add, Dl(_), Dl(_)) => {
                    for i in 0..n {
                        duals[dst + i] = duals[ra + i] + duals[rb + i];
                    }
                }
                (Op::Add, Dl(_), Pl(_)) => {
                    for i in 0..n {
                        duals[dst + i] = duals[ra + i] + plain[rb + i];
                    }
                }
                (Op::Add, Pl(_), Dl(_)) => {
                    for i in 0..n {
                        duals[dst + i] = duals[rb + i] + plain[ra + i];
                    }
                }
                (Op::Mul, Dl(_), Dl(_)) => {
                    for i in 0..n {
                        duals[dst + i] = duals[ra + i] * duals[rb + i];
                    }
                }
                (Op::Mul, Dl(_), Pl(_)) => {
                    for i in 0..n {
                        duals[dst + i] = duals[ra + i] * plain[rb + i];
                    }
                }
                (Op::Mul, Pl(_), Dl(_)) => {
                    for i in 0..n {
                        duals[dst + i] = duals[rb + i] * plain[ra + i];
                    }
                }
                // The usual link and family functions: called directly, the
                // same functions `exec` calls.
                (Op::Call(f), Dl(_), Dl(_)) if ra == rb && direct(f).is_some() => {
                    let Some(fun) = direct(f) else { return false };
                    for i in 0..n {
                        duals[dst + i] = fun(&duals[ra + i]);
                    }
                }
                (op, oa, ob) => {
                    for i in 0..n {
                        let v = {
                            let get = |o: Operand, r: usize| match o {
                                Pl(_) => Arg::P(plain[r + i]),
                                Dl(_) => Arg::D(&duals[r + i]),
                            };
                            exec(op, get(oa, ra), get(ob, rb))
                        };
                        match v {
                            Ok(v) => duals[dst + i] = v,
                            Err(_) => return false,
                        }
                    }
                }
            }
        }
        let out = out as usize * B;
        for i in 0..n {
            let o = duals[out + i];
            if !(o.re.is_finite() && o.v1.is_finite() && o.v2.is_finite()) {
                return false;
            }
            (blk.value[i], blk.grad[i], blk.hess[i]) = (o.re, o.v1, o.v2);
        }
        true
    }

    /// The coefficient rows `a_1..a_m` (`m × d`, row-major) of the row
    /// last evaluated by [`LinearHessian::forms_row`].
    pub fn coefficient_rows<'w>(&self, ws: &'w LinearWorkspace) -> &'w [f64] {
        &ws.dense[..self.m * self.n_params]
    }

    /// The nonlinear part: value, gradient and Hessian in the forms.
    fn nonlinear_part(
        &self,
        tape: &Tape,
        params: &[f64],
        data: &[f64],
        ws: &mut LinearWorkspace,
    ) -> Result<(f64, [f64; 4], [f64; 16]), EvalError> {
        let (value, g, h) = match &mut ws.duals {
            Duals::M1(v) => self.nonlinear1(v, &mut ws.plain, &ws.eta)?,
            Duals::M2(v) => self.nonlinear::<2>(v, &mut ws.plain, &ws.eta)?,
            Duals::M3(v) => self.nonlinear::<3>(v, &mut ws.plain, &ws.eta)?,
            Duals::M4(v) => self.nonlinear::<4>(v, &mut ws.plain, &ws.eta)?,
        };
        if !value.is_finite() {
            return Err(tape.explain_at(0, params, data, value));
        }
        let m = self.m;
        if let Some(bad) = g[..m]
            .iter()
            .chain(&h[..])
            .copied()
            .find(|v| !v.is_finite())
        {
            return Err(EvalError::NonFinite {
                expr: format!("derivatives of {}", super::eval::describe(&tape.exprs[0])),
                value: bad,
            });
        }
        Ok((value, g, h))
    }

    /// The chain rule through the forms: θ's gradient `Σ g_i a_i` and
    /// Hessian `Aᵀ H A` from the forms' `g`, `h` and rows `a`.
    fn chain(&self, a: &[f64], g: &[f64; 4], h: &[f64; 16], grad: &mut [f64], hess: &mut [f64]) {
        let (d, m) = (self.n_params, self.m);
        grad.fill(0.0);
        for i in 0..m {
            let gi = g[i];
            for (gk, ak) in grad.iter_mut().zip(&a[i * d..(i + 1) * d]) {
                *gk += gi * ak;
            }
        }
        // H = Aᵀ Hm A, row by row: row k = Σ_j c_kj a_j, c_k = Σ_i a_ik Hm_ij.
        if m == 1 {
            let h00 = h[0];
            for k in 0..d {
                let c = h00 * a[k];
                for (hk, al) in hess[k * d..(k + 1) * d].iter_mut().zip(&a[..d]) {
                    *hk = c * al;
                }
            }
        } else {
            for k in 0..d {
                let row = &mut hess[k * d..(k + 1) * d];
                row.fill(0.0);
                for j in 0..m {
                    let c: f64 = (0..m).map(|i| a[i * d + k] * h[i * 4 + j]).sum();
                    for (hk, al) in row.iter_mut().zip(&a[j * d..(j + 1) * d]) {
                        *hk += c * al;
                    }
                }
            }
        }
    }

    /// [`LinearHessian::nonlinear`] for one form, with scalar duals.
    fn nonlinear1(
        &self,
        regs: &mut [num_dual::Dual2_64],
        plain: &mut [f64],
        eta: &[f64; 4],
    ) -> Result<(f64, [f64; 4], [f64; 16]), EvalError> {
        regs[0] = num_dual::Dual2_64::from_re(eta[0]).derivative();
        run_registers(&self.nonlin, plain, regs, |_, _, _, _, _| None)?;
        let out = match self.output {
            Operand::Dual(r) => regs[r as usize],
            Operand::Plain(r) => num_dual::Dual2_64::from(plain[r as usize]),
        };
        let mut g = [0.0; 4];
        let mut h = [0.0; 16];
        g[0] = out.v1;
        h[0] = out.v2;
        Ok((out.re, g, h))
    }

    /// Run the nonlinear instructions with `M` dual directions, one per
    /// form; returns value, g (M) and H (M×M, stride 4).
    fn nonlinear<const M: usize>(
        &self,
        regs: &mut [num_dual::Dual2SVec64<M>],
        plain: &mut [f64],
        eta: &[f64; 4],
    ) -> Result<(f64, [f64; 4], [f64; 16]), EvalError> {
        use nalgebra::{Const, U1};
        type D<const M: usize> = num_dual::Dual2SVec64<M>;
        for (i, r) in regs.iter_mut().enumerate().take(M) {
            *r = D::<M>::from_re(eta[i]).derivative(i);
        }
        // A function of one dual register: its value and first two
        // derivatives with a scalar second-order dual, then the chain rule
        // in M directions.
        let chain = |op, a, b, plain: &[f64], regs: &[D<M>]| {
            let r = single_dual(a, b)?;
            let x = regs[r as usize];
            let seed = num_dual::Dual2_64::from_re(x.re).derivative();
            let get = |o: Operand| match o {
                Operand::Plain(p) => Arg::P(plain[p as usize]),
                Operand::Dual(_) => Arg::D(&seed),
            };
            Some(exec(op, get(a), get(b)).map(|f: num_dual::Dual2_64| {
                D::<M>::new(f.re, x.v1 * f.v1, x.v2 * f.v1 + x.v1.tr_mul(&x.v1) * f.v2)
            }))
        };
        run_registers(&self.nonlin, plain, regs, chain)?;
        let out = match self.output {
            Operand::Dual(r) => regs[r as usize],
            Operand::Plain(r) => D::<M>::from(plain[r as usize]),
        };
        let gv = out.v1.unwrap_generic(U1, Const::<M>);
        let hv = out.v2.unwrap_generic(Const::<M>, Const::<M>);
        let mut g = [0.0; 4];
        let mut h = [0.0; 16];
        for i in 0..M {
            g[i] = gv[i];
            for j in 0..M {
                h[i * 4 + j] = hv[(i, j)];
            }
        }
        Ok((out.re, g, h))
    }
}
