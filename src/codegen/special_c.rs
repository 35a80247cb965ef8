//! Special functions for generated C: `lgamma`, `tgamma`, `erf`, `erfc`,
//! `frexp`, `scalbn` and `fma` come from `math.h`; the rest are ports of
//! `crate::numeric::special`, emitted only when a model uses them.

use super::cse::Fun;
use super::special_rust::Snippet;

/// The snippet a function needs, if any (`lgamma`, `erf`, `erfc` are in `math.h`).
pub(crate) fn snippet_for(f: Fun) -> Option<&'static str> {
    Some(match f {
        Fun::Sigmoid => "sigmoid",
        Fun::LogSigmoid => "log_sigmoid",
        Fun::Digamma => "digamma",
        Fun::Polygamma(_) => "polygamma",
        Fun::PolygammaDyn => "polygamma_any",
        Fun::Lbeta => "lbeta",
        Fun::NormalCdf => "normal_cdf",
        Fun::LogNormalCdf => "log_normal_cdf",
        Fun::Mills => "mills",
        Fun::MillsShift => "mills_shift",
        Fun::BesselI => "besseli",
        Fun::LogBesselI => "log_besseli",
        _ => return None,
    })
}

/// Every C snippet.
pub(crate) const SNIPPETS: &[Snippet] = &[
    Snippet {
        name: "sigmoid",
        deps: &[],
        code: r#"/* The logistic function 1/(1 + exp(-x)), without overflow. */
static double fk_sigmoid(double x)
{
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    } else {
        double e = exp(x);
        return e / (1.0 + e);
    }
}
"#,
    },
    Snippet {
        name: "log_sigmoid",
        deps: &[],
        code: r#"/* log(1/(1 + exp(-x))), accurate for every x. */
static double fk_log_sigmoid(double x)
{
    if (x >= 0.0) {
        return -log1p(exp(-x));
    } else if (x > -37.0) {
        return x - log1p(exp(x));
    } else {
        return x - exp(x);
    }
}
"#,
    },
    Snippet {
        name: "mills_parts",
        deps: &["normal_cdf"],
        code: r#"/* The inverse Mills ratio r = phi(x)/Phi(x) (*r) and q = x + r (*q), both
   to full relative accuracy: directly above -2, below from Laplace's
   continued fraction Phi(x)/phi(x) = 1/L1, L_k = t + k/L_(k+1), t = -x, as
   r = t + 1/L2 and q = 1/L2 (x + r would cancel there). */
static void fk_mills_parts(double x, double *r, double *q)
{
    double t, l, hi, lo, pdf;
    int k, levels;
    if (isnan(x)) {
        *r = x;
        *q = x;
        return;
    }
    if (x >= 39.0) {
        /* phi(x) < 5e-324: r is 0 (and x^2 may overflow). */
        *r = 0.0;
        *q = x;
        return;
    }
    if (x > -2.0) {
        /* phi(x) with x^2 carried exactly. */
        hi = x * x;
        lo = fma(x, x, -hi);
        pdf = exp(-0.5 * hi) * (1.0 - 0.5 * lo) * 0.3989422804014327;
        *r = pdf / fk_normal_cdf(x);
        *q = x + *r;
        return;
    }
    t = -x;
    levels = t < 2.5 ? 160 : (t < 5.0 ? 80 : 40);
    l = t;
    for (k = levels; k >= 2; k--) {
        l = t + (double)k / l;
    }
    *r = t + 1.0 / l;
    *q = 1.0 / l;
}
"#,
    },
    Snippet {
        name: "mills",
        deps: &["mills_parts"],
        code: r#"/* phi(x)/Phi(x), the derivative of log(Phi(x)). */
static double fk_mills(double x)
{
    double r, q;
    fk_mills_parts(x, &r, &q);
    return r;
}
"#,
    },
    Snippet {
        name: "mills_shift",
        deps: &["mills_parts"],
        code: r#"/* x + phi(x)/Phi(x), so that (log Phi)'' = -fk_mills(x) fk_mills_shift(x). */
static double fk_mills_shift(double x)
{
    double r, q;
    fk_mills_parts(x, &r, &q);
    return q;
}
"#,
    },
    Snippet {
        name: "log_normal_cdf",
        deps: &["normal_cdf"],
        code: r#"/* log(Phi(x)), accurate for every x: log1p(-Phi(-x)) above 0, log(Phi(x))
   down to -20, and below (Phi underflows from -38 on) log(phi(x)) - log(r)
   with r = phi(x)/Phi(x) from Laplace's continued fraction
   Phi(x)/phi(x) = 1/L1, L_k = t + k/L_(k+1), t = -x (40 levels are
   exact to double precision from t = 5 on). */
static double fk_log_normal_cdf(double x)
{
    const double ln_sqrt_2pi = 0.9189385332046728;
    double t, l, r, hi, lo;
    int k;
    if (isnan(x)) {
        return x;
    }
    if (x >= 0.0) {
        return log1p(-fk_normal_cdf(-x));
    }
    if (x > -20.0) {
        return log(fk_normal_cdf(x));
    }
    t = -x;
    l = t;
    for (k = 40; k >= 2; k--) {
        l = t + (double)k / l;
    }
    r = t + 1.0 / l;
    /* log(phi(x)) = -x^2/2 - log(sqrt(2 pi)), with x^2 carried exactly. */
    hi = x * x;
    lo = fma(x, x, -hi);
    return (-0.5 * hi - ln_sqrt_2pi) - 0.5 * lo - log(r);
}
"#,
    },
    Snippet {
        name: "normal_cdf",
        deps: &[],
        code: r#"/* The standard normal CDF Phi(x) = erfc(-x/sqrt(2))/2, with the rounding
   error of -x/sqrt(2) corrected to first order (full accuracy in the tail). */
static double fk_normal_cdf(double x)
{
    const double c_hi = 0.7071067811865476;  /* 1/sqrt(2), rounded */
    const double c_lo = -4.833646656726457e-17;
    const double two_over_sqrt_pi = 1.1283791670955126;
    double nx, z, delta, hi, lo, slope;
    if (isnan(x)) {
        return x;
    }
    nx = -x;
    z = nx * c_hi;
    if (fabs(z) < 1.0) {
        return 0.5 * erfc(z);
    }
    delta = fma(nx, c_hi, -z) + nx * c_lo;
    hi = z * z;
    lo = fma(z, z, -hi);
    slope = two_over_sqrt_pi * exp(-hi) * (1.0 - lo);
    return 0.5 * (erfc(z) - delta * slope);
}
"#,
    },
    Snippet {
        name: "digamma",
        deps: &[],
        code: r#"/* The digamma function psi(x) = d/dx log Gamma(x); NaN at 0, -1, -2, ... */
static double fk_digamma(double x)
{
    const double pi = 3.141592653589793;
    double shift = 0.0, z, tail;
    if (isnan(x) || x == -INFINITY) {
        return NAN;
    }
    if (x <= 0.0) {
        if (x == floor(x)) {
            return NAN;
        }
        /* Reflection: psi(x) = psi(1 - x) - pi cot(pi x). */
        return fk_digamma(1.0 - x) - pi / tan(pi * (x - round(x)));
    }
    if (x == INFINITY) {
        return INFINITY;
    }
    while (x < 10.0) {
        shift += 1.0 / x;
        x += 1.0;
    }
    z = 1.0 / (x * x);
    tail = z * (1.0 / 12.0
        - z * (1.0 / 120.0
        - z * (1.0 / 252.0
        - z * (1.0 / 240.0
        - z * (1.0 / 132.0 - z * (691.0 / 32760.0 - z * (1.0 / 12.0)))))));
    return log(x) - 0.5 / x - tail - shift;
}
"#,
    },
    Snippet {
        name: "polygamma",
        deps: &["digamma"],
        code: r#"/* The polygamma function psi^(n)(x), the n-th derivative of digamma, for
   n = 0..170: (-1)^(n+1) n! zeta(n+1, x), the Hurwitz zeta function summed
   directly up to x + N >= n + 11 and finished with the Euler-Maclaurin
   tail, every term scaled by a power of two so nothing overflows on the
   way. NaN where too many digits would cancel (x < 0). */
static double fk_polygamma(int n, double x)
{
    static const double b[20] = {
        0.08333333333333333, -0.001388888888888889, 3.306878306878307e-05,
        -8.267195767195768e-07, 2.08767569878681e-08, -5.284190138687493e-10,
        1.3382536530684679e-11, -3.3896802963225827e-13, 8.586062056277845e-15,
        -2.174868698558062e-16, 5.5090028283602295e-18, -1.3954464685812522e-19,
        3.534707039629467e-21, -8.953517427037546e-23, 2.267952452337683e-24,
        -5.744790668872202e-26, 1.455172475614865e-27, -3.6859949406653103e-29,
        9.336734257095045e-31, -2.36502241570063e-32};
    double sign, sf, w_min, smallest, scale, sum = 0.0, biggest = 0.0, w, inv_w, inv_w2;
    double rising, wpow, em = 0.0, total, factorial = 1.0, fm;
    int s, e, fe, j, k, terms;
    if (n == 0) {
        return fk_digamma(x);
    }
    if (isnan(x) || n < 0 || n > 170 || (x <= 0.0 && x == floor(x))) {
        return NAN;
    }
    sign = (n % 2 == 1) ? 1.0 : -1.0;
    if (x == INFINITY) {
        return 0.0;
    }
    s = n + 1;
    sf = (double)s;
    w_min = sf + 11.0;
    terms = (x >= w_min) ? 0 : (int)ceil(w_min - x);
    smallest = (x > 0.0) ? x : fabs(x - round(x));
    (void)frexp(smallest, &e);
    scale = scalbn(1.0, -e);
    for (k = terms - 1; k >= 0; k--) {
        double t = pow((x + (double)k) * scale, -sf);
        if (fabs(t) > biggest) {
            biggest = fabs(t);
        }
        sum += t;
    }
    w = x + (double)terms;
    inv_w = 1.0 / w;
    inv_w2 = inv_w * inv_w;
    rising = sf;
    wpow = inv_w;
    for (j = 0; j < 20; j++) {
        double t = b[j] * rising * wpow, j2;
        em += t;
        if (fabs(t) < 1e-18 * fabs(em)) {
            break;
        }
        j2 = 2.0 * (double)(j + 1);
        rising *= (sf + j2 - 1.0) * (sf + j2);
        wpow *= inv_w2;
    }
    total = sum + pow(w * scale, -sf) * (w / (sf - 1.0) + 0.5 + em);
    if (fabs(total) < 1e-4 * biggest) {
        return NAN;
    }
    for (k = 2; k <= n; k++) {
        factorial *= (double)k;
    }
    fm = frexp(factorial, &fe);
    return sign * scalbn(fm * total, fe - e * s);
}
"#,
    },
    Snippet {
        name: "polygamma_any",
        deps: &["polygamma"],
        code: r#"/* polygamma with an order computed at run time: NaN unless it is an
   integer in 0..170. */
static double fk_polygamma_any(double n, double x)
{
    if (n == floor(n) && n >= 0.0 && n <= 170.0) {
        return fk_polygamma((int)n, x);
    }
    return NAN;
}
"#,
    },
    Snippet {
        name: "lbeta",
        deps: &[],
        code: r#"/* Stirling's correction log Gamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)), x >= 10. */
static double fk_lgamma_corr(double x)
{
    double z = 1.0 / (x * x);
    return (1.0 / 12.0
        - z * (1.0 / 360.0
        - z * (1.0 / 1260.0
        - z * (1.0 / 1680.0
        - z * (1.0 / 1188.0
        - z * (691.0 / 360360.0
        - z * (1.0 / 156.0 - z * (3617.0 / 122400.0)))))))) / x;
}

/* log B(a, b) for a, b > 0, without cancellation for large arguments. */
static double fk_lbeta(double a, double b)
{
    const double ln_sqrt_2pi = 0.9189385332046728;
    double p, q;
    if (isnan(a) || isnan(b)) {
        return NAN;
    }
    p = (a < b) ? a : b;
    q = (a < b) ? b : a;
    if (p <= 0.0) {
        return (p == 0.0) ? INFINITY : NAN;
    }
    if (q == INFINITY) {
        return -INFINITY;
    }
    if (p >= 10.0) {
        double corr = fk_lgamma_corr(p) + fk_lgamma_corr(q) - fk_lgamma_corr(p + q);
        double r = p / (p + q);
        return log(q) * -0.5 + ln_sqrt_2pi + corr + (p - 0.5) * log(r) + q * log1p(-r);
    } else if (q >= 10.0) {
        double corr = fk_lgamma_corr(q) - fk_lgamma_corr(p + q);
        return lgamma(p) + corr + p - p * log(p + q) + (q - 0.5) * log1p(-p / (p + q));
    } else {
        double v = tgamma(p) * (tgamma(q) / tgamma(p + q));
        if (isfinite(v) && v > 0.0) {
            return log(v);
        }
        return lgamma(p) + lgamma(q) - lgamma(p + q);
    }
}
"#,
    },
    Snippet {
        name: "besseli_core",
        deps: &[],
        code: r#"/* I_nu(x) = mant exp(log_scale); nu real, x >= 0. */
struct fk_scaled {
    double mant;
    double log_scale;
};

static struct fk_scaled fk_besseli_core(double nu, double x)
{
    struct fk_scaled out = {NAN, 0.0};
    double q, term, sum, log_scale, k, half, pw, g, pref;
    if (isnan(nu) || isnan(x) || x < 0.0) {
        return out;
    }
    if (nu < 0.0 && nu == floor(nu)) {
        return fk_besseli_core(-nu, x);
    }
    if (x == 0.0) {
        out.mant = (nu == 0.0) ? 1.0 : (nu > 0.0) ? 0.0 : INFINITY;
        return out;
    }
    if (x == INFINITY) {
        out.mant = INFINITY;
        return out;
    }
    if (x >= 30.0) {
        /* e^-x I_nu(x) = 1/sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k */
        double mu = 4.0 * nu * nu, t, prev = INFINITY, biggest = 1.0;
        int i;
        term = 1.0;
        sum = 1.0;
        for (i = 1; i < 200; i++) {
            double kf = (double)i, odd = 2.0 * kf - 1.0;
            term *= -(mu - odd * odd) / (8.0 * kf * x);
            t = fabs(term);
            sum += term;
            if (t > biggest) {
                biggest = t;
            }
            if (t <= 1e-17 * fabs(sum)) {
                if (biggest < 8.0 * fabs(sum)) {
                    out.mant = sum / sqrt(2.0 * 3.141592653589793 * x);
                    out.log_scale = x;
                    return out;
                }
                break;
            }
            if (t > prev && odd * odd > mu) {
                break;
            }
            prev = t;
        }
    }
    /* (x/2)^nu sum_k (x^2/4)^k / (k! Gamma(nu + k + 1)), every term positive. */
    q = 0.25 * x * x;
    term = 1.0;
    sum = 0.0;
    log_scale = 0.0;
    k = 0.0;
    for (;;) {
        sum += term;
        if (fabs(term) <= 1e-17 * fabs(sum) && k > -nu && k > 0.0) {
            break;
        }
        k += 1.0;
        term *= q / (k * (nu + k));
        if (fabs(sum) > 1e290) {
            sum *= 1e-290;
            term *= 1e-290;
            log_scale += 290.0 * 2.302585092994046;
        }
        if (k > 1e6) {
            return out;
        }
    }
    half = 0.5 * x;
    pw = pow(half, nu);
    g = tgamma(nu + 1.0);
    pref = pw / g;
    if (log_scale == 0.0 && isnormal(pw) && isfinite(g) && g != 0.0 && isnormal(pref)) {
        out.mant = sum * pref;
        return out;
    }
    if (g < 0.0) {
        sum = -sum;
    }
    out.mant = sum;
    out.log_scale = log_scale + nu * log(half) - lgamma(nu + 1.0);
    return out;
}
"#,
    },
    Snippet {
        name: "besseli",
        deps: &["besseli_core"],
        code: r#"/* The modified Bessel function of the first kind I_nu(x), nu real, x >= 0
   (x < 0 for integer nu). */
static double fk_besseli(double nu, double x)
{
    struct fk_scaled s;
    if (x < 0.0) {
        double v;
        if (nu != floor(nu)) {
            return NAN;
        }
        v = fk_besseli(nu, -x);
        return (floor(nu * 0.5) * 2.0 == nu) ? v : -v;
    }
    s = fk_besseli_core(nu, x);
    if (s.log_scale == 0.0) {
        return s.mant;
    } else if (s.log_scale < 700.0) {
        return s.mant * exp(s.log_scale);
    } else {
        double h = 0.5 * s.log_scale;
        return s.mant * exp(h) * exp(h);
    }
}
"#,
    },
    Snippet {
        name: "log_besseli",
        deps: &["besseli_core"],
        code: r#"/* log I_nu(x) for x > 0, finite for every x. */
static double fk_log_besseli(double nu, double x)
{
    struct fk_scaled s = fk_besseli_core(nu, x);
    return log(fabs(s.mant)) + s.log_scale;
}
"#,
    },
];
