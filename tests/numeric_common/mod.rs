//! Shared helpers for the numeric tests: the mpmath reference tables.
#![allow(dead_code, reason = "each test file uses a subset")]

/// One row of a reference table: `func,p,x,value,d1,d2,d3`.
#[derive(Clone, Debug)]
pub struct Row {
    pub func: String,
    pub p: Option<f64>,
    pub x: f64,
    /// value, d1, d2, d3 (None where not tabled).
    pub vals: [Option<f64>; 4],
}

fn cell(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        Some(
            s.parse()
                .unwrap_or_else(|e| panic!("bad number {s:?}: {e}")),
        )
    }
}

/// Parse a table (header line first).
pub fn table(text: &str) -> Vec<Row> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            assert_eq!(c.len(), 7, "row {l}");
            Row {
                func: c[0].to_string(),
                p: cell(c[1]),
                x: cell(c[2]).expect("x"),
                vals: [cell(c[3]), cell(c[4]), cell(c[5]), cell(c[6])],
            }
        })
        .collect()
}

/// Every reference row, all tables.
pub fn all_rows() -> Vec<Row> {
    let mut v = table(include_str!("../data/special/gamma.csv"));
    v.extend(table(include_str!("../data/special/lbeta.csv")));
    v.extend(table(include_str!("../data/special/erf.csv")));
    v.extend(table(include_str!("../data/special/sigmoid.csv")));
    v.extend(table(include_str!("../data/special/besseli.csv")));
    v
}

/// Relative error, or absolute error when |want| < `abs_below`.
pub fn err(got: f64, want: f64, abs_below: f64) -> f64 {
    if got == want {
        return 0.0;
    }
    let d = (got - want).abs();
    if want.abs() < abs_below {
        d
    } else {
        d / want.abs()
    }
}
