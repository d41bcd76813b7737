"""One listing answers a build's completeness checks, and never goes stale for a task
that asks again (csci_utils.luigi.listing, on a folder root)."""

from __future__ import annotations

from csci_utils.luigi.listing import all_listed, fresh_listings, note_listed


def test_one_listing_answers_every_first_question(tmp_path, monkeypatch):
    import csci_utils.luigi.listing as listing

    (tmp_path / "stylized").mkdir()
    (tmp_path / "stylized" / "a.png").write_bytes(b"a")
    calls = []
    real = listing.list_remote
    monkeypatch.setattr(listing, "list_remote", lambda *a, **k: calls.append(a) or real(*a, **k))
    with fresh_listings():
        answers = [all_listed(str(tmp_path), "stylized", [name], asker=name)
                   for name in ("a.png", "b.png", "c.png")]
    assert answers == [True, False, False]
    assert len(calls) == 1  # the scheduling pass: one listing for every task


def test_a_task_asking_again_after_a_miss_sees_what_was_made_since(tmp_path):
    """Another worker (luigid) made the result after this process listed: the task's
    second question (luigi's check before its dependant runs) must see it."""
    (tmp_path / "stylized").mkdir()
    with fresh_listings():
        assert not all_listed(str(tmp_path), "stylized", ["b.png"], asker="shard-1")
        (tmp_path / "stylized" / "b.png").write_bytes(b"made elsewhere")
        assert all_listed(str(tmp_path), "stylized", ["b.png"], asker="shard-1")


def test_what_this_process_wrote_is_in_its_listing(tmp_path):
    (tmp_path / "stylized").mkdir()
    with fresh_listings():
        assert not all_listed(str(tmp_path), "stylized", ["c.png"], asker="x")
        (tmp_path / "stylized" / "c.png").write_bytes(b"made here")
        note_listed(str(tmp_path), "stylized", "c.png")
        assert all_listed(str(tmp_path), "stylized", ["c.png"], asker="y")
