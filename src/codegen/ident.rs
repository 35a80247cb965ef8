//! Identifiers: model names (`alpha[2]`, `x_1`, `in`) made into valid,
//! distinct identifiers of the target language.

use std::collections::{BTreeMap, BTreeSet};

/// Allocates identifiers: each is a valid identifier, not a keyword or a
/// name the generated code itself uses, and distinct from every other.
#[derive(Clone, Debug)]
pub(crate) struct Namer {
    reserved: BTreeSet<String>,
    taken: BTreeSet<String>,
    /// Identifiers given to model names, by model name.
    assigned: BTreeMap<String, String>,
}

/// The prefix of every helper the generated code defines; user names that
/// start with it are renamed.
pub(crate) const HELPER_PREFIX: &str = "fk_";

impl Namer {
    /// A namer that never hands out the `reserved` words.
    pub(crate) fn new<'a>(reserved: impl IntoIterator<Item = &'a str>) -> Namer {
        Namer {
            reserved: reserved.into_iter().map(str::to_string).collect(),
            taken: BTreeSet::new(),
            assigned: BTreeMap::new(),
        }
    }

    fn free(&self, s: &str) -> bool {
        !self.reserved.contains(s) && !self.taken.contains(s) && !s.starts_with(HELPER_PREFIX)
    }

    /// The identifier for a model name (the same one on every call):
    /// `a[2]` → `a_2`, a keyword gets a trailing `_`, a clash a number.
    /// `upper` makes it upper case (constants).
    pub(crate) fn name(&mut self, model_name: &str, upper: bool) -> String {
        if let Some(id) = self.assigned.get(model_name) {
            return id.clone();
        }
        let mut base = sanitize(model_name);
        if upper {
            base = base.to_uppercase();
        }
        if base.starts_with(HELPER_PREFIX) {
            base.insert_str(0, "u_");
        }
        let id = self.claim(&base);
        self.assigned.insert(model_name.to_string(), id.clone());
        id
    }

    /// A fresh identifier starting with `stem` (`t0`, `t1`, ...).
    pub(crate) fn fresh(&mut self, stem: &str, counter: &mut usize) -> String {
        loop {
            let s = format!("{stem}{counter}");
            *counter += 1;
            if self.free(&s) {
                self.taken.insert(s.clone());
                return s;
            }
        }
    }

    fn claim(&mut self, base: &str) -> String {
        let mut candidate = base.to_string();
        if !self.free(&candidate) {
            candidate = format!("{base}_");
        }
        let mut k = 2;
        while !self.free(&candidate) {
            candidate = format!("{base}_{k}");
            k += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// Letters, digits and underscores only, not starting with a digit, no
/// doubled or trailing underscores: `a[2]` → `a_2`, `x[1,3]` → `x_1_3`.
pub(crate) fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c == '_' || !out.ends_with('_') {
            // Keep the user's own underscores; map any run of other
            // characters to one underscore.
            if c == '_' || !out.is_empty() {
                out.push('_');
            }
        }
    }
    while out.ends_with('_') && out.len() > 1 && !name.ends_with('_') {
        out.pop();
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'v');
    }
    out
}

/// `NegativeBinomial` → `negative_binomial`, `MVN2d` → `mvn2d`: a
/// sanitized lower-case identifier with `_` between words.
pub(crate) fn snake_case(name: &str) -> String {
    let s = sanitize(name);
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes() {
        assert_eq!(sanitize("a[2]"), "a_2");
        assert_eq!(sanitize("x[1,3]"), "x_1_3");
        assert_eq!(sanitize("sigma_x"), "sigma_x");
        assert_eq!(sanitize("2x"), "v2x");
        assert_eq!(sanitize("α"), "v");
        assert_eq!(snake_case("NegativeBinomial"), "negative_binomial");
        assert_eq!(snake_case("MVN2d"), "mvn2d");
    }

    #[test]
    fn avoids_keywords_and_clashes() {
        let mut n = Namer::new(["in", "np"]);
        assert_eq!(n.name("in", false), "in_");
        assert_eq!(n.name("a[2]", false), "a_2");
        assert_eq!(n.name("a_2", false), "a_2_");
        assert_eq!(n.name("a[2]", false), "a_2");
        assert_eq!(n.name("fk_x", false), "u_fk_x");
        assert_eq!(n.name("n", true), "N");
        let mut c = 0;
        n.name("t0", false);
        assert_eq!(n.fresh("t", &mut c), "t1");
    }
}
