//! The library's typed errors: a caller can match on what went wrong (the
//! variant and its fields) and follow `std::error::Error::source` to the
//! underlying failure, while every message keeps its words.

use fimkit::fisher::at_point::{self, AtPointError};
use fimkit::numeric::eval::EvalError;
use fimkit::numeric::{NumericError, Wording};
use fimkit::{ArgumentError, Error, Model};
use std::error::Error as _;

fn example(name: &str) -> Model {
    Model::from_file(format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))).expect(name)
}

#[test]
fn a_parameter_outside_its_domain_is_the_domain_variant_with_its_name() {
    let m = example("examples/normal.fim");
    let err = m.fisher_information(&[0.0, -1.0]).unwrap_err();
    let Error::Evaluation(NumericError::OutsideDomain {
        param,
        value,
        wording: Wording::Evaluation,
        ..
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(&**param, "sigma");
    assert_eq!(*value, -1.0);
    assert_eq!(
        err.to_string(),
        "parameter `sigma` = -1 is outside its domain, positive (0, inf)"
    );
    // The front door's error wraps the numeric one, and says so.
    let source = err.source().expect("a source");
    assert!(matches!(
        source.downcast_ref::<NumericError>(),
        Some(NumericError::OutsideDomain { .. })
    ));
    assert_eq!(source.to_string(), err.to_string());
    // The same failure from the evaluation API, by name.
    let e = m.theta(&[("mu", 0.0), ("sigma", f64::NAN)]).unwrap_err();
    assert!(
        matches!(&e, Error::Evaluation(NumericError::OutsideDomain { param, .. }) if &**param == "sigma"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "parameter `sigma` = NaN is not a finite number (domain positive (0, inf))"
    );
}

#[test]
fn an_irregular_model_is_a_numeric_fim_error_of_the_one_numeric_type() {
    let m = example("tests/fixtures/check/uniform_theta.fim");
    let err = m.fisher_information(&[2.0]).unwrap_err();
    let Error::NumericFim(NumericError::Irregular { var, param, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((&**var, &**param), ("x", "theta"));
    assert!(err.to_string().starts_with("the support of `x`, "), "{err}");
    assert!(err.source().unwrap().is::<NumericError>());
}

#[test]
fn an_entry_that_fails_at_the_point_exposes_the_evaluation_error() {
    let m = example("examples/normal.fim");
    let d = m.derive();
    // σ has no value: an entry of F that holds σ cannot be evaluated.
    let err = at_point::evaluate(m.ir(), d, &[("mu", 0.0)]).unwrap_err();
    let AtPointError::Entry { row, col, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*row, *col), (1, 1));
    assert!(err.to_string().starts_with("F[1][1]: "), "{err}");
    assert_eq!(err.to_string(), format!("F[1][1]: {error}"));
    let source = err.source().expect("the evaluation error");
    assert_eq!(source.downcast_ref::<EvalError>(), Some(error));
}

#[test]
fn a_row_of_a_design_that_overflows_is_an_at_point_error_with_its_cause() {
    let m = example("examples/logistic_regression.fim");
    let design = m
        .design(&[("z1", &[0.5, 1e200][..]), ("z2", &[1.0, 2.0][..])])
        .expect("a design");
    let err = m
        .fisher_information_over(&[0.1, 0.2, 0.3], &design)
        .unwrap_err();
    // z1² = 1e400 in an entry of the second row's F.
    let Error::AtPoint(at @ AtPointError::Rows(e @ EvalError::NonFinite { expr, .. })) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(expr, "z1^2");
    // Error -> AtPointError -> the evaluator's error.
    let source = err.source().expect("the at-point error");
    assert_eq!(source.downcast_ref::<AtPointError>(), Some(at));
    assert_eq!(
        source.source().and_then(|s| s.downcast_ref::<EvalError>()),
        Some(e)
    );
}

#[test]
fn no_closed_form_carries_the_blocker() {
    let m: Model = "param mu : real\nparam s : positive\ndata x : real\n\
                    logp += -log(pi) - log(s) - log(1 + ((x - mu)/s)^2)\n"
        .parse()
        .expect("cauchy");
    let d = m.derive();
    let err = at_point::evaluate(m.ir(), d, &[("mu", 0.0), ("s", 1.0)]).unwrap_err();
    let AtPointError::NoClosedForm(blocker) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(Err(blocker), d.fisher.as_ref().map(|_| ()));
    assert_eq!(err.to_string(), format!("no closed form: {blocker}"));
    assert!(err.source().is_none());
}

#[test]
fn a_design_row_names_the_error_beneath_it() {
    let inner = NumericError::Unsupported("a test".into());
    let e = NumericError::Row {
        row: 3,
        covariates: "z = 1".into(),
        error: Box::new(inner.clone()),
    };
    assert_eq!(e.to_string(), "row 3 (z = 1): not supported: a test");
    assert_eq!(
        e.source().and_then(|s| s.downcast_ref::<NumericError>()),
        Some(&inner)
    );
}

#[test]
fn diagnostics_are_errors_one_a_line() {
    let err = Model::from_source(
        "param mu : real\ndata x : real\nx ~ normal(mu, sigam)\n",
        "m",
    )
    .unwrap_err();
    let Error::Model(me) = &err else {
        panic!("{err:?}")
    };
    let d: &dyn std::error::Error = &me.diagnostics[0];
    assert!(d.to_string().starts_with("error[E"), "{d}");
    assert!(!d.to_string().contains("m:3:"), "no position: {d}");
    assert!(err.source().unwrap().is::<fimkit::ModelError>());
}

#[test]
fn arguments_that_do_not_fit_say_what_is_wrong_in_fields() {
    let m = example("examples/normal.fim");
    let err = m.fisher_information(&[0.0]).unwrap_err();
    let Error::Argument(ArgumentError::ParamCount { params, got }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (params.as_slice(), *got),
        (&["mu".to_string(), "sigma".into()][..], 1)
    );
    assert_eq!(
        err.to_string(),
        "the model has 2 parameters (mu, sigma), 1 values were given"
    );
    let err = m
        .dataset(&[("x", &[1.0][..]), ("y", &[2.0][..])])
        .unwrap_err();
    assert!(
        matches!(&err, Error::Argument(ArgumentError::UnknownInput { name, inputs })
            if name == "y" && inputs == &["x"]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`y` is not an input of the model (its inputs: x)"
    );
    let r = example("examples/logistic_regression.fim");
    let err = r.fisher_information(&[0.1, 0.2, 0.3]).unwrap_err();
    assert!(
        matches!(&err, Error::Argument(ArgumentError::HasCovariates(c)) if c == &["z1", "z2"]),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the model has covariates (z1, z2): ")
    );
    let err = r
        .design(&[("z1", &[1.0, 2.0][..]), ("z2", &[1.0][..])])
        .unwrap_err();
    let Error::Argument(a) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        a,
        &ArgumentError::ColumnLength {
            name: "z2".into(),
            len: 1,
            first: "z1".into(),
            first_len: 2
        }
    );
    assert_eq!(err.to_string(), "the column `z2` has 1 values, `z1` has 2");
}
