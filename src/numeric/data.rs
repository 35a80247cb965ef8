//! Data for a model: which columns it needs, checks that every value lies
//! in its variable's support, and reading CSV files.
//!
//! A [`DataSchema`] lists a model's inputs — its data variables, then its
//! covariates, each in declaration order, indexed declarations unrolled
//! (`x[1]`, `x[2]`, …) — with their supports. A [`Dataset`] holds rows of
//! those inputs in that order, every value checked.
//!
//! # CSV files
//!
//! [`DataSchema::read_csv`] reads a file with a header line. Columns are
//! matched to inputs by name; their order does not matter and columns the
//! model does not use are ignored (and not stored: memory grows with the
//! columns used, not with the file's width). An indexed input `x[2]` may be
//! spelled `x[2]`, `x_2` or `x2`; the last two only when the model has no
//! input of that exact name. Header names are trimmed of spaces.
//!
//! Every value must be a finite number (`1`, `-0.5`, `2e-3`; surrounding
//! spaces are allowed) inside its variable's support:
//!
//! | support | accepted values |
//! |---------|-----------------|
//! | `real` | any finite number |
//! | `positive`, `unit`, `(lo, hi)` | `lo < v < hi` (open); ends may use constants and earlier data variables |
//! | `count`, `a..b`, `a..` | integers in the range, ends included |
//! | `{0, 1}`, `{…}` | the listed values |
//! | `simplex` | each component in `[0, 1]`, the components of a row summing to 1 within 10⁻⁶ |
//! | a covariate's domain | as for intervals |
//!
//! Errors name the line of the file, the data row (line 2 is row 1) and the
//! column. A support bound that depends on a parameter (a moving support)
//! is checked when the parameters are known, by
//! [`crate::numeric::ModelFunctions`].
//!
//! ```
//! use fimkit::numeric::DataSchema;
//! let model = fimkit::load("param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)\n", "b").unwrap();
//! let schema = DataSchema::from_model(&model);
//! let data = schema.read_csv("id,y\n1,0\n2,1\n".as_bytes()).unwrap();
//! assert_eq!(data.n_rows(), 2);
//! let err = schema.read_csv("y\n0\n2\n".as_bytes()).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "line 3 (row 2), column `y`: 2 is outside the support of `y`, {0, 1}"
//! );
//! ```

use super::eval::eval_f64;
use crate::ir::expr::{Expr, Name, rational_to_f64};
use crate::ir::model::{Domain, Model, Support};
use nalgebra::DMatrix;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Parameter values by name, for supports that move with θ.
pub type ParamValues<'a> = &'a dyn Fn(&str) -> Option<f64>;

/// How far the components of a simplex row may sum from 1.
pub const SIMPLEX_TOLERANCE: f64 = 1e-6;

/// One end of an interval or range.
#[derive(Clone, Debug)]
enum Bound {
    /// No bound (±∞).
    None,
    /// A number.
    Num(f64),
    /// Depends on earlier inputs (evaluated per row).
    Data(Expr),
    /// Depends on a parameter: checked when θ is known.
    Param(Expr),
}

/// The kind of values an input takes.
#[derive(Clone, Debug)]
enum Kind {
    /// Open interval.
    Interval(Bound, Bound),
    /// Integers, ends included.
    Integers(Bound, Bound),
    /// A finite set.
    Set(Vec<f64>),
    /// One simplex component: the group's first column and its size.
    Simplex { first: usize, dim: usize },
}

/// One input column.
#[derive(Clone, Debug)]
struct Column {
    name: Name,
    /// `data` or `covariate` (for messages).
    role: &'static str,
    /// The support as the model writes it.
    label: String,
    kind: Kind,
}

/// The inputs of a model (data variables, then covariates) and their
/// supports: what a data row must contain.
#[derive(Clone, Debug)]
pub struct DataSchema {
    columns: Vec<Column>,
}

/// Rows of a model's inputs, in [`DataSchema`] order, every value checked
/// against its support. Stored row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    names: Vec<Name>,
    values: Vec<f64>,
    n_rows: usize,
}

/// Why data could not be read or accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum DataError {
    /// The file could not be read.
    Io(String),
    /// Malformed CSV (a row with a different number of fields, bad UTF-8).
    Csv {
        /// Line of the file, when known.
        line: Option<u64>,
        /// The reader's message.
        message: String,
    },
    /// A model input has no column.
    MissingColumn {
        /// The input.
        name: Name,
        /// Spellings accepted for it.
        accepted: Vec<String>,
        /// The file's header, for the message.
        header: Vec<String>,
    },
    /// Two columns name the same input.
    DuplicateColumn {
        /// The input.
        name: Name,
        /// The two headers.
        headers: (String, String),
    },
    /// A value is not a number.
    NotANumber {
        /// Line of the file (when read from a file).
        line: Option<u64>,
        /// Data row, from 1.
        row: usize,
        /// The input.
        column: Name,
        /// The text found.
        text: String,
    },
    /// A value is NaN or infinite.
    NonFinite {
        /// Line of the file (when read from a file).
        line: Option<u64>,
        /// Data row, from 1.
        row: usize,
        /// The input.
        column: Name,
        /// The value.
        value: f64,
    },
    /// A value lies outside its variable's support.
    OutOfSupport {
        /// Line of the file (when read from a file).
        line: Option<u64>,
        /// Data row, from 1.
        row: usize,
        /// The input.
        column: Name,
        /// The value.
        value: f64,
        /// Why: `outside the support of `y`, {0, 1}`.
        reason: String,
    },
    /// The data has no rows.
    Empty,
    /// A matrix or slice has the wrong shape.
    Shape {
        /// Columns expected (the schema's inputs).
        expected: usize,
        /// What was given.
        got: String,
    },
}

fn place(line: Option<u64>, row: usize) -> String {
    match line {
        Some(l) => format!("line {l} (row {row})"),
        None => format!("row {row}"),
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io(m) => write!(f, "cannot read the data: {m}"),
            DataError::Csv { line, message } => match line {
                Some(l) => write!(f, "line {l}: malformed CSV: {message}"),
                None => write!(f, "malformed CSV: {message}"),
            },
            DataError::MissingColumn {
                name,
                accepted,
                header,
            } => {
                write!(f, "no column for `{name}`")?;
                if accepted.len() > 1 {
                    write!(f, " (accepted headers: {})", accepted.join(", "))?;
                }
                write!(f, "; the header has: {}", header.join(", "))
            }
            DataError::DuplicateColumn { name, headers } => write!(
                f,
                "columns `{}` and `{}` both give `{name}`",
                headers.0, headers.1
            ),
            DataError::NotANumber {
                line,
                row,
                column,
                text,
            } => write!(
                f,
                "{}, column `{column}`: `{text}` is not a number",
                place(*line, *row)
            ),
            DataError::NonFinite {
                line,
                row,
                column,
                value,
            } => write!(
                f,
                "{}, column `{column}`: {value} is not a finite number",
                place(*line, *row)
            ),
            DataError::OutOfSupport {
                line,
                row,
                column,
                value,
                reason,
            } => write!(
                f,
                "{}, column `{column}`: {} is {reason}",
                place(*line, *row),
                show(*value)
            ),
            DataError::Empty => write!(f, "the data has no rows"),
            DataError::Shape { expected, got } => write!(
                f,
                "the data must have {expected} columns (one per model input), not {got}"
            ),
        }
    }
}

impl std::error::Error for DataError {}

/// A number as a person writes it (`2`, not `2.0`).
pub(crate) fn show(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl DataSchema {
    /// The inputs of `model`: data variables, then covariates, each in
    /// declaration order. Constants in support bounds are replaced by
    /// their values.
    pub fn from_model(model: &Model) -> DataSchema {
        let params = model.param_names();
        let bound = |e: &Option<Expr>| -> Bound {
            let Some(e) = e else { return Bound::None };
            let e = model.substitute_consts(e);
            let vars = e.free_vars();
            if vars.is_empty() {
                match eval_f64(&e, &|_| None) {
                    Ok(v) => Bound::Num(v),
                    Err(_) => Bound::Num(f64::NAN),
                }
            } else if vars.iter().any(|v| params.contains(v)) {
                Bound::Param(e)
            } else {
                Bound::Data(e)
            }
        };
        let mut columns: Vec<Column> = Vec::new();
        for d in &model.data {
            let kind = match &d.support {
                Support::Continuous { lo, hi } => Kind::Interval(bound(lo), bound(hi)),
                Support::Integers { lo, hi } => Kind::Integers(bound(&Some(lo.clone())), bound(hi)),
                Support::Set(vs) => Kind::Set(vs.iter().map(rational_to_f64).collect()),
                Support::Simplex { group, dim } => {
                    let first = columns
                        .iter()
                        .position(|c| {
                            matches!(&c.kind, Kind::Simplex { .. }) && is_element(&c.name, group)
                        })
                        .unwrap_or(columns.len());
                    Kind::Simplex { first, dim: *dim }
                }
            };
            columns.push(Column {
                name: d.name.clone(),
                role: "data",
                label: d.support.label(),
                kind,
            });
        }
        for c in &model.covariates {
            columns.push(Column {
                name: c.name.clone(),
                role: "covariate",
                label: domain_label(&c.domain),
                kind: Kind::Interval(bound(&c.domain.lo), bound(&c.domain.hi)),
            });
        }
        DataSchema { columns }
    }

    /// Input names in row order.
    pub fn names(&self) -> Vec<Name> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Number of inputs (the width of a row).
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Is input `i` a covariate (rather than a data variable)?
    pub fn is_covariate(&self, i: usize) -> bool {
        self.columns.get(i).is_some_and(|c| c.role == "covariate")
    }

    /// Does any support bound depend on a parameter?
    pub fn has_moving_support(&self) -> bool {
        self.columns.iter().any(|c| match &c.kind {
            Kind::Interval(a, b) | Kind::Integers(a, b) => {
                matches!(a, Bound::Param(_)) || matches!(b, Bound::Param(_))
            }
            _ => false,
        })
    }

    /// Check one row (inputs in schema order; `params` by name for moving
    /// supports, `None` to skip those bounds). On failure: the column index
    /// and the reason (`outside the support of `y`, {0, 1}`).
    pub fn check_row(
        &self,
        row: &[f64],
        params: Option<ParamValues>,
    ) -> Result<(), (usize, String)> {
        for (i, c) in self.columns.iter().enumerate() {
            let v = row[i];
            if !v.is_finite() {
                return Err((i, "not a finite number".into()));
            }
            self.check_value(i, c, v, row, params)
                .map_err(|why| (i, why))?;
        }
        Ok(())
    }

    /// The value of a bound in this row, `None` if the bound is to be skipped.
    fn bound_value(&self, b: &Bound, row: &[f64], params: Option<ParamValues>) -> Option<f64> {
        let env = |name: &str| {
            self.columns
                .iter()
                .position(|c| &*c.name == name)
                .map(|k| row[k])
                .or_else(|| params.and_then(|p| p(name)))
        };
        match b {
            Bound::None => None,
            Bound::Num(v) => Some(*v),
            Bound::Data(e) => eval_f64(e, &env).ok(),
            Bound::Param(e) => params.and_then(|_| eval_f64(e, &env).ok()),
        }
    }

    fn check_value(
        &self,
        i: usize,
        c: &Column,
        v: f64,
        row: &[f64],
        params: Option<ParamValues>,
    ) -> Result<(), String> {
        let outside = || format!("outside the support of `{}`, {}", c.name, c.label);
        let outside_cov = || {
            format!(
                "outside the domain of the covariate `{}`, {}",
                c.name, c.label
            )
        };
        match &c.kind {
            Kind::Interval(lo, hi) => {
                let lo_v = self.bound_value(lo, row, params);
                let hi_v = self.bound_value(hi, row, params);
                let bad = lo_v.is_some_and(|l| v <= l || l.is_nan())
                    || hi_v.is_some_and(|h| v >= h || h.is_nan());
                if bad {
                    return Err(if c.role == "covariate" {
                        outside_cov()
                    } else {
                        let mut s = outside();
                        if let (Bound::Data(_), Some(l)) | (Bound::Param(_), Some(l)) = (lo, lo_v) {
                            s.push_str(&format!(" (lower end {} in this row)", show(l)));
                        }
                        if let (Bound::Data(_), Some(h)) | (Bound::Param(_), Some(h)) = (hi, hi_v) {
                            s.push_str(&format!(" (upper end {} in this row)", show(h)));
                        }
                        s
                    });
                }
            }
            Kind::Integers(lo, hi) => {
                if v != v.trunc() {
                    return Err(format!(
                        "not an integer (`{}` takes values in {})",
                        c.name, c.label
                    ));
                }
                let lo_v = self.bound_value(lo, row, params);
                let hi_v = self.bound_value(hi, row, params);
                if lo_v.is_some_and(|l| v < l) || hi_v.is_some_and(|h| v > h) {
                    let mut s = outside();
                    if let (Bound::Data(_) | Bound::Param(_), Some(h)) = (hi, hi_v) {
                        s.push_str(&format!(" (upper end {} in this row)", show(h)));
                    }
                    return Err(s);
                }
            }
            Kind::Set(vs) => {
                if !vs.contains(&v) {
                    return Err(outside());
                }
            }
            Kind::Simplex { first, dim } => {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("{}: a simplex component lies in [0, 1]", outside()));
                }
                if i + 1 == first + dim {
                    let sum: f64 = row[*first..=i].iter().sum();
                    if (sum - 1.0).abs() > SIMPLEX_TOLERANCE {
                        let names: Vec<&str> =
                            self.columns[*first..=i].iter().map(|c| &*c.name).collect();
                        return Err(format!(
                            "the last of a simplex whose components ({}) sum to {sum}, not 1 (tolerance {SIMPLEX_TOLERANCE:e})",
                            names.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Check every row of `values` (row-major, [`DataSchema::width`]
    /// columns) and wrap them as a [`Dataset`].
    pub fn dataset_from_rows(&self, values: Vec<f64>) -> Result<Dataset, DataError> {
        let w = self.width();
        if (w == 0 && !values.is_empty()) || (w > 0 && !values.len().is_multiple_of(w)) {
            return Err(DataError::Shape {
                expected: w,
                got: format!("{} values (not a multiple of {w})", values.len()),
            });
        }
        let n_rows = values.len().checked_div(w).unwrap_or(0);
        for r in 0..n_rows {
            self.check(&values[r * w..(r + 1) * w], r + 1, None)?;
        }
        Ok(Dataset {
            names: self.names(),
            values,
            n_rows,
        })
    }

    /// A dataset from a matrix with one row per observation and one column
    /// per input, in [`DataSchema::names`] order.
    ///
    /// ```
    /// use fimkit::numeric::DataSchema;
    /// use nalgebra::dmatrix;
    /// let model = fimkit::load("param l : positive\ndata k : count\nk ~ poisson(l)\n", "p").unwrap();
    /// let schema = DataSchema::from_model(&model);
    /// assert_eq!(schema.dataset_from_matrix(&dmatrix![1.0; 4.0]).unwrap().n_rows(), 2);
    /// let err = schema.dataset_from_matrix(&dmatrix![1.5]).unwrap_err();
    /// assert_eq!(err.to_string(), "row 1, column `k`: 1.5 is not an integer (`k` takes values in count)");
    /// ```
    pub fn dataset_from_matrix(&self, m: &DMatrix<f64>) -> Result<Dataset, DataError> {
        if m.ncols() != self.width() {
            return Err(DataError::Shape {
                expected: self.width(),
                got: format!("{} columns", m.ncols()),
            });
        }
        let mut values = Vec::with_capacity(m.len());
        for r in 0..m.nrows() {
            values.extend(m.row(r).iter().copied());
        }
        self.dataset_from_rows(values)
    }

    /// Check a row, with positions for the error.
    fn check(&self, row: &[f64], n: usize, line: Option<u64>) -> Result<(), DataError> {
        self.check_row(row, None).map_err(|(i, reason)| {
            let column = self.columns[i].name.clone();
            let value = row[i];
            if value.is_finite() {
                DataError::OutOfSupport {
                    line,
                    row: n,
                    column,
                    value,
                    reason,
                }
            } else {
                DataError::NonFinite {
                    line,
                    row: n,
                    column,
                    value,
                }
            }
        })
    }

    /// The header spellings accepted for input `i`.
    fn spellings(&self, i: usize) -> Vec<String> {
        let name = &*self.columns[i].name;
        let mut out = vec![name.to_string()];
        if let Some((base, idx)) = split_index(name) {
            for alt in [format!("{base}_{idx}"), format!("{base}{idx}")] {
                if !self.columns.iter().any(|c| *c.name == *alt) {
                    out.push(alt);
                }
            }
        }
        out
    }

    /// Read a CSV file with a header line (see the module docs), record by
    /// record, keeping only the model's columns.
    pub fn read_csv<R: Read>(&self, reader: R) -> Result<Dataset, DataError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let header: Vec<String> = rdr
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(str::to_string)
            .collect();
        // Column of the file for each input.
        let mut source = Vec::with_capacity(self.width());
        for i in 0..self.width() {
            let accepted = self.spellings(i);
            let hits: Vec<usize> = header
                .iter()
                .enumerate()
                .filter(|(_, h)| accepted.iter().any(|a| a == *h))
                .map(|(k, _)| k)
                .collect();
            match hits.as_slice() {
                [] => {
                    return Err(DataError::MissingColumn {
                        name: self.columns[i].name.clone(),
                        accepted,
                        header,
                    });
                }
                [k] => source.push(*k),
                [a, b, ..] => {
                    return Err(DataError::DuplicateColumn {
                        name: self.columns[i].name.clone(),
                        headers: (header[*a].clone(), header[*b].clone()),
                    });
                }
            }
        }
        let w = self.width();
        let mut values = Vec::new();
        let mut row = vec![0.0; w];
        let mut record = csv::StringRecord::new();
        let mut n = 0usize;
        loop {
            match rdr.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(e)),
            }
            n += 1;
            let line = record.position().map(|p| p.line());
            for (i, &k) in source.iter().enumerate() {
                let text = record.get(k).unwrap_or("");
                row[i] = parse_number(text).ok_or_else(|| DataError::NotANumber {
                    line,
                    row: n,
                    column: self.columns[i].name.clone(),
                    text: text.to_string(),
                })?;
            }
            self.check(&row, n, line)?;
            values.extend_from_slice(&row);
        }
        if n == 0 {
            return Err(DataError::Empty);
        }
        Ok(Dataset {
            names: self.names(),
            values,
            n_rows: n,
        })
    }

    /// [`DataSchema::read_csv`] from a file.
    pub fn read_csv_path(&self, path: &Path) -> Result<Dataset, DataError> {
        let file = std::fs::File::open(path)
            .map_err(|e| DataError::Io(format!("{}: {e}", path.display())))?;
        self.read_csv(std::io::BufReader::new(file))
    }
}

/// `x[2]` → (`x`, `2`).
fn split_index(name: &str) -> Option<(&str, &str)> {
    let (base, rest) = name.split_once('[')?;
    Some((base, rest.strip_suffix(']')?))
}

fn is_element(name: &str, group: &str) -> bool {
    split_index(name).is_some_and(|(b, _)| b == group)
}

/// Parse a number; `nan` and `inf` parse (and are rejected as non-finite
/// later, with a clearer message).
fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn csv_error(e: csv::Error) -> DataError {
    let line = e.position().map(|p| p.line());
    match e.kind() {
        csv::ErrorKind::Io(io) => DataError::Io(io.to_string()),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => DataError::Csv {
            line,
            message: format!("{len} fields where the header has {expected_len}"),
        },
        csv::ErrorKind::Utf8 { .. } => DataError::Csv {
            line,
            message: "not valid UTF-8".into(),
        },
        _ => DataError::Csv {
            line,
            message: e.to_string(),
        },
    }
}

/// A domain as a person reads it: `positive, (0, inf)`.
pub(crate) fn domain_label(d: &Domain) -> String {
    let show = |e: &Option<Expr>, inf: &str| e.as_ref().map_or(inf.to_string(), Expr::to_string);
    let interval = format!("({}, {})", show(&d.lo, "-inf"), show(&d.hi, "inf"));
    if d.label.starts_with('(') || d.label == interval {
        interval
    } else {
        format!("{} {interval}", d.label)
    }
}

impl Dataset {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The input names, in column order.
    pub fn names(&self) -> &[Name] {
        &self.names
    }

    /// Row `i` (from 0), inputs in column order.
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        let w = self.names.len();
        (i < self.n_rows).then(|| &self.values[i * w..(i + 1) * w])
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The data as a matrix (one row per observation).
    pub fn to_matrix(&self) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.n_rows, self.names.len(), &self.values)
    }
}
