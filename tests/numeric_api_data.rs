//! Reading CSV data for a model: each error case is a small file in
//! tests/fixtures/csv/err/ named `<model>__<case>.csv` (`textbook__<model>__…`
//! for a textbook model), snapshotted with its message; files in
//! tests/fixtures/csv/ok/ are read and checked.

mod numeric_common;

use fimkit::numeric::{DataSchema, ModelFunctions};
use numeric_common::PK;
use std::path::Path;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/eval");
    s.set_prepend_module_to_snapshot(false);
    s
}

fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// The model a fixture is for, from its file name.
fn model_for(path: &Path) -> (String, fimkit::ir::Model) {
    let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
    let parts: Vec<&str> = stem.split("__").collect();
    let file = if parts[0] == "textbook" {
        format!("{}/tests/fixtures/textbook/{}.fim", root(), parts[1])
    } else {
        format!("{}/examples/{}.fim", root(), parts[0])
    };
    let src = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = fimkit::load(&src, "m").expect("model loads");
    (
        file.trim_start_matches(root())
            .trim_start_matches('/')
            .to_string(),
        m,
    )
}

#[test]
fn csv_errors_name_row_and_column() {
    settings().bind(|| {
        insta::glob!("fixtures/csv/err/*.csv", |path| {
            let (file, m) = model_for(path);
            let schema = DataSchema::from_model(&m);
            let text = std::fs::read_to_string(path).expect("fixture");
            let err = schema
                .read_csv_path(path)
                .expect_err("fixture must be rejected");
            // Reading from memory gives the same message.
            assert_eq!(
                schema.read_csv(text.as_bytes()).unwrap_err().to_string(),
                err.to_string()
            );
            let inputs: Vec<String> = schema.names().iter().map(|n| n.to_string()).collect();
            insta::assert_snapshot!(format!(
                "model: {file} (inputs: {})\n--- csv\n{text}\n--- error\n{err}\n",
                inputs.join(", ")
            ));
        });
    });
}

#[test]
fn csv_ok_files_read_in_model_order() {
    let cases = [
        ("logistic_regression", 4, vec![1.0, -1.0, 0.5]),
        ("dirichlet3", 2, vec![0.2, 0.3, 0.5]),
        ("gamma", 4, vec![0.5]),
    ];
    for (name, n_rows, first) in cases {
        let path = format!("{}/tests/fixtures/csv/ok/{name}.csv", root());
        let src = std::fs::read_to_string(format!("{}/examples/{name}.fim", root())).unwrap();
        let m = fimkit::load(&src, name).unwrap();
        let f = ModelFunctions::new(&m).unwrap();
        let data = f.schema().read_csv_path(Path::new(&path)).unwrap();
        assert_eq!(data.n_rows(), n_rows, "{name}");
        assert_eq!(data.row(0).unwrap(), first.as_slice(), "{name}");
        assert_eq!(data.to_matrix().nrows(), n_rows);
    }
}

#[test]
fn large_files_stream_and_ignore_extra_columns() {
    // 50 000 rows with three unused columns: only the model's column is kept.
    let mut text = String::from("a,x,b,c\n");
    for i in 0..50_000 {
        text.push_str(&format!("{i},{},{},text\n", 0.5 + (i % 7) as f64, i * 2));
    }
    let src = "param alpha : positive\nparam beta : positive\ndata x : positive\nx ~ gamma(alpha, beta)\n";
    let f = ModelFunctions::new(&fimkit::load(src, "g").unwrap()).unwrap();
    let data = f.schema().read_csv(text.as_bytes()).unwrap();
    assert_eq!(data.n_rows(), 50_000);
    assert_eq!(data.values().len(), 50_000);
    assert_eq!(data.row(3).unwrap(), &[3.5]);
}

#[test]
fn matrix_and_row_inputs_are_checked() {
    let src = "param p : unit\ndata y : {0, 1}\ncovariate z : positive\ny ~ bernoulli(p*z/(1+z))\n";
    let schema = DataSchema::from_model(&fimkit::load(src, "m").unwrap());
    assert_eq!(
        schema
            .dataset_from_rows(vec![1.0, 0.5, 0.0])
            .unwrap_err()
            .to_string(),
        "the data must have 2 columns (one per model input), not 3 values (not a multiple of 2)"
    );
    assert_eq!(
        schema
            .dataset_from_rows(vec![1.0, 0.5, 0.0, -1.0])
            .unwrap_err()
            .to_string(),
        "row 2, column `z`: -1 is outside the domain of the covariate `z`, positive (0, inf)"
    );
    assert_eq!(
        schema
            .dataset_from_rows(vec![1.0, f64::INFINITY])
            .unwrap_err()
            .to_string(),
        "row 1, column `z`: inf is not a finite number"
    );
    assert_eq!(
        schema
            .dataset_from_matrix(&nalgebra::DMatrix::zeros(2, 3))
            .unwrap_err()
            .to_string(),
        "the data must have 2 columns (one per model input), not 3 columns"
    );
}

/// `sum_rows` of a model that depends on θ through linear forms (one form:
/// logistic and Poisson, a block of rows at a time; two: a normal with a linear mean and a log-linear scale) takes
/// the Gram path (several forms: the pairs' cross terms), and so does
/// `summary` with `Σ s sᵀ`; over several parallel blocks it equals the row-by-row
/// fold, and a row that fails names the same row with the same message.
#[test]
fn sum_rows_through_linear_forms_equals_the_row_fold() {
    let cases = [
        (
            "param b[1..3] : real\ncovariate z[1..3] : real\ndata y : {0, 1}\n\
             y ~ bernoulli(sigmoid(sum(k in 1..3, b[k]*z[k])))\n",
            1,
            vec![0.3, -0.4, 0.2],
        ),
        (
            "param b[1..3] : real\ncovariate z[1..3] : real\ndata y : count\n\
             y ~ poisson(exp(sum(k in 1..3, b[k]*z[k])))\n",
            1,
            vec![0.3, -0.4, 0.2],
        ),
        (
            "param a : real\nparam b : real\nparam c : real\nparam s : real\n\
             covariate x : real\ndata y : real\ny ~ normal(a + b*x, exp(c + s*x))\n",
            2,
            vec![0.5, -1.0, 0.1, 0.3],
        ),
    ];
    for (src, forms, theta) in cases {
        let m = fimkit::load(src, "m").unwrap();
        let f = ModelFunctions::new(&m).unwrap();
        // The normal's forms: its mean and its log-scale (and the scale).
        assert!(f.linear_forms().is_some_and(|m| m >= forms), "{src}");
        let w = f.schema().names().len();
        let n = 40_000; // three blocks of the Gram kernel
        let mut values = Vec::with_capacity(n * w);
        for r in 0..n {
            for j in 0..w {
                let u = ((r * 7919 + j * 104_729) % 1000) as f64 / 1000.0;
                // y first for the logistic model, last for the normal one
                let is_y = &*f.schema().names()[j] == "y";
                values.push(match (is_y, forms) {
                    (true, 1) => {
                        f64::from(u8::from(u < 0.4)) * if src.contains("count") { 3.0 } else { 1.0 }
                    }
                    _ => 2.0 * u - 1.0,
                });
            }
        }
        let data = f.schema().dataset_from_rows(values.clone()).unwrap();
        let theta = nalgebra::DVector::from_vec(theta);
        let fast = f.sum_rows(&theta, &data).unwrap();
        let d = theta.len();
        let (v, g, h, o) = f
            .fold_rows(
                &theta,
                &data,
                || (0.0, vec![0.0; d], vec![0.0; d * d], vec![0.0; d * d]),
                |acc, r| {
                    acc.0 += r.log_density;
                    acc.1.iter_mut().zip(r.score).for_each(|(a, x)| *a += x);
                    acc.2.iter_mut().zip(r.hessian).for_each(|(a, x)| *a += x);
                    for (k, row) in acc.3.chunks_mut(d).enumerate() {
                        row.iter_mut()
                            .zip(r.score)
                            .for_each(|(a, x)| *a += r.score[k] * x);
                    }
                },
                |mut a, b| {
                    a.0 += b.0;
                    a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
                    a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
                    a.3.iter_mut().zip(&b.3).for_each(|(x, y)| *x += y);
                    a
                },
            )
            .unwrap();
        // `summary` (eval --data) takes the same path, with Σ s sᵀ too.
        let sm = f.summary(&theta, &data).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * a.abs().max(b.abs()).max(1.0);
        assert!(close(fast.loglik, v), "{src}: {} vs {v}", fast.loglik);
        for i in 0..d {
            assert!(close(fast.score[i], g[i]), "{src}: score[{i}]");
            for j in 0..d {
                let (x, y) = (fast.hessian[(i, j)], h[i * d + j]);
                assert!(close(x, y), "{src}: H[{i}][{j}] {x} vs {y}");
                assert!(
                    close(-sm.observed_information[(i, j)], y),
                    "{src}: J[{i}][{j}]"
                );
                let (x, y) = (sm.empirical_fisher[(i, j)], o[i * d + j]);
                assert!(close(x, y), "{src}: s sᵀ[{i}][{j}] {x} vs {y}");
            }
        }
        // A row whose mean or scale overflows fails with the same message
        // on both paths (the logistic model stays finite at any finite
        // predictor).
        if src.contains("bernoulli") {
            continue;
        }
        let bad = 23_456;
        let j = f.schema().names().iter().position(|c| &**c != "y").unwrap();
        values[bad * w + j] = 1e300;
        let data = f.schema().dataset_from_rows(values).unwrap();
        let (e_fast, e_fold) = sum_and_fold_errors(&f, &theta, &data);
        assert_eq!(e_fast, e_fold, "{src}");
        let e_summary = f.summary(&theta, &data).unwrap_err().to_string();
        assert_eq!(e_summary, e_fold, "{src}");
        assert!(e_fast.contains("23457"), "{src}: {e_fast}");
    }
}

/// `sum_rows` (the fast path: n·H per block when H does not depend on the
/// data) gives the same sums as `summary` (row by row), for models whose
/// Hessian does (logistic regression, Dirichlet) and does not (Gamma)
/// depend on the data, on the test CSVs and on the fit data sets.
#[test]
fn sum_rows_equals_the_row_by_row_summary() {
    let cases = [
        (
            "logistic_regression",
            "tests/fixtures/csv/ok/logistic_regression.csv",
            vec![0.3, -0.7, 0.2],
        ),
        (
            "logistic_regression",
            "tests/data/fit/logistic.csv",
            vec![-0.5, 1.1, -0.9],
        ),
        (
            "dirichlet3",
            "tests/fixtures/csv/ok/dirichlet3.csv",
            vec![1.5, 2.0, 3.5],
        ),
        ("gamma", "tests/fixtures/csv/ok/gamma.csv", vec![2.0, 1.5]),
        ("gamma", "tests/data/fit/gamma.csv", vec![2.5, 1.2]),
    ];
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    for (name, csv, theta) in cases {
        let src = std::fs::read_to_string(format!("{}/examples/{name}.fim", root())).unwrap();
        let m = fimkit::load(&src, name).unwrap();
        let f = ModelFunctions::new(&m).unwrap();
        let data = f
            .schema()
            .read_csv_path(&Path::new(root()).join(csv))
            .unwrap();
        let theta = nalgebra::DVector::from_vec(theta);
        let fast = f.sum_rows(&theta, &data).unwrap();
        let slow = f.summary(&theta, &data).unwrap();
        assert_eq!(fast.n_rows, slow.n_rows, "{name} {csv}");
        assert!(close(fast.loglik, slow.loglik), "{name} {csv}: loglik");
        for i in 0..theta.len() {
            assert!(
                close(fast.score[i], slow.gradient[i]),
                "{name} {csv}: score[{i}]"
            );
            for j in 0..theta.len() {
                assert!(
                    close(fast.hessian[(i, j)], -slow.observed_information[(i, j)]),
                    "{name} {csv}: H[{i}][{j}] {} vs {}",
                    fast.hessian[(i, j)],
                    -slow.observed_information[(i, j)]
                );
            }
        }
    }
}

/// The block evaluator of a one-form model gives each row's value,
/// derivatives and coefficient row bit for bit as row by row (the data-only
/// work — an exposure's log, `1 − y` — included).
#[test]
fn forms_block_gives_the_row_by_row_numbers_bit_for_bit() {
    use fimkit::numeric::compiled::Tape;
    use fimkit::numeric::linear::{FORMS_BLOCK, LinearHessian};
    let sources = [
        "param b0 : real\nparam b1 : real\ncovariate x : real\ncovariate t : positive\n\
         data y : count\ny ~ poisson(t * exp(b0 + b1*x))\n",
        "param b[1..3] : real\ncovariate z[1..3] : real\ndata y : {0, 1}\n\
         y ~ bernoulli(sigmoid(sum(k in 1..3, b[k]*z[k])))\n",
    ];
    for src in sources {
        let m = fimkit::load(src, "m").unwrap();
        let f = ModelFunctions::new(&m).unwrap();
        let names = f.schema().names();
        let tape = Tape::compile(&[m.logp_numeric()], &m.param_names(), &names).unwrap();
        let lh = LinearHessian::new(&m.logp_numeric(), &m.param_names(), &names)
            .unwrap()
            .expect("one linear form");
        let mut blk = lh.block_workspace().expect("one form");
        let mut ws = lh.workspace();
        let (w, d, n) = (names.len(), m.param_names().len(), FORMS_BLOCK - 3);
        let x: Vec<f64> = (0..n * w)
            .map(|i| {
                let (r, c) = (i / w, i % w);
                match &*names[c] {
                    "y" => (r % 2) as f64,
                    "t" => 0.5 + (r % 7) as f64,
                    _ => ((r * 31 + c * 17) % 23) as f64 / 7.0 - 1.5,
                }
            })
            .collect();
        let theta: Vec<f64> = (0..d).map(|k| 0.4 - 0.3 * k as f64).collect();
        let mut a = vec![0.0; n * d];
        assert!(lh.forms_block(&theta, &x, n, w, &mut blk, &mut a), "{src}");
        for i in 0..n {
            let (v, g, h) = lh
                .forms_row(&tape, &theta, &x[i * w..(i + 1) * w], &mut ws)
                .unwrap();
            assert_eq!(v.to_bits(), blk.value[i].to_bits(), "{src} row {i}");
            assert_eq!(g[0].to_bits(), blk.grad[i].to_bits(), "{src} row {i}");
            assert_eq!(h[0].to_bits(), blk.hess[i].to_bits(), "{src} row {i}");
            assert_eq!(
                lh.coefficient_rows(&ws),
                &a[i * d..(i + 1) * d],
                "{src} row {i}"
            );
        }
        // Per-row outputs (`fold_rows`, `Model::rows`) through the block
        // evaluator: each row as `derivatives` at that row, bit for bit.
        let data = f.schema().dataset_from_rows(x.clone()).unwrap();
        let t = nalgebra::DVector::from_vec(theta.clone());
        let rows = f
            .fold_rows(
                &t,
                &data,
                Vec::new,
                |acc, r| acc.push((r.row, r.log_density, r.score.to_vec(), r.hessian.to_vec())),
                |mut a, b| {
                    a.extend(b);
                    a
                },
            )
            .unwrap();
        assert_eq!(rows.len(), n);
        for (i, v, g, h) in rows {
            let xi = nalgebra::DVector::from_column_slice(&x[i * w..(i + 1) * w]);
            let p = f.derivatives(&t, &xi).unwrap();
            let bits = |s: &[f64]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(v.to_bits(), p.log_density.to_bits(), "{src} row {i}");
            assert_eq!(bits(&g), bits(p.score.as_slice()), "{src} row {i}");
            // Row-major (the two triangles may differ in the last bit).
            let hp = p.hessian.transpose();
            assert_eq!(bits(&h), bits(hp.as_slice()), "{src} row {i}");
        }
    }
}

/// A separable model's `sum_rows` sums the data factors column by column;
/// a row where a factor is not finite (log 0) still fails with the row
/// named, the same message as row by row.
#[test]
fn separable_sums_name_the_failing_row() {
    let src = "param a : real\ndata x : real\nlogp += a*log(x^2) - a^2\n";
    let m = fimkit::load(src, "logsq").unwrap();
    let f = ModelFunctions::new(&m).unwrap();
    assert!(f.separable_factors().is_some(), "the separable engine");
    let n = 50_000;
    let mut values: Vec<f64> = (0..n).map(|i| 0.5 + (i % 97) as f64 / 31.0).collect();
    let theta = nalgebra::DVector::from_vec(vec![0.7]);
    let data = f.schema().dataset_from_rows(values.clone()).unwrap();
    let fast = f.sum_rows(&theta, &data).unwrap();
    let slow = f.summary(&theta, &data).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    assert!(
        close(fast.loglik, slow.loglik),
        "{} vs {}",
        fast.loglik,
        slow.loglik
    );
    assert!(close(fast.score[0], slow.gradient[0]));
    assert!(close(
        fast.hessian[(0, 0)],
        -slow.observed_information[(0, 0)]
    ));
    values[31_415] = 0.0;
    let data = f.schema().dataset_from_rows(values).unwrap();
    let (e_fast, e_fold) = sum_and_fold_errors(&f, &theta, &data);
    assert_eq!(e_fast, e_fold);
    assert!(e_fast.contains("31416"), "{e_fast}");
}

/// The errors of `sum_rows` (the structure-aware sums) and of the plain
/// row fold on a dataset where both must fail.
fn sum_and_fold_errors(
    f: &ModelFunctions,
    theta: &nalgebra::DVector<f64>,
    data: &fimkit::numeric::Dataset,
) -> (String, String) {
    let e_fast = f.sum_rows(theta, data).unwrap_err().to_string();
    let e_fold = f
        .fold_rows(theta, data, || (), |_, _| (), |_, _| ())
        .unwrap_err()
        .to_string();
    (e_fast, e_fold)
}

/// The derivative engine over many blocks and chunks: the sums and the
/// per-row arrays equal the tree walk's row by row; where the curve is
/// 0/0 (ka = ke) every block falls back to the duals, which name the
/// first row.
#[test]
fn the_derivative_engine_sums_and_rows_equal_the_tree_walk() {
    let m = fimkit::load(PK, "pk").unwrap();
    let f = ModelFunctions::new(&m).unwrap();
    assert!(
        matches!(f.engine(), fimkit::numeric::Engine::Derivatives { .. }),
        "{:?}",
        f.engine()
    );
    let n = 5_000; // blocks of 64 rows, chunks, a short last block
    let rows: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let t = 0.25 + (i % 97) as f64 / 4.0;
            let y = 5.0 + ((i * 7919) % 1000) as f64 / 250.0 - 2.0;
            [y, t]
        })
        .collect();
    let inputs = f.input_names();
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| {
            inputs
                .iter()
                .map(move |n| if &**n == "t" { r[1] } else { r[0] })
        })
        .collect();
    let data = f.schema().dataset_from_rows(values).unwrap();
    let theta = vec![1.5, 0.2, 10.0, 0.5];
    let params = f.param_names();
    let (mut v, mut g, mut h) = (0.0, [0.0; 4], [[0.0; 4]; 4]);
    let model = fimkit::Model::from_source(PK, "pk").unwrap();
    let per_row = model.rows(&theta, &data, true, true).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * a.abs().max(b.abs()).max(1.0);
    for (i, r) in rows.iter().enumerate() {
        let vals = |name: &str| match name {
            "t" => Some(r[1]),
            "y" => Some(r[0]),
            _ => params.iter().position(|p| &**p == name).map(|k| theta[k]),
        };
        let (rv, rg, rh) =
            fimkit::numeric::eval::gradient_hessian(&m.logp_numeric(), &params, &vals).unwrap();
        assert!(close(per_row.log_density[i], rv), "row {i}: value");
        v += rv;
        for a in 0..4 {
            assert!(close(per_row.score[i * 4 + a], rg[a]), "row {i}: score {a}");
            g[a] += rg[a];
            for b in 0..4 {
                let got = per_row.hessian[i * 16 + a * 4 + b];
                assert!(close(got, rh[(a, b)]), "row {i}: H[{a}][{b}]");
                h[a][b] += rh[(a, b)];
            }
        }
    }
    let s = f
        .sum_rows(&nalgebra::DVector::from_vec(theta.clone()), &data)
        .unwrap();
    assert!(close(s.loglik, v), "{} vs {v}", s.loglik);
    for (a, ha) in h.iter().enumerate() {
        assert!(close(s.score[a], g[a]), "score {a}");
        for (b, hab) in ha.iter().enumerate() {
            assert!(close(s.hessian[(a, b)], *hab), "H[{a}][{b}]");
        }
    }
    let theta = nalgebra::DVector::from_vec(vec![1.0, 1.0, 10.0, 0.5]);
    let (e_fast, e_fold) = sum_and_fold_errors(&f, &theta, &data);
    assert_eq!(e_fast, e_fold);
    assert!(e_fast.contains("row 1"), "{e_fast}");
}
