"""The demo tenant's warehouse: SYNTHETIC data, generated from a fixed seed.

Nothing here describes real customers. The tables exist so the seed's example training request
works on a fresh install and models have real signal to learn:

- `ml_features.customer_churn` (5,000 customers): churn is more likely with short tenure, high
  monthly charges, a month-to-month contract, many support tickets, electronic-check payment
  and for senior citizens; about a quarter of the customers churn. `updated_at` (TIMESTAMP, in
  2024) is when each customer's row became known: the event timestamp a feature set over this
  table names (`timestamp_column`). It is drawn after every other column, so the other values
  are those of the table without it.
- `ml_features.customer_value` (5,000 customers): `lifetime_value` grows with monthly charges,
  contract length, number of products and premium support, plus noise.
- `ml_features.daily_revenue` (two years, daily): trend + weekly + yearly seasonality + noise.
"""

import duckdb
import numpy as np
import pandas as pd

DEMO_TENANT_ID = "acme-corp"
DEMO_SEED = 20_240_601
SCHEMA = "ml_features"
CUSTOMER_COUNT = 5_000


def _customer_churn(rng: np.random.Generator) -> pd.DataFrame:
    n = CUSTOMER_COUNT
    tenure = rng.integers(1, 73, n)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["dsl", "fiber_optic", "none"], n, p=[0.35, 0.45, 0.2])
    payment = rng.choice(
        ["electronic_check", "mailed_check", "bank_transfer", "credit_card"],
        n,
        p=[0.35, 0.2, 0.22, 0.23],
    )
    senior = rng.random(n) < 0.16
    base_charge = np.select([internet == "fiber_optic", internet == "dsl"], [80.0, 55.0], 22.0)
    monthly = np.clip(base_charge + rng.normal(0, 12, n), 18.0, 120.0).round(2)
    total = (tenure * monthly * (1 + rng.normal(0, 0.05, n))).round(2)
    tickets = rng.poisson(0.8 + 0.8 * (internet == "fiber_optic"), n)
    contract_effect = np.select(
        [contract == "month-to-month", contract == "one-year"], [0.9, -0.7], -1.7
    )
    logit = (
        -1.55
        - 0.05 * (tenure - 24)
        + 0.03 * (monthly - 60)
        + contract_effect
        + 0.35 * tickets
        + 0.35 * senior
        + 0.35 * (payment == "electronic_check")
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int32)
    updated_at = (
        np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 366 * 24 * 3600, n).astype(
            "timedelta64[s]"
        )
    ).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "customer_id": [f"CUST-{index:05d}" for index in range(1, n + 1)],
            "tenure": tenure.astype(np.int32),
            "monthly_charges": monthly,
            "total_charges": total,
            "contract_type": contract,
            "internet_service": internet,
            "payment_method": payment,
            "senior_citizen": senior,
            "num_support_tickets": tickets.astype(np.int32),
            "churned": churned,
            "updated_at": updated_at,
        }
    )


def _customer_value(rng: np.random.Generator) -> pd.DataFrame:
    n = CUSTOMER_COUNT
    tenure = rng.integers(1, 73, n)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east", "west"], n)
    products = rng.integers(1, 6, n)
    premium = rng.random(n) < 0.3
    monthly = np.clip(25 + 12 * products + rng.normal(0, 10, n), 15.0, 150.0).round(2)
    expected_months = (
        np.select([contract == "two-year", contract == "one-year"], [48.0, 30.0], 16.0)
        + 0.4 * tenure
    )
    lifetime_value = (
        monthly * expected_months
        + 150 * products
        + 400 * premium
        + np.select([region == "west"], [250.0], 0.0)
        + rng.normal(0, 250, n)
    ).round(2)
    return pd.DataFrame(
        {
            "customer_id": [f"CUST-{index:05d}" for index in range(1, n + 1)],
            "tenure": tenure.astype(np.int32),
            "monthly_charges": monthly,
            "contract_type": contract,
            "region": region,
            "num_products": products.astype(np.int32),
            "has_premium_support": premium,
            "lifetime_value": lifetime_value,
        }
    )


def _daily_revenue(rng: np.random.Generator) -> pd.DataFrame:
    dates = pd.date_range("2023-01-01", periods=731, freq="D")
    day = np.arange(len(dates))
    weekly = np.array([0.9, 1.0, 1.0, 1.05, 1.15, 1.3, 0.7])[dates.dayofweek]
    yearly = 1 + 0.15 * np.sin(2 * np.pi * (day - 80) / 365.25)
    revenue = (10_000 + 6 * day) * weekly * yearly + rng.normal(0, 400, len(dates))
    return pd.DataFrame({"date": dates.date, "revenue": revenue.round(2)})


TABLES = {
    "customer_churn": _customer_churn,
    "customer_value": _customer_value,
    "daily_revenue": _daily_revenue,
}


def seed_demo_warehouse(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the missing demo tables; returns the names it created (idempotent)."""
    existing = {
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]
        ).fetchall()
    }
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    created = []
    # Each table has its own generator so adding a table never changes the others' rows.
    for offset, (table, generate) in enumerate(TABLES.items()):
        if table in existing:
            continue
        frame = generate(np.random.default_rng(DEMO_SEED + offset))
        connection.register("demo_frame", frame)
        connection.execute(f"CREATE TABLE {SCHEMA}.{table} AS SELECT * FROM demo_frame")
        connection.unregister("demo_frame")
        created.append(table)
    return created
