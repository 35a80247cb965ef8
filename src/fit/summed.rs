//! A fit whose sums over the rows are made elsewhere: every quantity a fit
//! needs from the data (ℓ, its gradient, the expected and the observed
//! information, the design Gram matrix, the number of rows) is a sum over
//! rows, so a dataset split into parts (the partitions of a Dask
//! DataFrame, each on its own machine) is fitted by asking each part for
//! its sums ([`Problem::part_sums`]) and adding them. [`Summed`] is the
//! [`Objective`] over those totals; [`fit_summed`] runs the very fit of
//! [`super::fit`] on it (same iteration, line search, restart, checks of
//! the end point and standard errors), so the numbers equal a fit of the
//! whole dataset up to the order of the additions.
//!
//! What needs the rows themselves is not available: the separation probe
//! (a fit on the 0/1 design) — a separated dataset still fails, through
//! the unbounded-trajectory check, with the same explanation — and the
//! deviance (a saturated and a null fit); the result has no deviance.

use super::error::FitError;
use super::objective::{InformationKind, Objective, Problem, separation_words};
use super::optimize::{FitConfig, Method};
use super::result::FitResult;
use crate::ir::expr::Name;
use crate::numeric::domain::Interval;
use nalgebra::{DMatrix, DVector};
use std::sync::Mutex;

/// What one pass over the data is asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// `ℓ(θ)`.
    pub loglik: bool,
    /// `∇ℓ(θ)`, the total score.
    pub gradient: bool,
    /// The expected information (or its stand-in, see
    /// [`InformationKind`]).
    pub expected: bool,
    /// The observed information `−∇²ℓ(θ)`.
    pub observed: bool,
    /// The unweighted design Gram matrix (linear-form models).
    pub gram: bool,
}

impl Want {
    /// Both requests at once.
    pub fn or(self, other: Want) -> Want {
        Want {
            loglik: self.loglik || other.loglik,
            gradient: self.gradient || other.gradient,
            expected: self.expected || other.expected,
            observed: self.observed || other.observed,
            gram: self.gram || other.gram,
        }
    }
}

/// Sums over some rows: what was asked for, `None` otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct PartSums {
    /// Rows summed over.
    pub n_rows: usize,
    /// `Σ log p(x_i; θ)`.
    pub loglik: Option<f64>,
    /// `Σ ∇ log p(x_i; θ)`.
    pub gradient: Option<DVector<f64>>,
    /// The expected information summed over the rows.
    pub expected: Option<DMatrix<f64>>,
    /// `−Σ ∇² log p(x_i; θ)`.
    pub observed: Option<DMatrix<f64>>,
    /// `Σ_k A_kᵀ A_k` over the rows (linear-form models only).
    pub gram: Option<DMatrix<f64>>,
}

impl Problem {
    /// This problem's sums at θ, as a part of a larger dataset (see the
    /// module docs): the same functions a fit of this dataset calls.
    pub fn part_sums(&self, theta: &DVector<f64>, want: Want) -> Result<PartSums, FitError> {
        let (loglik, gradient) = if want.gradient {
            let (v, g) = self.loglik_gradient(theta)?;
            (Some(v), Some(g))
        } else if want.loglik {
            (Some(self.loglik(theta)?), None)
        } else {
            (None, None)
        };
        let expected = match want.expected {
            true => Some(self.expected_information(theta)?),
            false => None,
        };
        let observed = match want.observed {
            true => Some(self.observed_information(theta)?),
            false => None,
        };
        let gram = match want.gram {
            true => self.design_gram(),
            false => None,
        };
        Ok(PartSums {
            n_rows: self.n_rows(),
            loglik,
            gradient,
            expected,
            observed,
            gram,
        })
    }
}

/// Where the totals come from: every part's [`Problem::part_sums`] at θ,
/// added (in a fixed order, so that a fit is reproducible).
pub trait SumSource: Sync {
    /// The totals over the whole dataset.
    fn sums(&self, theta: &DVector<f64>, want: Want) -> Result<PartSums, FitError>;
}

/// The [`Objective`] of a dataset in parts: what does not depend on the
/// data (names, domains, start, the kind of information) from `template`,
/// a [`Problem`] of the same model over no rows (or any rows); every sum
/// from `source`. The last pass is kept, so the expected information at
/// the point whose gradient was just computed costs no second pass.
pub struct Summed<'a> {
    template: &'a Problem,
    source: &'a dyn SumSource,
    n_rows: usize,
    gram: Option<DMatrix<f64>>,
    /// Asked for with every gradient: what the next step needs at the
    /// same point (the information the method steps with).
    prefetch: Want,
    last: Mutex<Option<(DVector<f64>, PartSums)>>,
}

impl<'a> Summed<'a> {
    /// One pass for the number of rows and (linear-form models) the design
    /// Gram matrix; `method` decides which information comes with each
    /// gradient.
    pub fn new(
        template: &'a Problem,
        source: &'a dyn SumSource,
        method: Method,
    ) -> Result<Summed<'a>, FitError> {
        let linear = Problem::design_gram(template).is_some();
        let first = source.sums(
            &template.default_start(),
            Want {
                gram: linear,
                ..Want::default()
            },
        )?;
        if linear && first.gram.is_none() {
            return Err(FitError::Config(
                "the parts did not give the design's Gram matrix".into(),
            ));
        }
        let prefetch = match method {
            Method::Newton => Want {
                observed: true,
                ..Want::default()
            },
            Method::GradientDescent => Want::default(),
            Method::FisherScoring | Method::Natural => Want {
                expected: true,
                ..Want::default()
            },
        };
        Ok(Summed {
            template,
            source,
            n_rows: first.n_rows,
            gram: first.gram,
            prefetch,
            last: Mutex::new(None),
        })
    }

    /// The kept pass at θ, when it has what `pick` takes.
    fn kept<T>(&self, theta: &DVector<f64>, pick: impl Fn(&PartSums) -> Option<T>) -> Option<T> {
        let last = self.last.lock().ok()?;
        let (at, sums) = last.as_ref()?;
        (at == theta).then(|| pick(sums)).flatten()
    }

    fn pass(&self, theta: &DVector<f64>, want: Want) -> Result<PartSums, FitError> {
        self.check(theta)?;
        let sums = self.source.sums(theta, want)?;
        let missing = |what: &str| FitError::Config(format!("the parts did not give {what}"));
        if want.loglik && sums.loglik.is_none() {
            return Err(missing("the log-likelihood"));
        }
        if want.gradient && sums.gradient.as_ref().map(|g| g.len()) != Some(self.dim()) {
            return Err(missing("the gradient"));
        }
        let square = |m: &Option<DMatrix<f64>>| {
            m.as_ref().map(|m| m.shape()) == Some((self.dim(), self.dim()))
        };
        if (want.expected && !square(&sums.expected)) || (want.observed && !square(&sums.observed))
        {
            return Err(missing("the information"));
        }
        if let Ok(mut last) = self.last.lock() {
            *last = Some((theta.clone(), sums.clone()));
        }
        Ok(sums)
    }
}

impl Objective for Summed<'_> {
    fn dim(&self) -> usize {
        self.template.dim()
    }

    fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn param_names(&self) -> Vec<Name> {
        self.template.param_names()
    }

    fn check(&self, theta: &DVector<f64>) -> Result<(), FitError> {
        self.template.check(theta)
    }

    fn loglik(&self, theta: &DVector<f64>) -> Result<f64, FitError> {
        if let Some(v) = self.kept(theta, |s| s.loglik) {
            return Ok(v);
        }
        let want = Want {
            loglik: true,
            ..Want::default()
        };
        Ok(self.pass(theta, want)?.loglik.unwrap_or(f64::NAN))
    }

    fn loglik_gradient(&self, theta: &DVector<f64>) -> Result<(f64, DVector<f64>), FitError> {
        if let Some(vg) = self.kept(theta, |s| Some((s.loglik?, s.gradient.clone()?))) {
            return Ok(vg);
        }
        let want = Want {
            loglik: true,
            gradient: true,
            ..Want::default()
        };
        let s = self.pass(theta, want.or(self.prefetch))?;
        Ok((s.loglik.unwrap_or(f64::NAN), s.gradient.unwrap_or_default()))
    }

    fn expected_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        if let Some(i) = self.kept(theta, |s| s.expected.clone()) {
            return Ok(i);
        }
        let want = Want {
            expected: true,
            ..Want::default()
        };
        Ok(self.pass(theta, want)?.expected.unwrap_or_default())
    }

    fn observed_information(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>, FitError> {
        if let Some(i) = self.kept(theta, |s| s.observed.clone()) {
            return Ok(i);
        }
        let want = Want {
            observed: true,
            ..Want::default()
        };
        Ok(self.pass(theta, want)?.observed.unwrap_or_default())
    }

    fn information_kind(&self) -> InformationKind {
        self.template.information_kind()
    }

    fn default_start(&self) -> DVector<f64> {
        self.template.default_start()
    }

    fn explain_unbounded(&self, far: &DVector<f64>) -> Option<String> {
        if !self.template.binary_response() {
            return None;
        }
        Some(separation_words(self.loglik(far).ok()?))
    }

    fn bounds(&self) -> Vec<Interval> {
        self.template.bounds()
    }

    fn model_name(&self) -> String {
        self.template.model_name()
    }

    fn column_labels(&self) -> Vec<String> {
        self.template.column_labels()
    }

    fn design_gram(&self) -> Option<DMatrix<f64>> {
        self.gram.clone()
    }
}

/// Fit a dataset in parts: `template` is a [`Problem`] of the model (over
/// no rows will do), `source` adds the parts' sums. The fit of
/// [`super::fit`], step for step (see the module docs for what it
/// cannot check).
pub fn fit_summed(
    template: &Problem,
    source: &dyn SumSource,
    config: &FitConfig,
) -> Result<FitResult, FitError> {
    let summed = Summed::new(template, source, config.method)?;
    super::fit_objective(&summed, config, &mut |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::DataSchema;

    const LOGISTIC: &str = "param b0 : real\nparam b1 : real\ncovariate x : real\ndata y : {0, 1}\n\
                            y ~ bernoulli(sigmoid(b0 + b1 * x))\n";
    const GAMMA: &str = "param k : positive\nparam s : positive\ndata y : positive\n\
                         y ~ gamma(k, s)\n";

    /// A dataset cut into parts of `sizes` rows (CSV text per part).
    struct Parts {
        parts: Vec<Problem>,
        passes: std::sync::atomic::AtomicUsize,
    }

    impl SumSource for Parts {
        fn sums(&self, theta: &DVector<f64>, want: Want) -> Result<PartSums, FitError> {
            self.passes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut total: Option<PartSums> = None;
            for p in &self.parts {
                let s = p.part_sums(theta, want)?;
                total = Some(match total {
                    None => s,
                    Some(t) => PartSums {
                        n_rows: t.n_rows + s.n_rows,
                        loglik: t.loglik.zip(s.loglik).map(|(a, b)| a + b),
                        gradient: t.gradient.zip(s.gradient).map(|(a, b)| a + b),
                        expected: t.expected.zip(s.expected).map(|(a, b)| a + b),
                        observed: t.observed.zip(s.observed).map(|(a, b)| a + b),
                        gram: t.gram.zip(s.gram).map(|(a, b)| a + b),
                    },
                });
            }
            Ok(total.expect("at least one part"))
        }
    }

    /// A problem over CSV text; a header alone is a part with no rows.
    fn problem(model: &crate::ir::model::Model, csv: &str) -> Problem {
        let schema = DataSchema::from_model(model);
        let data = match csv.trim_end().contains('\n') {
            true => schema.read_csv(csv.as_bytes()).unwrap(),
            false => schema.dataset_from_rows(Vec::new()).unwrap(),
        };
        Problem::new(model, data).unwrap()
    }

    /// The whole fit against the fit in parts (one of them empty).
    fn compare(src: &str, header: &str, rows: &[String], method: Method) {
        let model = crate::load(src, "m").unwrap();
        let csv = |rs: &[String]| format!("{header}\n{}\n", rs.join("\n"));
        let whole = problem(&model, &csv(rows));
        let config = FitConfig {
            method,
            ..FitConfig::default()
        };
        let a = super::super::fit(&whole, &config).unwrap();
        let cut = rows.len() / 3;
        let parts = Parts {
            parts: vec![
                problem(&model, &csv(&rows[..cut])),
                problem(&model, &format!("{header}\n")),
                problem(&model, &csv(&rows[cut..])),
            ],
            passes: Default::default(),
        };
        let template = problem(&model, &format!("{header}\n"));
        let b = fit_summed(&template, &parts, &config).unwrap();
        assert!(a.converged() && b.converged());
        assert_eq!(a.iterations, b.iterations);
        assert_eq!(a.n_rows, b.n_rows);
        assert_eq!(a.information, b.information);
        assert_eq!(a.columns, b.columns);
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * (1.0 + x.abs());
        assert!(close(a.loglik, b.loglik), "{} {}", a.loglik, b.loglik);
        for i in 0..a.estimates.len() {
            assert!(close(a.estimates[i], b.estimates[i]));
            let (sa, sb) = (a.std_errors[i].unwrap(), b.std_errors[i].unwrap());
            assert!(close(sa, sb), "{sa} {sb}");
            let (oa, ob) = (
                a.std_errors_observed[i].unwrap(),
                b.std_errors_observed[i].unwrap(),
            );
            assert!(close(oa, ob));
        }
        // One pass per step when the full step is taken (Fisher scoring):
        // the information comes with the gradient (two a step without).
        // The rest: the first pass, halvings, the observed information and
        // the boundary checks at the end.
        if method == Method::FisherScoring {
            let passes = parts.passes.load(std::sync::atomic::Ordering::Relaxed);
            assert!(
                passes <= a.iterations + 8 && passes < 2 * a.iterations,
                "{passes} passes, {} iterations",
                a.iterations
            );
        }
    }

    fn logistic_rows() -> Vec<String> {
        (0..60)
            .map(|i| {
                let x = (i as f64 * 0.37).sin() * 2.0;
                let y = u8::from((i * 7919 % 13) as f64 / 13.0 < 1.0 / (1.0 + (-x).exp()));
                format!("{x},{y}")
            })
            .collect()
    }

    #[test]
    fn a_logistic_regression_in_parts_is_the_whole_fit() {
        for method in [Method::FisherScoring, Method::Newton, Method::Natural] {
            compare(LOGISTIC, "x,y", &logistic_rows(), method);
        }
    }

    #[test]
    fn a_closed_form_model_in_parts_is_the_whole_fit() {
        let rows: Vec<String> = (1..40)
            .map(|i| format!("{}", 0.5 + (i as f64 * 1.3).sin().abs() * 3.0))
            .collect();
        compare(GAMMA, "y", &rows, Method::FisherScoring);
    }

    #[test]
    fn a_collinear_design_in_parts_is_refused_as_a_whole() {
        let src = "param b0 : real\nparam b1 : real\nparam b2 : real\ncovariate x : real\n\
                   covariate z : real\ndata y : {0, 1}\ny ~ bernoulli(sigmoid(b0 + b1 * x + b2 * z))\n";
        let model = crate::load(src, "m").unwrap();
        let rows: Vec<String> = logistic_rows()
            .iter()
            .map(|r| {
                let (x, y) = r.split_once(',').unwrap();
                format!("{x},{},{y}", 2.0 * x.parse::<f64>().unwrap())
            })
            .collect();
        let csv = |rs: &[String]| format!("x,z,y\n{}\n", rs.join("\n"));
        let whole = super::super::fit(&problem(&model, &csv(&rows)), &FitConfig::default())
            .unwrap_err()
            .to_string();
        let parts = Parts {
            parts: vec![
                problem(&model, &csv(&rows[..20])),
                problem(&model, &csv(&rows[20..])),
            ],
            passes: Default::default(),
        };
        let template = problem(&model, "x,z,y\n");
        let summed = fit_summed(&template, &parts, &FitConfig::default())
            .unwrap_err()
            .to_string();
        assert_eq!(whole, summed);
    }
}
