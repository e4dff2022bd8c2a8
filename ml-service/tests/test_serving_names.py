"""Serve application names: one per (tenant, model_id, version), never shared."""

from app.serving.service import app_name


def test_ids_holding_double_dashes_never_share_an_application_name() -> None:
    # With `--` as the separator both of these were `a--b--c--v1`.
    assert app_name("a", "b--c", "1") != app_name("a--b", "c", "1")
    assert app_name("a", "b", "12") != app_name("a", "b", "1")
