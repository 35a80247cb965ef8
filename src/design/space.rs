//! The design space: a box of covariate ranges (`t=0..24`,
//! `dose=0..100,time=0.5..24`) searched on a grid and then continuously,
//! or a finite set of candidate points (a CSV file's rows); covariates
//! held fixed (`--fixed`) complete every point.

use super::DesignError;

/// Where the design may put its points (in the free covariates).
#[derive(Clone, Debug, PartialEq)]
pub enum Space {
    /// A box: each free covariate between `lo` and `hi`.
    Box {
        /// The free covariates.
        names: Vec<String>,
        /// Lower ends.
        lo: Vec<f64>,
        /// Upper ends.
        hi: Vec<f64>,
    },
    /// A finite candidate set, row-major, one value per name.
    Candidates {
        /// The free covariates (the columns).
        names: Vec<String>,
        /// The points, row-major.
        rows: Vec<f64>,
    },
}

impl Space {
    /// Parse a box `name=lo..hi[,name=lo..hi...]`.
    pub fn parse_box(spec: &str) -> Result<Space, DesignError> {
        let bad = |why: String| DesignError::Space(format!("--space `{spec}`: {why}"));
        let mut names = Vec::new();
        let mut lo = Vec::new();
        let mut hi = Vec::new();
        for item in spec.split(',') {
            let item = item.trim();
            let Some((name, range)) = item.split_once('=') else {
                return Err(bad(format!(
                    "`{item}` is not name=lo..hi (e.g. t=0.5..24), nor a candidate file"
                )));
            };
            let name = name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '[' || c == ']')
            {
                return Err(bad(format!("`{name}` is not a covariate name")));
            }
            let Some((a, b)) = range.split_once("..") else {
                return Err(bad(format!("`{range}` is not a range lo..hi")));
            };
            let parse = |s: &str| s.trim().parse::<f64>().ok();
            let (Some(a), Some(b)) = (parse(a), parse(b)) else {
                return Err(bad(format!("`{range}`: the ends must be finite numbers")));
            };
            if !(a.is_finite() && b.is_finite()) {
                return Err(bad(format!("`{range}`: the ends must be finite numbers")));
            }
            if a >= b {
                return Err(bad(format!(
                    "`{range}`: the lower end must be below the upper end"
                )));
            }
            if names.contains(&name.to_string()) {
                return Err(bad(format!("`{name}` is given twice")));
            }
            names.push(name.to_string());
            lo.push(a);
            hi.push(b);
        }
        Ok(Space::Box { names, lo, hi })
    }

    /// The free covariates.
    pub fn names(&self) -> &[String] {
        match self {
            Space::Box { names, .. } | Space::Candidates { names, .. } => names,
        }
    }

    /// A grid over a box: `per_dim` points per covariate (default: about
    /// 2,000 in one dimension, 40,000 in two, 10⁵ beyond), ends included.
    pub fn grid(&self, per_dim: Option<usize>) -> Vec<f64> {
        match self {
            Space::Candidates { rows, .. } => rows.clone(),
            Space::Box { lo, hi, .. } => {
                let k = lo.len();
                let n = per_dim.unwrap_or(match k {
                    1 => 2001,
                    2 => 201,
                    _ => ((1e5f64).powf(1.0 / k as f64).floor() as usize).max(3),
                });
                let n = n.max(2);
                let total = n.pow(k as u32);
                let mut out = Vec::with_capacity(total * k);
                for idx in 0..total {
                    let mut r = idx;
                    for d in 0..k {
                        let i = r % n;
                        r /= n;
                        out.push(lo[d] + (hi[d] - lo[d]) * i as f64 / (n - 1) as f64);
                    }
                }
                out
            }
        }
    }
}

/// How a point in the free covariates becomes a row of every covariate.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The model's covariates, in order.
    pub covariates: Vec<String>,
    /// For each free covariate, its index among the model's.
    pub free: Vec<usize>,
    /// Fixed covariates: (index, value).
    pub fixed: Vec<(usize, f64)>,
}

impl Layout {
    /// Match the free and fixed names to the model's covariates; every
    /// covariate must be one of the two, and none both.
    pub fn new(
        covariates: &[String],
        free: &[String],
        fixed: &[(String, f64)],
    ) -> Result<Layout, DesignError> {
        if covariates.is_empty() {
            return Err(DesignError::Space(
                "the model has no covariate: there is nothing to design (declare the \
                 design variables with `covariate NAME : DOMAIN`)"
                    .into(),
            ));
        }
        let find = |n: &str| {
            covariates.iter().position(|c| c == n).ok_or_else(|| {
                DesignError::Space(format!(
                    "`{n}` is not a covariate of the model (its covariates: {})",
                    covariates.join(", ")
                ))
            })
        };
        let free_idx = free
            .iter()
            .map(|n| find(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut fixed_idx = Vec::new();
        for (n, v) in fixed {
            let i = find(n)?;
            if free_idx.contains(&i) {
                return Err(DesignError::Space(format!(
                    "`{n}` is both in the space and fixed"
                )));
            }
            if !v.is_finite() {
                return Err(DesignError::Space(format!(
                    "--fixed {n}: the value must be finite"
                )));
            }
            fixed_idx.push((i, *v));
        }
        let missing: Vec<&str> = (0..covariates.len())
            .filter(|i| !free_idx.contains(i) && !fixed_idx.iter().any(|(j, _)| j == i))
            .map(|i| covariates[i].as_str())
            .collect();
        if !missing.is_empty() {
            return Err(DesignError::Space(format!(
                "the covariate{} {} {} neither in the space nor fixed (add {} to --space, or --fixed NAME=VALUE)",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                if missing.len() > 1 { "are" } else { "is" },
                if missing.len() > 1 { "them" } else { "it" },
            )));
        }
        Ok(Layout {
            covariates: covariates.to_vec(),
            free: free_idx,
            fixed: fixed_idx,
        })
    }

    /// Full covariate rows (row-major) from free points (row-major).
    pub fn full(&self, free_rows: &[f64]) -> Vec<f64> {
        let k = self.free.len().max(1);
        let c = self.covariates.len();
        let mut out = vec![0.0; free_rows.len() / k * c];
        for (r, x) in free_rows.chunks(k).enumerate() {
            let row = &mut out[r * c..(r + 1) * c];
            for (v, &i) in x.iter().zip(&self.free) {
                row[i] = *v;
            }
            for &(i, v) in &self.fixed {
                row[i] = v;
            }
        }
        out
    }
}
