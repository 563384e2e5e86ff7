"""The versioned Parquet store: versions, lineage, supersede rules, atomicity, pinning."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contango.data import store_files
from contango.data.schema import BAR_SCHEMA
from contango.data.store import LocalParquetStore, SourceInfo, StoreError, open_store

DAY_NS = 86_400 * 10**9


def es_bars(contract: str, days: list[str], closes: list[float]) -> pa.Table:
    """Daily ES bars (tick 0.25): open = low = close - 0.25, high = close + 0.25."""
    ts = pa.array(np.array(days, dtype="datetime64[D]").astype("datetime64[ns]"))
    n = len(days)
    close = np.asarray(closes, dtype=np.float64)
    return pa.table(
        {
            "ts": ts.cast(pa.timestamp("ns", tz="UTC")),
            "contract": [contract] * n,
            "open": close - 0.25,
            "high": close + 0.25,
            "low": close - 0.25,
            "close": close,
            "volume": np.arange(1, n + 1, dtype=np.int64) * 100,
            "open_interest": pa.nulls(n, pa.int64()),
        },
        schema=BAR_SCHEMA,
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalParquetStore:
    return open_store(tmp_path / "store")


def closes(table: pa.Table) -> list[tuple[str, str, float]]:
    days = table.column("ts").cast(pa.date32()).to_pylist()
    return [
        (c, d.isoformat(), x)
        for c, d, x in zip(
            table.column("contract").to_pylist(),
            days,
            table.column("close").to_pylist(),
            strict=True,
        )
    ]


def test_open_store_defaults_to_the_settings_store_dir(data_dir: Path) -> None:
    assert open_store().root == data_dir / "store"


def test_first_commit_records_rows_range_contracts_and_author(store: LocalParquetStore) -> None:
    table = pa.concat_tables(
        [
            es_bars("ESZ2024", ["2024-01-02", "2024-01-03"], [4800.0, 4801.0]),
            es_bars("ESH2025", ["2024-01-02"], [4850.0]),
        ]
    )
    source = SourceInfo(name="es.csv", hash="sha256:abc", size=10)

    version = store.commit("ES.1d", table, kind="bars", source=source, author="trader")

    assert version.parent is None
    assert (version.rows, version.rows_added, version.rows_replaced) == (3, 3, 0)
    assert version.contracts == ("ESH2025", "ESZ2024")
    assert version.start == datetime(2024, 1, 2, tzinfo=UTC)
    assert version.end == datetime(2024, 1, 3, tzinfo=UTC)
    assert version.author == "trader"
    assert version.source == source
    assert store.version("ES.1d", version.id[:6]) == version


def test_read_returns_rows_sorted_by_contract_then_time(store: LocalParquetStore) -> None:
    table = pa.concat_tables(
        [
            es_bars("ESZ2024", ["2024-01-02", "2024-01-03"], [4800.0, 4801.0]),
            es_bars("ESH2025", ["2024-01-02", "2024-01-03"], [4850.0, 4851.0]),
        ]
    )
    store.commit("ES.1d", table, kind="bars")

    assert closes(store.read("ES.1d")) == [
        ("ESH2025", "2024-01-02", 4850.0),
        ("ESH2025", "2024-01-03", 4851.0),
        ("ESZ2024", "2024-01-02", 4800.0),
        ("ESZ2024", "2024-01-03", 4801.0),
    ]


def test_reimported_rows_supersede_and_pinned_version_keeps_old_rows(
    store: LocalParquetStore,
) -> None:
    first = store.commit(
        "ES.1d", es_bars("ESZ2024", ["2024-01-02", "2024-01-03"], [4800.0, 4801.0]), kind="bars"
    )
    # Re-import 01-03 with a corrected close and add 01-04: 1 row replaced, 2 added.
    second = store.commit(
        "ES.1d", es_bars("ESZ2024", ["2024-01-03", "2024-01-04"], [4805.0, 4806.0]), kind="bars"
    )

    assert second.parent == first.id
    assert (second.rows, second.rows_added, second.rows_replaced) == (3, 2, 1)
    assert closes(store.read("ES.1d")) == [
        ("ESZ2024", "2024-01-02", 4800.0),
        ("ESZ2024", "2024-01-03", 4805.0),
        ("ESZ2024", "2024-01-04", 4806.0),
    ]
    assert closes(store.read("ES.1d", version=first.id)) == [
        ("ESZ2024", "2024-01-02", 4800.0),
        ("ESZ2024", "2024-01-03", 4801.0),
    ]
    assert [v.id for v in store.versions("ES.1d")] == [second.id, first.id]


def test_rows_inside_an_older_range_are_merged_in_time_order(store: LocalParquetStore) -> None:
    store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-02", "2024-01-04"], [1.0, 3.0]), kind="bars")
    store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-03"], [2.0]), kind="bars")

    assert [c for _, _, c in closes(store.read("ES.1d"))] == [1.0, 2.0, 3.0]


def test_same_rows_twice_make_no_new_version(store: LocalParquetStore) -> None:
    table = es_bars("ESZ2024", ["2024-01-02", "2024-01-03"], [4800.0, 4801.0])
    first = store.commit("ES.1d", table, kind="bars")

    again = store.commit("ES.1d", table, kind="bars")

    assert again == first
    assert len(store.versions("ES.1d")) == 1


def test_content_hash_and_id_do_not_depend_on_store_or_batching(tmp_path: Path) -> None:
    table = pa.concat_tables(
        [
            es_bars("ESZ2024", ["2024-01-02", "2024-01-03", "2024-01-04"], [1.0, 2.0, 3.0]),
            es_bars("ESH2025", ["2024-01-02"], [9.0]),
        ]
    )
    one = open_store(tmp_path / "a").commit("ES.1d", table, kind="bars")
    pending = open_store(tmp_path / "b").begin("ES.1d", kind="bars")
    for batch in table.to_batches(max_chunksize=1):
        pending.write(batch)
    two = pending.finish()

    assert one.content_hash == two.content_hash
    assert one.id == two.id


def test_time_and_contract_filters(store: LocalParquetStore) -> None:
    store.commit(
        "ES.1d",
        pa.concat_tables(
            [
                es_bars("ESZ2024", ["2024-01-02", "2024-01-03", "2024-01-04"], [1.0, 2.0, 3.0]),
                es_bars("ESH2025", ["2024-01-02", "2024-01-03"], [8.0, 9.0]),
            ]
        ),
        kind="bars",
    )

    window = store.read(
        "ES.1d",
        contracts=["ESZ2024"],
        start=datetime(2024, 1, 3, tzinfo=UTC),
        end=datetime(2024, 1, 4, tzinfo=UTC),
        columns=["close"],
    )

    assert window.column_names == ["close"]
    assert window.column("close").to_pylist() == [2.0]  # start inclusive, end exclusive
    assert store.read("ES.1d", contracts=["ESM2025"]).num_rows == 0


def test_crash_between_fragment_write_and_manifest_leaves_store_unchanged(
    store: LocalParquetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-02"], [1.0]), kind="bars")

    def crash(path: Path, text: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("contango.data.store.write_text_atomic", crash)
    with pytest.raises(OSError, match="disk full"):
        store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-03"], [2.0]), kind="bars")
    monkeypatch.undo()

    assert [v.id for v in store.versions("ES.1d")] == [first.id]
    assert closes(store.read("ES.1d")) == [("ESZ2024", "2024-01-02", 1.0)]
    # The orphan fragment is harmless and the next import succeeds.
    after = store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-03"], [2.0]), kind="bars")
    assert after.parent == first.id


def test_failed_write_leaves_no_temp_files(store: LocalParquetStore) -> None:
    pending = store.begin("ES.1d", kind="bars")
    pending.write(es_bars("ESZ2024", ["2024-01-02"], [1.0]))
    pending.abort()

    assert not list((store.root / "ES.1d").glob("tmp/*"))
    with pytest.raises(StoreError, match="no dataset"):
        store.read("ES.1d")


def test_concurrent_commits_lose_no_version(store: LocalParquetStore) -> None:
    days = [f"2024-02-{d:02d}" for d in range(1, 9)]
    errors: list[BaseException] = []

    def commit(i: int) -> None:
        try:
            store.commit("ES.1d", es_bars("ESZ2024", [days[i]], [float(i)]), kind="bars")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(days))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(store.versions("ES.1d")) == 8
    assert store.read("ES.1d").num_rows == 8


def test_kind_mismatch_and_bad_names_are_refused(store: LocalParquetStore) -> None:
    store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-02"], [1.0]), kind="bars")
    with pytest.raises(StoreError, match="holds bars"):
        store.begin("ES.1d", kind="ticks")
    with pytest.raises(StoreError, match="dataset name"):
        store.begin("../evil", kind="bars")
    with pytest.raises(StoreError, match="no version"):
        store.read("ES.1d", version="ffffff")


def test_datasets_lists_latest_version(store: LocalParquetStore) -> None:
    store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-02"], [1.0]), kind="bars")
    latest = store.commit("ES.1d", es_bars("ESZ2024", ["2024-01-03"], [2.0]), kind="bars")

    [summary] = store.datasets()

    assert (summary.name, summary.kind, summary.version_count) == ("ES.1d", "bars", 2)
    assert summary.latest == latest


def test_unsorted_direct_commit_is_stored_sorted(store: LocalParquetStore) -> None:
    table = es_bars("ESZ2024", ["2024-01-04", "2024-01-02", "2024-01-03"], [3.0, 1.0, 2.0])
    store.commit("ES.1d", table, kind="bars")
    assert [c for _, _, c in closes(store.read("ES.1d"))] == [1.0, 2.0, 3.0]


def test_row_groups_carry_statistics_for_pruning(
    store: LocalParquetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setattr(store_files, "ROW_GROUP_ROWS", 2)
    days = [str(np.datetime64("2024-01-01") + i) for i in range(6)]
    version = store.commit("ES.1d", es_bars("ESZ2024", days, [1.0] * 6), kind="bars")
    [fragment] = version.fragments
    meta = pq.ParquetFile(store_files.fragment_path(store.root / "ES.1d", fragment.hash)).metadata

    assert meta.num_row_groups == 3
    # Rows 01-01..01-06 in groups of 2: the second group starts on 01-03.
    assert meta.row_group(1).column(0).statistics.min == datetime(2024, 1, 3, tzinfo=UTC)


day_sets = st.lists(
    st.tuples(st.sampled_from(["ESZ2024", "ESH2025"]), st.integers(0, 40), st.integers(1, 40_000)),
    max_size=30,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(day_sets, min_size=1, max_size=4))
def test_each_version_reads_exactly_the_rows_it_committed(
    tmp_path: Path, batches: list[list[tuple[str, int, int]]]
) -> None:
    """After any sequence of imports, each version reads back the expected merge: for every
    (contract, day) the value of the newest import that held it."""
    store = open_store(tmp_path / f"s{abs(hash(str(batches)))}")
    expected: dict[tuple[str, int], float] = {}
    snapshots: list[tuple[str, dict[tuple[str, int], float]]] = []
    for batch in batches:
        rows = {(c, d): ticks * 0.25 for c, d, ticks in batch}  # last duplicate wins
        if not rows:
            continue
        tables = []
        for contract in sorted({c for c, _ in rows}):
            days = sorted(d for c, d in rows if c == contract)
            tables.append(
                es_bars(
                    contract,
                    [str(np.datetime64("2024-01-01") + d) for d in days],
                    [rows[(contract, d)] for d in days],
                )
            )
        version = store.commit("ES.1d", pa.concat_tables(tables), kind="bars")
        expected.update(rows)
        snapshots.append((version.id, dict(expected)))
    for version_id, snapshot in snapshots:
        table = store.read("ES.1d", version=version_id)
        got = {
            (c, int(t // DAY_NS) - 19723): x  # 19723 = days from 1970-01-01 to 2024-01-01
            for c, t, x in zip(
                table.column("contract").to_pylist(),
                table.column("ts").cast(pa.int64()).to_pylist(),
                table.column("close").to_pylist(),
                strict=True,
            )
        }
        assert got == snapshot
        assert table.num_rows == len(snapshot)
