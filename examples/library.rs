//! fimkit as a library: exact derivatives, the Fisher information and a
//! fit, from a model file. Run it with `cargo run --example library`
//! (tests/library_example.rs runs it too).

use fimkit::Model;

pub fn main() -> Result<(), fimkit::Error> {
    let gamma = Model::from_file("examples/gamma.fim")?;
    let theta = gamma.theta(&[("alpha", 2.0), ("beta", 1.5)])?;
    let h = gamma.hessian(theta.as_slice(), &[0.7])?; // exact, hyper-dual numbers
    let f = gamma.fisher_information(theta.as_slice())?; // closed form: ψ₁(α), −1/β, α/β²
    println!(
        "Hessian at x = 0.7: {h}Fisher information ({:?}): {}",
        f.method, f.value
    );

    let logistic = Model::from_file("examples/logistic_regression.fim")?;
    let data = logistic.read_csv("tests/data/fit/logistic.csv")?;
    let fit = logistic.fit(data)?;
    for (i, name) in fit.params.iter().enumerate() {
        let se = fit.std_errors[i].unwrap_or(f64::NAN);
        println!("{name:>3} = {:9.6} ± {se:.6}", fit.estimates[i]);
    }
    Ok(())
}
