"""derive() is the `fimkit derive --format json` document; its formulas
read back in SymPy and agree with the numbers fimkit computes and with the
textbook's F."""

import json
import re
import subprocess

import numpy as np
import pytest
import sympy as sp

import fimkit
from conftest import EXAMPLES, corpus


def cli(bin, fmt, path):
    out = subprocess.run(
        [str(bin), "derive", "--format", fmt, str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("path", corpus() + [EXAMPLES / "normal.fim"], ids=lambda p: p.name)
def test_derive_is_the_commands_json_and_latex(fimkit_bin, path):
    m = fimkit.Model.from_file(path)
    assert m.derive() == json.loads(cli(fimkit_bin, "json", path))
    assert m.derive_latex() == cli(fimkit_bin, "latex", path)


def test_standalone_latex_is_a_document():
    tex = fimkit.Model.from_file(EXAMPLES / "normal.fim").derive_latex(standalone=True)
    assert tex.startswith("\\documentclass") or "\\begin{document}" in tex


def constants(path):
    """`const name = value` lines of a model file."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*const\s+(\w+)\s*=\s*([-0-9.eE+]+)\s*$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def point(m, covariates):
    """A parameter point inside the domains: distinct values, a sign flipped
    where a domain wants it (fimkit's own check decides)."""
    base = [0.3, 0.45, 0.2, 0.35][: len(m.params)] + [0.25] * max(0, len(m.params) - 4)
    for signs in range(2 ** len(base)):
        theta = [-v if signs >> i & 1 else v for i, v in enumerate(base)]
        try:
            return theta, m.fisher_information(theta, covariates)
        except fimkit.ArgumentError:
            continue
    raise AssertionError(f"no point inside the domains of {m.params}")


def value(text, at):
    e = fimkit.sympify(text)
    subs = {s: at[s.name] for s in e.free_symbols}
    return float(sp.N(e.subs(subs), 30))


def test_every_corpus_formula_reads_back_in_sympy_and_agrees():
    checked_fim = checked_derivatives = 0
    for path in corpus():
        m = fimkit.Model.from_file(path)
        d = m.derive()
        covs = {"z1": 0.7, "z2": -0.4, "z": 0.6}
        design = {c: np.array([covs[c]]) for c in m.covariates} or None
        theta, f = point(m, design)
        at = dict(zip(m.params, theta)) | constants(path) | {
            c: covs[c] for c in m.covariates
        }
        # A named linear predictor (`eta`) is shorthand: bind its value.
        for name, text in d.get("definitions", {}).items():
            at[name] = value(text, at)
        # F: fimkit's string, its number, and the textbook's line.
        textbook = [l for l in path.read_text().splitlines() if l.startswith("# fim:")]
        book = fimkit.sympify(textbook[0][len("# fim:"):].strip()) if textbook else None
        for i, row in enumerate(d["fim"]):
            for j, text in enumerate(row):
                v = value(text, at)
                assert v == pytest.approx(f.value[i, j], rel=1e-12, abs=1e-14), (path.name, i, j, text)
                if book is not None:
                    b = float(sp.N(book[i][j].subs({s: at[s.name] for s in book[i][j].free_symbols}), 30))
                    assert v == pytest.approx(b, rel=1e-12, abs=1e-14), (path.name, i, j)
                checked_fim += 1
        # Score and Hessian strings against the exact numbers at a data row.
        row = data_row(m, theta, covs)
        if row is None:
            continue
        at |= {k: float(v[0]) for k, v in row.items()}
        s = m.score(theta, row)[0]
        h = m.hessian(theta, row)[0]
        for i, text in enumerate(d["score"]):
            assert value(text, at) == pytest.approx(s[i], rel=1e-11, abs=1e-12), (path.name, text)
        for i, r in enumerate(d["hessian"]):
            for j, text in enumerate(r):
                assert value(text, at) == pytest.approx(h[i, j], rel=1e-11, abs=1e-12), (path.name, text)
        checked_derivatives += 1
    assert checked_fim > 60 and checked_derivatives > 25, (checked_fim, checked_derivatives)


def data_row(m, theta, covs):
    """A row in the data's support, when one of a few candidates is."""
    data = [n for n in m.inputs if n not in m.covariates]
    for x in [1.0, 0.6, 2.0, 0.0, 3.0, 0.25]:
        row = {n: np.array([x]) for n in data} | {
            c: np.array([covs[c]]) for c in m.covariates
        }
        try:
            m.log_density(theta, row)
            return row
        except fimkit.DataError:
            continue
    return None
