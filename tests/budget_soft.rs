//! Past the soft deadline (half the command's time budget), a derivation
//! reports F and leaves out det F, F⁻¹, the Jeffreys prior and the natural
//! gradient, saying so. Its own test binary: the deadline is process-wide.

use fimkit::fisher::{DeriveConfig, derive};

#[test]
fn past_the_soft_deadline_f_is_reported_without_the_optional_steps() {
    let src = "param alpha : positive\nparam beta : positive\ndata x : positive\nx ~ gamma(alpha, beta)\n";
    let model = fimkit::load(src, "gamma").expect("model");
    let full = derive(&model, &DeriveConfig::default());
    let full_cf = full.fisher.as_ref().expect("closed form");
    assert!(
        full_cf.omitted.is_none() && full_cf.det.is_some() && full_cf.natural_gradient.is_some()
    );

    let past = std::time::Instant::now() - std::time::Duration::from_secs(1);
    fimkit::budget::set_soft_deadline(Some(past));
    let short = derive(&model, &DeriveConfig::default());
    fimkit::budget::set_soft_deadline(None);
    let cf = short.fisher.as_ref().expect("closed form");
    let omitted = cf.omitted.as_deref().expect("says what it left out");
    assert!(
        omitted.contains("det F") && omitted.contains("natural gradient"),
        "{omitted}"
    );
    assert!(cf.det.is_none() && cf.inverse.is_none() && cf.jeffreys.is_none());
    assert!(cf.natural_gradient.is_none());
    // F itself is the same function (it may be printed unsimplified).
    let (a, b) = (2.5, 1.5);
    let at = |e: &fimkit::Expr| {
        fimkit::numeric::eval::eval_f64(e, &|v| match v {
            "alpha" => Some(a),
            "beta" => Some(b),
            _ => None,
        })
        .expect("F at a point")
    };
    for i in 0..2 {
        for j in 0..2 {
            let (x, y) = (at(&cf.fim[i][j]), at(&full_cf.fim[i][j]));
            assert!(
                (x - y).abs() <= 1e-14 * y.abs().max(1.0),
                "F[{i}][{j}]: {x} vs {y}"
            );
        }
    }
    // The text report says so.
    let text = fimkit::render::derivation::derivation_text(
        &model,
        &short,
        &fimkit::render::text::TextStyle::ascii(),
    );
    assert!(
        text.contains("left out to stay within the time budget: det F"),
        "{text}"
    );
}
