"""Reading models: strings, files, and errors as exceptions with the
library's diagnostic text."""

import pytest

import fimkit
from conftest import EXAMPLES, TEXTBOOK

NORMAL = "param mu : real\nparam sigma : positive\ndata x : real\nx ~ normal(mu, sigma)\n"


def test_from_source_and_file():
    m = fimkit.Model(NORMAL, "normal")
    assert (m.name, m.params, m.inputs, m.covariates) == ("normal", ["mu", "sigma"], ["x"], [])
    g = fimkit.Model.from_file(EXAMPLES / "gamma.fim")
    assert g.params == ["alpha", "beta"] and g.inputs == ["x"]
    r = fimkit.Model.from_file(str(TEXTBOOK / "logistic_regression.fim"))
    assert r.covariates and set(r.covariates) <= set(r.inputs)


def test_model_error_carries_line_col_and_help():
    with pytest.raises(fimkit.ModelError) as e:
        fimkit.Model("param mu : real\ndata x : real\nx ~ normal(mu, sigam)\n", "m")
    assert str(e.value) == (
        "m:3:16: error[E0101]: unknown name `sigam` (not declared)\n"
        "  help: declare it with param, data, covariate, const or let"
    )
    assert isinstance(e.value, fimkit.FimkitError) and isinstance(e.value, ValueError)


def test_model_error_from_a_file_names_the_path(tmp_path):
    p = tmp_path / "bad.fim"
    p.write_text("param p : unit\ndata y : {0, 1}\ny ~ bernoulli(q)\n")
    with pytest.raises(fimkit.ModelError, match=r"bad\.fim:3:15: error\[E"):
        fimkit.Model.from_file(p)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="nothing.fim"):
        fimkit.Model.from_file(tmp_path / "nothing.fim")


def test_syntax_error():
    with pytest.raises(fimkit.ModelError, match=r"^model:1:\d+: error"):
        fimkit.Model("param mu : : real\n")
