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
    /// A column the model uses is not of a number type (Parquet, Arrow).
    ColumnType {
        /// The input.
        name: Name,
        /// The column's name in the file.
        header: String,
        /// Its type.
        type_name: String,
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
                if header.iter().all(String::is_empty) {
                    return write!(f, ": the data has no header line (is it empty?)");
                }
                if accepted.len() > 1 {
                    write!(f, " (accepted headers: {})", accepted.join(", "))?;
                }
                write!(f, "; the header has: {}", header.join(", "))
            }
            DataError::DuplicateColumn { name, headers } => {
                if headers.0 == headers.1 {
                    write!(f, "two columns are named `{}`", headers.0)
                } else {
                    write!(
                        f,
                        "columns `{}` and `{}` both give `{name}`",
                        headers.0, headers.1
                    )
                }
            }
            DataError::NotANumber {
                line,
                row,
                column,
                text,
            } => {
                if text.is_empty() {
                    write!(
                        f,
                        "{}, column `{column}`: the cell is empty (a number is needed)",
                        place(*line, *row)
                    )
                } else {
                    write!(
                        f,
                        "{}, column `{column}`: `{text}` is not a number",
                        place(*line, *row)
                    )
                }
            }
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
            DataError::ColumnType {
                name,
                header,
                type_name,
            } => write!(
                f,
                "column `{header}` (for `{name}`) has type {type_name}; a number type is needed (float, integer or boolean)"
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
                label: support_label(model, &d.support),
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

    /// The covariates alone: what an expected information over a design
    /// needs (no responses). A file read with it may also hold the data
    /// columns; they are ignored.
    ///
    /// ```
    /// use fimkit::numeric::DataSchema;
    /// let m = fimkit::load("param b : real\ncovariate z : real\ndata y : {0, 1}\ny ~ bernoulli(sigmoid(b*z))\n", "m").unwrap();
    /// let design = DataSchema::from_model(&m).covariates_only();
    /// assert_eq!(design.read_csv("z\n0.5\n2\n".as_bytes()).unwrap().n_rows(), 2);
    /// ```
    pub fn covariates_only(&self) -> DataSchema {
        DataSchema {
            columns: self
                .columns
                .iter()
                .filter(|c| c.role == "covariate")
                .cloned()
                .collect(),
        }
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
            // A real number (most covariates): nothing more to check.
            if let Kind::Interval(Bound::None, Bound::None) = c.kind {
                continue;
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
        // Blocks of rows checked in parallel; the first failing row (in
        // row order) is the one reported, whatever the threads do.
        use rayon::prelude::*;
        const BLOCK: usize = 8192;
        let blocks: Vec<Result<(), DataError>> = (0..n_rows.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                (b * BLOCK..((b + 1) * BLOCK).min(n_rows))
                    .try_for_each(|r| self.check(&values[r * w..(r + 1) * w], r + 1, None))
            })
            .collect();
        blocks.into_iter().collect::<Result<(), _>>()?;
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
    /// assert_eq!(err.to_string(), "row 1, column `k`: 1.5 is not an integer (`k` takes values in count (0, 1, 2, ...))");
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

    /// Check row `n` (from 1) of a file without lines.
    pub(crate) fn check_at(&self, row: &[f64], n: usize) -> Result<(), DataError> {
        self.check(row, n, None)
    }

    /// Checked values (row-major) as a dataset.
    pub(crate) fn wrap(&self, values: Vec<f64>, n_rows: usize) -> Dataset {
        Dataset {
            names: self.names(),
            values,
            n_rows,
        }
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

    /// Read a CSV file with a header line (see the module docs), block by
    /// block, keeping only the model's columns.
    ///
    /// Blocks of a few megabytes are cut at their last line end and their
    /// lines parsed in parallel; a block with a quote, a lone carriage
    /// return or invalid UTF-8 hands the rest of the file to the `csv`
    /// crate, record by record. Both ways accept the same files and report
    /// the same first error.
    pub fn read_csv<R: Read>(&self, reader: R) -> Result<Dataset, DataError> {
        self.read_csv_blocks(reader, CSV_BLOCK, b',')
    }

    /// [`DataSchema::read_csv`] with another field separator (`b'\t'`
    /// for TSV): the same rules, checks and messages.
    ///
    /// ```
    /// use fimkit::numeric::DataSchema;
    /// let model = fimkit::load("param p : unit\ndata y : {0, 1}\ny ~ bernoulli(p)\n", "b").unwrap();
    /// let schema = DataSchema::from_model(&model);
    /// assert_eq!(schema.read_delimited("id\ty\n1\t0\n".as_bytes(), b'\t').unwrap().n_rows(), 1);
    /// ```
    pub fn read_delimited<R: Read>(&self, reader: R, delimiter: u8) -> Result<Dataset, DataError> {
        self.read_csv_blocks(reader, CSV_BLOCK, delimiter)
    }

    /// [`DataSchema::read_csv`] with blocks of `block` bytes.
    ///
    /// Line numbers are the csv crate's: a record's line is one more than
    /// the number of line feeds before the end of the previous record
    /// (the header included), where a record ends after its `\n`, or
    /// after the `\r` of a `\r\n`. Blank lines after a record thus do not
    /// move the next record's line.
    fn read_csv_blocks<R: Read>(
        &self,
        mut reader: R,
        block: usize,
        delimiter: u8,
    ) -> Result<Dataset, DataError> {
        let mut buf = Vec::new();
        let mut eof = fill_block(&mut reader, &mut buf, block)?;
        // The header line, when it is plain (no quote, no lone CR, not
        // blank): the csv crate splits it, so header names are exactly as
        // on the slow path.
        let header_end = buf.iter().position(|&b| b == b'\n');
        let plain_header = header_end.is_some_and(|e| {
            let line = &buf[..e];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            !line.is_empty() && !line.contains(&b'"') && !line.contains(&b'\r')
        });
        let Some(header_end) = header_end.filter(|_| plain_header) else {
            return self.read_csv_records(
                std::io::Cursor::new(buf).chain(reader),
                0,
                (0, 0),
                delimiter,
            );
        };
        let header_bytes = buf[..=header_end].to_vec();
        let header_lf = u64::from(header_end == 0 || buf[header_end - 1] != b'\r');
        let header: Vec<String> = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(header_bytes.as_slice())
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(str::to_string)
            .collect();
        let source = self.sources(&header)?;
        let w = self.width();
        let mut values = Vec::new();
        let mut n = 0usize;
        // Line feeds before `pos`, and before the end of the last record.
        let (mut feeds, mut last_end) = (1u64, header_lf);
        let mut pos = header_end + 1;
        loop {
            let cut = if eof {
                buf.len()
            } else {
                match buf[pos..].iter().rposition(|&b| b == b'\n') {
                    Some(k) => pos + k + 1,
                    None => pos,
                }
            };
            if cut == pos && !eof {
                // A line longer than the block: read on.
                let more = buf.len() * 2;
                eof = fill_block(&mut reader, &mut buf, more)?;
                continue;
            }
            let chunk = &buf[pos..cut];
            let parsed = self.parse_lines(
                chunk,
                (&source, header.len(), delimiter),
                n,
                (feeds, last_end),
            )?;
            let Some((v, rows, block_feeds, end)) = parsed else {
                // A quote, a lone CR or invalid UTF-8: the rest, record by
                // record, behind the header line; its first record's line
                // follows the last record read here, the others count
                // line feeds from the block's start.
                let rest = std::io::Cursor::new(header_bytes)
                    .chain(std::io::Cursor::new(buf[pos..].to_vec()))
                    .chain(reader);
                let tail =
                    self.read_csv_records(rest, n, (last_end - header_lf, feeds - 1), delimiter)?;
                values.extend_from_slice(&tail.values);
                n += tail.n_rows;
                break;
            };
            if values.is_empty() && !eof {
                // About as many rows again per block to come: reserve once.
                values.reserve(v.len() * 64);
            }
            values.extend_from_slice(&v);
            n += rows;
            feeds += block_feeds;
            last_end = end;
            if eof {
                break;
            }
            buf.drain(..cut);
            pos = 0;
            eof = fill_block(&mut reader, &mut buf, block)?;
        }
        if n == 0 {
            return Err(DataError::Empty);
        }
        debug_assert_eq!(values.len(), n * w);
        Ok(Dataset {
            names: self.names(),
            values,
            n_rows: n,
        })
    }

    /// Parse whole lines in parallel pieces. `n0` rows precede them;
    /// `feeds` line feeds precede the text and `last_end` precede the end
    /// of the last record before it. Returns the values, the rows, the
    /// line feeds read and the new `last_end`; `None` when a piece is not
    /// plain (a quote, a lone CR, invalid UTF-8) and no error comes before
    /// it; or the first error in file order.
    #[expect(clippy::type_complexity)]
    fn parse_lines(
        &self,
        bytes: &[u8],
        (source, fields, delimiter): (&[usize], usize, u8),
        n0: usize,
        (feeds, last_end): (u64, u64),
    ) -> Result<Option<(Vec<f64>, usize, u64, u64)>, DataError> {
        use rayon::prelude::*;
        // Pieces of about 64 KB, cut after a line end.
        let mut cuts = vec![0];
        while let Some(&last) = cuts.last() {
            if last >= bytes.len() {
                break;
            }
            let target = (last + CSV_PIECE).min(bytes.len());
            let end = match bytes[target..].iter().position(|&b| b == b'\n') {
                Some(k) => target + k + 1,
                None => bytes.len(),
            };
            cuts.push(end);
        }
        let pieces: Vec<Piece> = cuts
            .windows(2)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|c| self.parse_piece(&bytes[c[0]..c[1]], source, fields, delimiter))
            .collect();
        let mut values = Vec::with_capacity(pieces.iter().map(|p| p.values.len()).sum());
        let (mut rows, mut before, mut last_end) = (0usize, feeds, last_end);
        for p in pieces {
            if let Some((mut e, prev_end)) = p.error {
                // The record's line: one after the end of the record
                // before it.
                let end = prev_end.map_or(last_end, |l| before + l);
                shift(&mut e, n0 + rows, 0);
                set_line(&mut e, end + 1);
                return Err(e);
            }
            if !p.plain {
                return Ok(None);
            }
            values.extend_from_slice(&p.values);
            rows += p.rows;
            if let Some(l) = p.last_end {
                last_end = before + l;
            }
            before += p.feeds;
        }
        Ok(Some((values, rows, before - feeds, last_end)))
    }

    /// One piece of whole lines: rows in an error count from the piece's
    /// start (row 1 is its first record), line feeds from its first byte.
    fn parse_piece(&self, bytes: &[u8], source: &[usize], fields: usize, delimiter: u8) -> Piece {
        let w = self.width();
        let mut out = Piece {
            values: Vec::new(),
            rows: 0,
            feeds: 0,
            last_end: None,
            error: None,
            plain: false,
        };
        let suspect = bytes.iter().any(|&b| b == b'"' || b == b'\r');
        let lone_cr = || {
            bytes
                .iter()
                .enumerate()
                .any(|(k, &b)| b == b'\r' && bytes.get(k + 1) != Some(&b'\n'))
        };
        if suspect && (bytes.contains(&b'"') || lone_cr()) {
            return out;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return out;
        };
        out.plain = true;
        out.values.reserve(bytes.len() / 8);
        // Schema column of each file column.
        let mut target = vec![usize::MAX; fields];
        for (i, &k) in source.iter().enumerate() {
            target[k] = i;
        }
        let mut cells: Vec<&str> = vec![""; w];
        let mut row = vec![0.0; w];
        let len = bytes.len();
        let (mut line_start, mut field_start, mut k) = (0, 0, 0);
        for idx in 0..=len {
            let b = if idx < len { bytes[idx] } else { b'\n' };
            if b == delimiter {
                if let Some(&i) = target.get(k)
                    && i != usize::MAX
                {
                    cells[i] = trim(&text[field_start..idx]);
                }
                k += 1;
                field_start = idx + 1;
                continue;
            }
            if b != b'\n' || (idx == len && line_start == len) {
                continue;
            }
            let cr = idx > line_start && bytes[idx - 1] == b'\r';
            let end = if cr { idx - 1 } else { idx };
            let feeds_before = out.feeds;
            if idx < len {
                out.feeds += 1;
            }
            if end > line_start {
                if let Some(&i) = target.get(k)
                    && i != usize::MAX
                {
                    cells[i] = trim(&text[field_start..end]);
                }
                out.rows += 1;
                let count = k + 1;
                let error = if count != fields {
                    Some(DataError::Csv {
                        line: None,
                        message: unequal_lengths(fields, count),
                    })
                } else {
                    self.parse_row(&cells, &mut row, out.rows).err()
                };
                if let Some(e) = error {
                    out.error = Some((e, out.last_end));
                    return out;
                }
                out.values.extend_from_slice(&row);
                out.last_end = Some(feeds_before + u64::from(idx < len && !cr));
            }
            k = 0;
            line_start = idx + 1;
            field_start = idx + 1;
        }
        out
    }

    /// Numbers from trimmed cells (schema order) into `row`, checked; row
    /// `n`, no line yet.
    fn parse_row(&self, cells: &[&str], row: &mut [f64], n: usize) -> Result<(), DataError> {
        for (i, cell) in cells.iter().enumerate() {
            row[i] = cell
                .parse::<f64>()
                .ok()
                .ok_or_else(|| DataError::NotANumber {
                    line: None,
                    row: n,
                    column: self.columns[i].name.clone(),
                    text: cell.to_string(),
                })?;
        }
        self.check(row, n, None)
    }

    /// The column of `header` (trimmed cells) that gives each input, in
    /// schema order: the columns a read of that file would use.
    pub fn header_columns(&self, header: &[String]) -> Result<Vec<usize>, DataError> {
        self.sources(header)
    }

    /// The file column of each input, from the header.
    fn sources(&self, header: &[String]) -> Result<Vec<usize>, DataError> {
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
                        header: header.to_vec(),
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
        Ok(source)
    }

    /// Record by record with the csv crate (any CSV: quotes, CR line
    /// ends). The reader's first line is a header; `n0` rows precede its
    /// records in the file, and its lines are shifted by `first` for its
    /// first record and by `rest` for the others. An empty result is not
    /// an error here when `n0 > 0`.
    fn read_csv_records<R: Read>(
        &self,
        reader: R,
        n0: usize,
        (first, rest): (u64, u64),
        delimiter: u8,
    ) -> Result<Dataset, DataError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(reader);
        // An error at the reader's record k (0: the header).
        let at = |k: usize, mut e: DataError| {
            shift(&mut e, n0, if k <= 1 { first } else { rest });
            e
        };
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| at(0, csv_error(e)))?
            .iter()
            .map(str::to_string)
            .collect();
        let source = self.sources(&header)?;
        let w = self.width();
        let mut values = Vec::new();
        let mut row = vec![0.0; w];
        let mut record = csv::StringRecord::new();
        let mut n = 0usize;
        loop {
            match rdr.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(at(n + 1, csv_error(e))),
            }
            n += 1;
            let line = record.position().map(|p| p.line());
            for (i, &k) in source.iter().enumerate() {
                let text = record.get(k).unwrap_or("");
                row[i] = parse_number(text).ok_or_else(|| {
                    at(
                        n,
                        DataError::NotANumber {
                            line,
                            row: n,
                            column: self.columns[i].name.clone(),
                            text: text.to_string(),
                        },
                    )
                })?;
            }
            self.check(&row, n, line).map_err(|e| at(n, e))?;
            values.extend_from_slice(&row);
        }
        if n + n0 == 0 {
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

/// Bytes per block of a CSV file.
const CSV_BLOCK: usize = 4 << 20;
/// Bytes per piece parsed by one task.
const CSV_PIECE: usize = 64 << 10;

/// A parsed piece of a block.
struct Piece {
    values: Vec<f64>,
    rows: usize,
    /// Line feeds in the piece.
    feeds: u64,
    /// Line feeds (from the piece's start) before the end of its last
    /// record: after the `\n` ending it, or after the `\r` of a `\r\n`.
    last_end: Option<u64>,
    /// The first error (rows counted from the piece's start, no line
    /// yet) and the `last_end` of the records before it in the piece.
    error: Option<(DataError, Option<u64>)>,
    /// Free of quotes and lone CRs, valid UTF-8 (else not parsed).
    plain: bool,
}

/// `str::trim`, with a shortcut for ASCII ends.
fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(&a), Some(&b)) if a >= 0x80 || b >= 0x80 || a == 0x0b || b == 0x0b => s.trim(),
        _ => t,
    }
}

/// Set the line of an error that has one.
fn set_line(e: &mut DataError, to: u64) {
    match e {
        DataError::Csv { line, .. }
        | DataError::NotANumber { line, .. }
        | DataError::NonFinite { line, .. }
        | DataError::OutOfSupport { line, .. } => *line = Some(to),
        _ => {}
    }
}

impl DataError {
    /// Count this error's row from `rows` rows further on: an error found
    /// in one part of a dataset, named at its place in the whole.
    pub fn shift_rows(&mut self, rows: usize) {
        shift(self, rows, 0);
    }
}

/// Move an error's row and line by the rows and lines before its piece.
fn shift(e: &mut DataError, rows: usize, lines: u64) {
    match e {
        DataError::Csv { line: Some(l), .. } => *l += lines,
        DataError::NotANumber { line, row, .. }
        | DataError::NonFinite { line, row, .. }
        | DataError::OutOfSupport { line, row, .. } => {
            if let Some(l) = line {
                *l += lines;
            }
            *row += rows;
        }
        _ => {}
    }
}

/// Read until `buf` holds `block` bytes or the reader ends; true at the end.
fn fill_block<R: Read>(reader: &mut R, buf: &mut Vec<u8>, block: usize) -> Result<bool, DataError> {
    let want = block.max(1);
    while buf.len() < want {
        let have = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[have..]) {
            Ok(0) => {
                buf.truncate(have);
                return Ok(true);
            }
            Ok(k) => buf.truncate(have + k),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(have),
            Err(e) => {
                buf.truncate(have);
                return Err(DataError::Io(e.to_string()));
            }
        }
    }
    Ok(false)
}

/// The message for a record whose length differs from the header's.
fn unequal_lengths(expected_len: usize, len: usize) -> String {
    format!(
        "{len} field{} where the header has {expected_len}",
        if len == 1 { "" } else { "s" }
    )
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
            message: unequal_lengths(*expected_len as usize, *len as usize),
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

/// An expression as the model language writes it.
fn text(e: &Expr) -> String {
    crate::ir::text::render(e, &crate::ir::text::TextStyle::ascii())
}

/// A support as a person reads it: `positive (0, inf)`, `0..n - x1`,
/// `(xm, inf) = (1, inf)` (constants' values shown when the ends are
/// numbers once they are substituted).
fn support_label(model: &Model, s: &Support) -> String {
    let end = |e: &Option<Expr>, inf: &str| e.as_ref().map_or(inf.to_string(), text);
    let value = |e: &Option<Expr>, inf: &str| -> Option<String> {
        let Some(e) = e else {
            return Some(inf.to_string());
        };
        let v = eval_f64(&model.substitute_consts(e), &|_| None).ok()?;
        Some(show(v))
    };
    let has_const = |es: [&Option<Expr>; 2]| {
        es.iter().any(|e| {
            e.as_ref()
                .is_some_and(|e| e.free_vars().iter().any(|v| model.const_value(v).is_some()))
        })
    };
    match s {
        Support::Continuous { lo, hi } => {
            let interval = format!("({}, {})", end(lo, "-inf"), end(hi, "inf"));
            let word = s.label();
            if matches!(word.as_str(), "real" | "positive" | "unit") {
                return if word == "real" {
                    word
                } else {
                    format!("{word} {interval}")
                };
            }
            match (has_const([lo, hi]), value(lo, "-inf"), value(hi, "inf")) {
                (true, Some(l), Some(h)) => format!("{interval} = ({l}, {h})"),
                _ => interval,
            }
        }
        Support::Integers { lo, hi } => {
            if s.label() == "count" {
                return "count (0, 1, 2, ...)".into();
            }
            let lo_o = Some(lo.clone());
            let range = format!("{}..{}", text(lo), end(hi, ""));
            match (has_const([&lo_o, hi]), value(&lo_o, ""), value(hi, "")) {
                (true, Some(l), Some(h)) => format!("{range} = {l}..{h}"),
                _ => range,
            }
        }
        _ => s.label(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The block reader (with tiny blocks, so that lines straddle them)
    /// gives exactly what the record-by-record reader gives: the same
    /// dataset or the same error.
    #[test]
    fn block_reader_matches_the_record_reader() {
        let model = crate::load(
            "param m : real\ndata y : count\ncovariate z : real\ny ~ poisson(exp(m*z))\n",
            "p",
        )
        .unwrap();
        let schema = DataSchema::from_model(&model);
        let cells = [
            "1", " 2 ", "0.5", "-3", "", "x", "nan", "inf", "1e3", "7", "\"4\"", "é", "\u{a0}3",
            "\u{0b}4 ", " 2\t", "2,", "1\r", "5",
        ];
        let ends = ["\n", "\n", "\n", "\r\n", "\n\n", "\r\n\r\n", "\n \n"];
        let mut state = 12345u64;
        let mut next = |k: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % k
        };
        let mut differ = Vec::new();
        for case in 0..4000 {
            let mut text = String::from(["z, y ,u\n", "y,z\r\n", "u,z,y\n"][case % 3]);
            let rows = next(6);
            for _ in 0..rows {
                let fields = if case % 3 == 1 { 2 } else { 3 };
                let plain = next(4) != 0;
                for f in 0..fields {
                    if f > 0 {
                        text.push(',');
                    }
                    // Mostly valid numbers, so that errors sit deep.
                    let c = if plain {
                        ["1", "2", " 0 ", "3.5"][next(4)]
                    } else {
                        cells[next(cells.len())]
                    };
                    text.push_str(c);
                }
                text.push_str(ends[next(ends.len())]);
            }
            if next(4) == 0 {
                text.pop();
            }
            let mut bytes = text.into_bytes();
            if next(40) == 0 {
                let at = next(bytes.len());
                bytes.insert(at, 0xff);
            }
            // Every other file tab-separated: the same text with tabs for
            // commas.
            let delimiter = if case % 2 == 0 { b',' } else { b'\t' };
            if delimiter == b'\t' {
                for b in bytes.iter_mut() {
                    if *b == b',' {
                        *b = b'\t';
                    }
                }
            }
            let slow = schema.read_csv_records(bytes.as_slice(), 0, (0, 0), delimiter);
            for block in [1, 3, 7, 16, 64, 1 << 20] {
                let fast = schema.read_csv_blocks(bytes.as_slice(), block, delimiter);
                // Debug text: NaN values compare equal.
                if format!("{fast:?}") != format!("{slow:?}") {
                    differ.push(format!(
                        "{:?} block {block}: {fast:?} vs {slow:?}",
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
        }
        assert!(
            differ.is_empty(),
            "{} differences, first: {}",
            differ.len(),
            differ[0]
        );
    }
}
