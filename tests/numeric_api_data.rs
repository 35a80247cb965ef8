//! Reading CSV data for a model: each error case is a small file in
//! tests/fixtures/csv/err/ named `<model>__<case>.csv` (`textbook__<model>__…`
//! for a textbook model), snapshotted with its message; files in
//! tests/fixtures/csv/ok/ are read and checked.

use fimkit::numeric::{DataSchema, ModelFunctions};
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
