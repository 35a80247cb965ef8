//! Special functions for generated Rust (std has none): self-contained
//! snippets, emitted only when a model uses them, each with the snippets
//! it needs. `lgamma`, `erf` and `erfc` are ports of the fdlibm routines
//! (through musl and the `libm` crate, which fimkit itself calls); the
//! rest are ports of `crate::numeric::special`.

use super::cse::Fun;
use std::collections::BTreeSet;

/// A piece of helper code and what it needs.
pub(crate) struct Snippet {
    pub(crate) name: &'static str,
    pub(crate) deps: &'static [&'static str],
    pub(crate) code: &'static str,
}

/// The snippet a function needs, if any.
pub(crate) fn snippet_for(f: Fun) -> Option<&'static str> {
    Some(match f {
        Fun::Sigmoid => "sigmoid",
        Fun::LogSigmoid => "log_sigmoid",
        Fun::Lgamma => "lgamma",
        Fun::Digamma => "digamma",
        Fun::Polygamma(_) => "polygamma",
        Fun::PolygammaDyn => "polygamma_any",
        Fun::Lbeta => "lbeta",
        Fun::Erf => "erf",
        Fun::Erfc => "erfc",
        Fun::NormalCdf => "normal_cdf",
        Fun::LogNormalCdf => "log_normal_cdf",
        Fun::Mills => "mills",
        Fun::MillsShift => "mills_shift",
        Fun::BesselI => "besseli",
        Fun::LogBesselI => "log_besseli",
        _ => return None,
    })
}

/// The snippets `funs` need, dependencies first, each once.
pub(crate) fn resolve<'a>(
    funs: &BTreeSet<Fun>,
    all: &'a [Snippet],
    snippet_for: &dyn Fn(Fun) -> Option<&'static str>,
) -> Vec<&'a Snippet> {
    fn visit<'a>(name: &str, all: &'a [Snippet], out: &mut Vec<&'a Snippet>) {
        if out.iter().any(|s| s.name == name) {
            return;
        }
        if let Some(s) = all.iter().find(|s| s.name == name) {
            for d in s.deps {
                visit(d, all, out);
            }
            out.push(s);
        }
    }
    let mut out = Vec::new();
    for f in funs {
        if let Some(n) = snippet_for(*f) {
            visit(n, all, &mut out);
        }
    }
    out
}

/// Every Rust snippet.
pub(crate) const SNIPPETS: &[Snippet] = &[
    Snippet {
        name: "sigmoid",
        deps: &[],
        code: r#"/// The logistic function 1/(1 + exp(-x)), without overflow.
fn fk_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}
"#,
    },
    Snippet {
        name: "log_sigmoid",
        deps: &[],
        code: r#"/// log(1/(1 + exp(-x))), accurate for every x.
fn fk_log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else if x > -37.0 {
        x - x.exp().ln_1p()
    } else {
        x - x.exp()
    }
}
"#,
    },
    Snippet {
        name: "lgamma",
        deps: &[],
        code: r#"/// sin(pi x), with the argument reduced exactly first.
fn fk_sin_pi(x: f64) -> f64 {
    let x = 2.0 * (x * 0.5 - (x * 0.5).floor());
    let n = ((x * 4.0) as i32 + 1) / 2;
    let y = (x - f64::from(n) * 0.5) * std::f64::consts::PI;
    match n {
        1 => y.cos(),
        2 => (-y).sin(),
        3 => -y.cos(),
        _ => y.sin(),
    }
}

/// log|Gamma(x)|. A port of fdlibm's e_lgamma_r.c (via musl and the libm
/// crate). Copyright (C) 1993 by Sun Microsystems, Inc. All rights
/// reserved. Developed at SunSoft, a Sun Microsystems, Inc. business.
/// Permission to use, copy, modify, and distribute this software is freely
/// granted, provided that this notice is preserved.
fn fk_lgamma(x: f64) -> f64 {
    const A: [f64; 12] = [
        7.72156649015328655494e-02, 3.22467033424113591611e-01, 6.73523010531292681824e-02,
        2.05808084325167332806e-02, 7.38555086081402883957e-03, 2.89051383673415629091e-03,
        1.19270763183362067845e-03, 5.10069792153511336608e-04, 2.20862790713908385557e-04,
        1.08011567247583939954e-04, 2.52144565451257326939e-05, 4.48640949618915160150e-05,
    ];
    const TC: f64 = 1.46163214496836224576e+00;
    const TF: f64 = -1.21486290535849611461e-01;
    const TT: f64 = -3.63867699703950536541e-18;
    const T: [f64; 15] = [
        4.83836122723810047042e-01, -1.47587722994593911752e-01, 6.46249402391333854778e-02,
        -3.27885410759859649565e-02, 1.79706750811820387126e-02, -1.03142241298341437450e-02,
        6.10053870246291332635e-03, -3.68452016781138256760e-03, 2.25964780900612472250e-03,
        -1.40346469989232843813e-03, 8.81081882437654011382e-04, -5.38595305356740546715e-04,
        3.15632070903625950361e-04, -3.12754168375120860518e-04, 3.35529192635519073543e-04,
    ];
    const U: [f64; 6] = [
        -7.72156649015328655494e-02, 6.32827064025093366517e-01, 1.45492250137234768737e+00,
        9.77717527963372745603e-01, 2.28963728064692451092e-01, 1.33810918536787660377e-02,
    ];
    const V: [f64; 6] = [
        0.0, 2.45597793713041134822e+00, 2.12848976379893395361e+00,
        7.69285150456672783825e-01, 1.04222645593369134254e-01, 3.21709242282423911810e-03,
    ];
    const S: [f64; 7] = [
        -7.72156649015328655494e-02, 2.14982415960608852501e-01, 3.25778796408930981787e-01,
        1.46350472652464452805e-01, 2.66422703033638609560e-02, 1.84028451407337715652e-03,
        3.19475326584100867617e-05,
    ];
    const R: [f64; 7] = [
        0.0, 1.39200533467621045958e+00, 7.21935547567138069525e-01, 1.71933865632803078993e-01,
        1.86459191715652901344e-02, 7.77942496381893596434e-04, 7.32668430744625636189e-06,
    ];
    const W: [f64; 7] = [
        4.18938533204672725052e-01, 8.33333333333329678849e-02, -2.77777777728775536470e-03,
        7.93650558643019558500e-04, -5.95187557450339963135e-04, 8.36339918996282139126e-04,
        -1.63092934096575273989e-03,
    ];
    let u = x.to_bits();
    let sign = (u >> 63) != 0;
    let ix = ((u >> 32) as u32) & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return x * x;
    }
    if ix < (0x3ff - 70) << 20 {
        return -x.abs().ln();
    }
    let mut x = x;
    let mut nadj = 0.0;
    if sign {
        x = -x;
        let t = fk_sin_pi(x);
        if t == 0.0 {
            return 1.0 / (x - x);
        }
        nadj = (std::f64::consts::PI / (t.abs() * x)).ln();
    }
    let mut r;
    if (ix == 0x3ff0_0000 || ix == 0x4000_0000) && (u & 0xffff_ffff) == 0 {
        r = 0.0;
    } else if ix < 0x4000_0000 {
        let (y, i);
        if ix <= 0x3fec_cccc {
            r = -x.ln();
            if ix >= 0x3FE7_6944 {
                y = 1.0 - x;
                i = 0;
            } else if ix >= 0x3FCD_A661 {
                y = x - (TC - 1.0);
                i = 1;
            } else {
                y = x;
                i = 2;
            }
        } else {
            r = 0.0;
            if ix >= 0x3FFB_B4C3 {
                y = 2.0 - x;
                i = 0;
            } else if ix >= 0x3FF3_B4C4 {
                y = x - TC;
                i = 1;
            } else {
                y = x - 1.0;
                i = 2;
            }
        }
        match i {
            0 => {
                let z = y * y;
                let p1 = A[0] + z * (A[2] + z * (A[4] + z * (A[6] + z * (A[8] + z * A[10]))));
                let p2 = z * (A[1] + z * (A[3] + z * (A[5] + z * (A[7] + z * (A[9] + z * A[11])))));
                let p = y * p1 + p2;
                r += p - 0.5 * y;
            }
            1 => {
                let z = y * y;
                let w = z * y;
                let p1 = T[0] + w * (T[3] + w * (T[6] + w * (T[9] + w * T[12])));
                let p2 = T[1] + w * (T[4] + w * (T[7] + w * (T[10] + w * T[13])));
                let p3 = T[2] + w * (T[5] + w * (T[8] + w * (T[11] + w * T[14])));
                let p = z * p1 - (TT - w * (p2 + y * p3));
                r += TF + p;
            }
            _ => {
                let p1 = y * (U[0] + y * (U[1] + y * (U[2] + y * (U[3] + y * (U[4] + y * U[5])))));
                let p2 = 1.0 + y * (V[1] + y * (V[2] + y * (V[3] + y * (V[4] + y * V[5]))));
                r += -0.5 * y + p1 / p2;
            }
        }
    } else if ix < 0x4020_0000 {
        let i = x as i32;
        let y = x - f64::from(i);
        let p = y * (S[0] + y * (S[1] + y * (S[2] + y * (S[3] + y * (S[4] + y * (S[5] + y * S[6]))))));
        let q = 1.0 + y * (R[1] + y * (R[2] + y * (R[3] + y * (R[4] + y * (R[5] + y * R[6])))));
        r = 0.5 * y + p / q;
        let mut z = 1.0;
        for k in (3..=i.min(7)).rev() {
            z *= y + f64::from(k - 1);
        }
        if i >= 3 {
            r += z.ln();
        }
    } else if ix < 0x4390_0000 {
        let t = x.ln();
        let z = 1.0 / x;
        let y = z * z;
        let w = W[0] + z * (W[1] + y * (W[2] + y * (W[3] + y * (W[4] + y * (W[5] + y * W[6])))));
        r = (x - 0.5) * (t - 1.0) + w;
    } else {
        r = x * (x.ln() - 1.0);
    }
    if sign {
        r = nadj - r;
    }
    r
}
"#,
    },
    Snippet {
        name: "gamma",
        deps: &["lgamma"],
        code: r#"/// Gamma(x), from log|Gamma| (with the reflection formula for x < 0).
fn fk_gamma(x: f64) -> f64 {
    if x > 0.0 {
        fk_lgamma(x).exp()
    } else if x == x.floor() {
        f64::NAN
    } else {
        std::f64::consts::PI / (fk_sin_pi(x) * fk_lgamma(1.0 - x).exp())
    }
}
"#,
    },
    Snippet {
        name: "erf_core",
        deps: &[],
        code: r#"/// erfc on 0.84375 <= |x| < 28, the shared core of erf and erfc. A port
/// of fdlibm's s_erf.c (via musl and the libm crate). Copyright (C) 1993
/// by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft, a
/// Sun Microsystems, Inc. business. Permission to use, copy, modify, and
/// distribute this software is freely granted, provided that this notice
/// is preserved.
fn fk_erfc2(ix: u32, x: f64) -> f64 {
    const ERX: f64 = 8.45062911510467529297e-01;
    const PA: [f64; 7] = [
        -2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
        3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
        -2.16637559486879084300e-03,
    ];
    const QA: [f64; 7] = [
        0.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
        1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02,
    ];
    const RA: [f64; 8] = [
        -9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
        -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
        -8.12874355063065934246e+01, -9.81432934416914548592e+00,
    ];
    const SA: [f64; 9] = [
        0.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
        6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
        6.57024977031928170135e+00, -6.04244152148580987438e-02,
    ];
    const RB: [f64; 7] = [
        -9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
        -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
        -4.83519191608651397019e+02,
    ];
    const SB: [f64; 8] = [
        0.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
        3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
        -2.24409524465858183362e+01,
    ];
    if ix < 0x3ff4_0000 {
        let s = x.abs() - 1.0;
        let p = PA[0] + s * (PA[1] + s * (PA[2] + s * (PA[3] + s * (PA[4] + s * (PA[5] + s * PA[6])))));
        let q = 1.0 + s * (QA[1] + s * (QA[2] + s * (QA[3] + s * (QA[4] + s * (QA[5] + s * QA[6])))));
        return 1.0 - ERX - p / q;
    }
    let x = x.abs();
    let s = 1.0 / (x * x);
    let (r, big_s);
    if ix < 0x4006_db6d {
        r = RA[0] + s * (RA[1] + s * (RA[2] + s * (RA[3] + s * (RA[4] + s * (RA[5] + s * (RA[6] + s * RA[7]))))));
        big_s = 1.0 + s * (SA[1] + s * (SA[2] + s * (SA[3] + s * (SA[4] + s * (SA[5] + s * (SA[6] + s * (SA[7] + s * SA[8])))))));
    } else {
        r = RB[0] + s * (RB[1] + s * (RB[2] + s * (RB[3] + s * (RB[4] + s * (RB[5] + s * RB[6])))));
        big_s = 1.0 + s * (SB[1] + s * (SB[2] + s * (SB[3] + s * (SB[4] + s * (SB[5] + s * (SB[6] + s * SB[7]))))));
    }
    let z = f64::from_bits(x.to_bits() & 0xffff_ffff_0000_0000);
    (-z * z - 0.5625).exp() * ((z - x) * (z + x) + r / big_s).exp() / x
}

/// The rational approximation of erf on |x| < 0.84375: erf(x) = x + x*y.
fn fk_erf_small(z: f64) -> f64 {
    const PP: [f64; 5] = [
        1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
        -5.77027029648944159157e-03, -2.37630166566501626084e-05,
    ];
    const QQ: [f64; 6] = [
        0.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
        1.32494738004321644526e-04, -3.96022827877536812320e-06,
    ];
    let r = PP[0] + z * (PP[1] + z * (PP[2] + z * (PP[3] + z * PP[4])));
    let s = 1.0 + z * (QQ[1] + z * (QQ[2] + z * (QQ[3] + z * (QQ[4] + z * QQ[5]))));
    r / s
}
"#,
    },
    Snippet {
        name: "erf",
        deps: &["erf_core"],
        code: r#"/// The error function (fdlibm).
fn fk_erf(x: f64) -> f64 {
    const EFX8: f64 = 1.02703333676410069053e+00;
    let hi = (x.to_bits() >> 32) as u32;
    let sign = (hi >> 31) != 0;
    let ix = hi & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return 1.0 - 2.0 * f64::from(u8::from(sign)) + 1.0 / x;
    }
    if ix < 0x3feb_0000 {
        if ix < 0x3e30_0000 {
            return 0.125 * (8.0 * x + EFX8 * x);
        }
        return x + x * fk_erf_small(x * x);
    }
    let y = if ix < 0x4018_0000 {
        1.0 - fk_erfc2(ix, x)
    } else {
        1.0 - f64::from_bits(0x0010_0000_0000_0000)
    };
    if sign { -y } else { y }
}
"#,
    },
    Snippet {
        name: "erfc",
        deps: &["erf_core"],
        code: r#"/// The complementary error function 1 - erf(x), accurate in the tail (fdlibm).
fn fk_erfc(x: f64) -> f64 {
    let hi = (x.to_bits() >> 32) as u32;
    let sign = (hi >> 31) != 0;
    let ix = hi & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return 2.0 * f64::from(u8::from(sign)) + 1.0 / x;
    }
    if ix < 0x3feb_0000 {
        if ix < 0x3c70_0000 {
            return 1.0 - x;
        }
        let y = fk_erf_small(x * x);
        if sign || ix < 0x3fd0_0000 {
            return 1.0 - (x + x * y);
        }
        return 0.5 - (x - 0.5 + x * y);
    }
    if ix < 0x403c_0000 {
        return if sign { 2.0 - fk_erfc2(ix, x) } else { fk_erfc2(ix, x) };
    }
    let tiny = f64::from_bits(0x0010_0000_0000_0000);
    if sign { 2.0 - tiny } else { tiny * tiny }
}
"#,
    },
    Snippet {
        name: "log_normal_cdf",
        deps: &["normal_cdf"],
        code: r#"/// log(Phi(x)), accurate for every x: log1p(-Phi(-x)) above 0, log(Phi(x))
/// down to -20, and below (Phi underflows from -38 on) log(phi(x)) - log(r)
/// with r = phi(x)/Phi(x) from Laplace's continued fraction
/// Phi(x)/phi(x) = 1/L1, L_k = t + k/L_(k+1), t = -x (40 levels are
/// exact to double precision from t = 5 on).
fn fk_log_normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x >= 0.0 {
        return (-fk_normal_cdf(-x)).ln_1p();
    }
    if x > -20.0 {
        return fk_normal_cdf(x).ln();
    }
    let t = -x;
    let mut l = t;
    for k in (2..=40u32).rev() {
        l = t + f64::from(k) / l;
    }
    let r = t + 1.0 / l;
    // log(phi(x)) = -x^2/2 - log(sqrt(2 pi)), with x^2 carried exactly.
    let hi = x * x;
    let lo = x.mul_add(x, -hi);
    (-0.5 * hi - 0.918_938_533_204_672_8) - 0.5 * lo - r.ln()
}
"#,
    },
    Snippet {
        name: "mills_parts",
        deps: &["normal_cdf"],
        code: r#"/// The inverse Mills ratio r = phi(x)/Phi(x) and q = x + r, both to full
/// relative accuracy: directly above -2, below from Laplace's continued
/// fraction Phi(x)/phi(x) = 1/L1, L_k = t + k/L_(k+1), t = -x, as
/// r = t + 1/L2 and q = 1/L2 (x + r would cancel there).
fn fk_mills_parts(x: f64) -> (f64, f64) {
    if x.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    if x >= 39.0 {
        // phi(x) < 5e-324: r is 0 (and x^2 may overflow).
        return (0.0, x);
    }
    if x > -2.0 {
        // phi(x) with x^2 carried exactly.
        let hi = x * x;
        let lo = x.mul_add(x, -hi);
        let pdf = (-0.5 * hi).exp() * (1.0 - 0.5 * lo) * 0.398_942_280_401_432_7;
        let r = pdf / fk_normal_cdf(x);
        return (r, x + r);
    }
    let t = -x;
    let levels = if t < 2.5 {
        160
    } else if t < 5.0 {
        80
    } else {
        40
    };
    let mut l = t;
    for k in (2..=levels).rev() {
        l = t + f64::from(k) / l;
    }
    (t + 1.0 / l, 1.0 / l)
}
"#,
    },
    Snippet {
        name: "mills",
        deps: &["mills_parts"],
        code: r#"/// phi(x)/Phi(x), the derivative of log(Phi(x)).
fn fk_mills(x: f64) -> f64 {
    fk_mills_parts(x).0
}
"#,
    },
    Snippet {
        name: "mills_shift",
        deps: &["mills_parts"],
        code: r#"/// x + phi(x)/Phi(x), so that (log Phi)'' = -fk_mills(x) fk_mills_shift(x).
fn fk_mills_shift(x: f64) -> f64 {
    fk_mills_parts(x).1
}
"#,
    },
    Snippet {
        name: "normal_cdf",
        deps: &["erfc"],
        code: r#"/// The standard normal CDF Phi(x) = erfc(-x/sqrt(2))/2, with the rounding
/// error of -x/sqrt(2) corrected to first order (full accuracy in the tail).
fn fk_normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let nx = -x;
    let z = nx * std::f64::consts::FRAC_1_SQRT_2;
    if z.abs() < 1.0 {
        return 0.5 * fk_erfc(z);
    }
    const C_LO: f64 = -4.833_646_656_726_457e-17;
    let delta = nx.mul_add(std::f64::consts::FRAC_1_SQRT_2, -z) + nx * C_LO;
    let hi = z * z;
    let lo = z.mul_add(z, -hi);
    let slope = std::f64::consts::FRAC_2_SQRT_PI * (-hi).exp() * (1.0 - lo);
    0.5 * (fk_erfc(z) - delta * slope)
}
"#,
    },
    Snippet {
        name: "digamma",
        deps: &[],
        code: r#"/// The digamma function psi(x) = d/dx log Gamma(x); NaN at 0, -1, -2, ...
fn fk_digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // Reflection: psi(x) = psi(1 - x) - pi cot(pi x).
        let r = x - x.round();
        return fk_digamma(1.0 - x) - std::f64::consts::PI / (std::f64::consts::PI * r).tan();
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    let mut x = x;
    let mut shift = 0.0;
    while x < 10.0 {
        shift += 1.0 / x;
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    let tail = z
        * (1.0 / 12.0
            - z * (1.0 / 120.0
                - z * (1.0 / 252.0
                    - z * (1.0 / 240.0
                        - z * (1.0 / 132.0 - z * (691.0 / 32760.0 - z * (1.0 / 12.0)))))));
    x.ln() - 0.5 / x - tail - shift
}
"#,
    },
    Snippet {
        name: "frexp",
        deps: &[],
        code: r#"/// x = m 2^e with 0.5 <= |m| < 1 (musl's frexp).
fn fk_frexp(x: f64) -> (f64, i32) {
    let mut y = x.to_bits();
    let ee = ((y >> 52) & 0x7ff) as i32;
    if ee == 0 {
        if x != 0.0 {
            let (m, e) = fk_frexp(x * f64::from_bits(0x43f0_0000_0000_0000));
            return (m, e - 64);
        }
        return (x, 0);
    } else if ee == 0x7ff {
        return (x, 0);
    }
    y &= 0x800f_ffff_ffff_ffff;
    y |= 0x3fe0_0000_0000_0000;
    (f64::from_bits(y), ee - 0x3fe)
}

/// x 2^n without intermediate overflow (musl's scalbn).
fn fk_scalbn(x: f64, n: i32) -> f64 {
    let big = f64::from_bits(0x7fe0_0000_0000_0000);
    let small = f64::from_bits(0x0010_0000_0000_0000) * f64::from_bits(0x4340_0000_0000_0000);
    let (mut y, mut n) = (x, n);
    if n > 1023 {
        y *= big;
        n -= 1023;
        if n > 1023 {
            y *= big;
            n = (n - 1023).min(1023);
        }
    } else if n < -1022 {
        y *= small;
        n += 1022 - 53;
        if n < -1022 {
            y *= small;
            n = (n + 1022 - 53).max(-1022);
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}
"#,
    },
    Snippet {
        name: "polygamma",
        deps: &["digamma", "frexp"],
        code: r#"/// The polygamma function psi^(n)(x), the n-th derivative of digamma, for
/// n = 0..=170: (-1)^(n+1) n! zeta(n+1, x), the Hurwitz zeta function
/// summed directly up to x + N >= n + 11 and finished with the
/// Euler-Maclaurin tail, every term scaled by a power of two so nothing
/// overflows on the way. NaN where too many digits would cancel (x < 0).
fn fk_polygamma(n: u32, x: f64) -> f64 {
    const B: [f64; 20] = [
        0.08333333333333333, -0.001388888888888889, 3.306878306878307e-05,
        -8.267195767195768e-07, 2.08767569878681e-08, -5.284190138687493e-10,
        1.3382536530684679e-11, -3.3896802963225827e-13, 8.586062056277845e-15,
        -2.174868698558062e-16, 5.5090028283602295e-18, -1.3954464685812522e-19,
        3.534707039629467e-21, -8.953517427037546e-23, 2.267952452337683e-24,
        -5.744790668872202e-26, 1.455172475614865e-27, -3.6859949406653103e-29,
        9.336734257095045e-31, -2.36502241570063e-32,
    ];
    if n == 0 {
        return fk_digamma(x);
    }
    if x.is_nan() || n > 170 || (x <= 0.0 && x == x.floor()) {
        return f64::NAN;
    }
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
    if x == f64::INFINITY {
        return 0.0;
    }
    let s = n as i32 + 1;
    let sf = f64::from(s);
    let w_min = sf + 11.0;
    let terms = if x >= w_min { 0 } else { (w_min - x).ceil() as usize };
    let smallest = if x > 0.0 { x } else { (x - x.round()).abs() };
    let (_, e) = fk_frexp(smallest);
    let scale = fk_scalbn(1.0, -e);
    let mut sum = 0.0;
    let mut biggest: f64 = 0.0;
    for k in (0..terms).rev() {
        let t = ((x + k as f64) * scale).powi(-s);
        biggest = biggest.max(t.abs());
        sum += t;
    }
    let w = x + terms as f64;
    let inv_w = 1.0 / w;
    let inv_w2 = inv_w * inv_w;
    let mut rising = sf;
    let mut wpow = inv_w;
    let mut em = 0.0;
    for (j, &c) in B.iter().enumerate() {
        let t = c * rising * wpow;
        em += t;
        if t.abs() < 1e-18 * em.abs() {
            break;
        }
        let j2 = 2.0 * (j as f64 + 1.0);
        rising *= (sf + j2 - 1.0) * (sf + j2);
        wpow *= inv_w2;
    }
    let total = sum + (w * scale).powi(-s) * (w / (sf - 1.0) + 0.5 + em);
    if total.abs() < 1e-4 * biggest {
        return f64::NAN;
    }
    let mut factorial = 1.0;
    for k in 2..=n {
        factorial *= f64::from(k);
    }
    let (fm, fe) = fk_frexp(factorial);
    sign * fk_scalbn(fm * total, fe.saturating_sub(e.saturating_mul(s)))
}
"#,
    },
    Snippet {
        name: "polygamma_any",
        deps: &["polygamma"],
        code: r#"/// polygamma with an order computed at run time: NaN unless it is an
/// integer in 0..=170.
fn fk_polygamma_any(n: f64, x: f64) -> f64 {
    if n == n.floor() && (0.0..=170.0).contains(&n) {
        fk_polygamma(n as u32, x)
    } else {
        f64::NAN
    }
}
"#,
    },
    Snippet {
        name: "lbeta",
        deps: &["lgamma", "gamma"],
        code: r#"/// Stirling's correction log Gamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)), x >= 10.
fn fk_lgamma_corr(x: f64) -> f64 {
    let z = 1.0 / (x * x);
    (1.0 / 12.0
        - z * (1.0 / 360.0
            - z * (1.0 / 1260.0
                - z * (1.0 / 1680.0
                    - z * (1.0 / 1188.0
                        - z * (691.0 / 360_360.0
                            - z * (1.0 / 156.0 - z * (3617.0 / 122_400.0))))))))
        / x
}

/// log B(a, b) for a, b > 0, without cancellation for large arguments.
fn fk_lbeta(a: f64, b: f64) -> f64 {
    const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    let (p, q) = if a < b { (a, b) } else { (b, a) };
    if p <= 0.0 {
        return if p == 0.0 { f64::INFINITY } else { f64::NAN };
    }
    if q == f64::INFINITY {
        return f64::NEG_INFINITY;
    }
    if p >= 10.0 {
        let corr = fk_lgamma_corr(p) + fk_lgamma_corr(q) - fk_lgamma_corr(p + q);
        let r = p / (p + q);
        q.ln() * -0.5 + LN_SQRT_2PI + corr + (p - 0.5) * r.ln() + q * (-r).ln_1p()
    } else if q >= 10.0 {
        let corr = fk_lgamma_corr(q) - fk_lgamma_corr(p + q);
        fk_lgamma(p) + corr + p - p * (p + q).ln() + (q - 0.5) * (-p / (p + q)).ln_1p()
    } else {
        let v = fk_gamma(p) * (fk_gamma(q) / fk_gamma(p + q));
        if v.is_finite() && v > 0.0 {
            v.ln()
        } else {
            fk_lgamma(p) + fk_lgamma(q) - fk_lgamma(p + q)
        }
    }
}
"#,
    },
    Snippet {
        name: "besseli_core",
        deps: &["lgamma", "gamma"],
        code: r#"/// I_nu(x) as (mantissa, log scale): I = mantissa exp(log scale); nu real, x >= 0.
fn fk_besseli_core(nu: f64, x: f64) -> (f64, f64) {
    if nu.is_nan() || x.is_nan() || x < 0.0 {
        return (f64::NAN, 0.0);
    }
    if nu < 0.0 && nu == nu.floor() {
        return fk_besseli_core(-nu, x);
    }
    if x == 0.0 {
        let v = if nu == 0.0 { 1.0 } else if nu > 0.0 { 0.0 } else { f64::INFINITY };
        return (v, 0.0);
    }
    if x == f64::INFINITY {
        return (f64::INFINITY, 0.0);
    }
    if x >= 30.0 {
        // e^-x I_nu(x) = 1/sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k
        let mu = 4.0 * nu * nu;
        let (mut term, mut sum, mut biggest, mut prev) = (1.0_f64, 1.0_f64, 1.0_f64, f64::INFINITY);
        for k in 1..200 {
            let kf = f64::from(k);
            let odd = 2.0 * kf - 1.0;
            term *= -(mu - odd * odd) / (8.0 * kf * x);
            let t = term.abs();
            sum += term;
            biggest = biggest.max(t);
            if t <= 1e-17 * sum.abs() {
                if biggest < 8.0 * sum.abs() {
                    return (sum / (2.0 * std::f64::consts::PI * x).sqrt(), x);
                }
                break;
            }
            if t > prev && odd * odd > mu {
                break;
            }
            prev = t;
        }
    }
    // (x/2)^nu sum_k (x^2/4)^k / (k! Gamma(nu + k + 1)), every term positive.
    let q = 0.25 * x * x;
    let (mut term, mut sum, mut log_scale, mut k) = (1.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    loop {
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() && k > -nu && k > 0.0 {
            break;
        }
        k += 1.0;
        term *= q / (k * (nu + k));
        if sum.abs() > 1e290 {
            sum *= 1e-290;
            term *= 1e-290;
            log_scale += 290.0 * std::f64::consts::LN_10;
        }
        if k > 1e6 {
            return (f64::NAN, 0.0);
        }
    }
    let half = 0.5 * x;
    let pw = half.powf(nu);
    let g = fk_gamma(nu + 1.0);
    let pref = pw / g;
    if log_scale == 0.0 && pw.is_normal() && g.is_finite() && g != 0.0 && pref.is_normal() {
        return (sum * pref, 0.0);
    }
    if g < 0.0 {
        sum = -sum;
    }
    (sum, log_scale + nu * half.ln() - fk_lgamma(nu + 1.0))
}
"#,
    },
    Snippet {
        name: "besseli",
        deps: &["besseli_core"],
        code: r#"/// The modified Bessel function of the first kind I_nu(x), nu real, x >= 0
/// (x < 0 for integer nu).
fn fk_besseli(nu: f64, x: f64) -> f64 {
    if x < 0.0 {
        if nu != nu.floor() {
            return f64::NAN;
        }
        let v = fk_besseli(nu, -x);
        return if (nu * 0.5).floor() * 2.0 == nu { v } else { -v };
    }
    let (m, s) = fk_besseli_core(nu, x);
    if s == 0.0 {
        m
    } else if s < 700.0 {
        m * s.exp()
    } else {
        let h = 0.5 * s;
        m * h.exp() * h.exp()
    }
}
"#,
    },
    Snippet {
        name: "log_besseli",
        deps: &["besseli_core"],
        code: r#"/// log I_nu(x) for x > 0, finite for every x.
fn fk_log_besseli(nu: f64, x: f64) -> f64 {
    let (m, s) = fk_besseli_core(nu, x);
    m.abs().ln() + s
}
"#,
    },
];
