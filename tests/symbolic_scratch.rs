use fimkit::render::text::{TextStyle, render};
use fimkit::symbolic::simplify::*;
use fimkit::symbolic::{gradient, hessian};

#[test]
fn scratch() {
    let files: Vec<String> = std::env::var("FILES")
        .unwrap_or("examples/normal.fim".into())
        .split(',')
        .map(String::from)
        .collect();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let m = fimkit::load(&src, "m").unwrap();
        let a = Assumptions::from_model(&m);
        let names = m.param_names();
        let g = gradient(&m.logp, &names);
        let h = hessian(&m.logp, &names);
        let t = std::time::Instant::now();
        let sg = simplify_many(&g, &a, &SimplifyConfig::default());
        let sh = simplify_symmetric(&h, &a, &SimplifyConfig::default());
        let el = t.elapsed();
        println!("== {f} {:?} g:{:?} h:{:?}", el, sg.report, sh.report);
        for (e0, (e, b, af)) in g.iter().zip(&sg.exprs) {
            println!(
                "  s {} [{}]\n => {} [{}]",
                render(e0, &TextStyle::ascii()),
                b,
                render(e, &TextStyle::ascii()),
                af
            );
        }
        let n = names.len();
        for i in 0..n {
            for j in i..n {
                println!(
                    "  h{i}{j} {} [{}]\n  => {} [{}]",
                    render(&h[i][j], &TextStyle::ascii()),
                    h[i][j].op_count(),
                    render(&sh.matrix[i][j], &TextStyle::ascii()),
                    sh.matrix[i][j].op_count()
                );
            }
        }
    }
}
