"""Every claim's quote is verbatim in its document (../shared/seeds), whitespace and line breaks ignored,
"…" between verbatim parts in order; and the matcher itself on hand-made text."""
import pytest

from repro import paths
from repro.claims.ledger import load_claims
from repro.claims.quotes import missing_part, parts

SEEDS = paths.seeds_dir()
CLAIMS = load_claims()


def test_parts_split_at_the_ellipsis():
    assert parts("MMD-rep-b … 16.21") == ["MMD-rep-b", "16.21"]
    assert parts("… captures all the modes") == ["captures all the modes"]
    assert parts("no elision") == ["no elision"]


def test_missing_part_ignores_whitespace_and_line_breaks():
    doc = "Table 3: FID\nMMD-rep-b   16.21  (CIFAR-10)\nhinge 16.73\nthe repulsive\nloss works"
    assert missing_part("MMD-rep-b 16.21", doc) is None
    assert missing_part("the repulsive loss works", doc) is None  # across a line break
    assert missing_part("MMD-rep-b … hinge 16.73", doc) is None
    assert missing_part("hinge … MMD-rep-b", doc) == "MMD-rep-b"  # parts out of order
    assert missing_part("MMD-rep-b 16.2l", doc) == "MMD-rep-b 16.2l"  # not verbatim: one character off
    assert missing_part("mmd-rep-b 16.21", doc) == "mmd-rep-b 16.21"  # case matters
    assert missing_part("…", doc) == "…"  # nothing quoted


def test_a_part_is_searched_after_the_previous_one():
    doc = "A one B two A three"
    assert missing_part("B … A three", doc) is None
    assert missing_part("A three … B", doc) == "B"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds not found: the quote check needs the five documents")
@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_quote_is_verbatim_in_its_document(claim):
    document = SEEDS / claim.paper
    assert document.is_file(), f"{claim.id}: its paper {claim.paper} is not in ../shared/seeds"
    missing = missing_part(claim.quote, document.read_text(encoding="utf-8"))
    assert missing is None, f"{claim.id}: not verbatim in {claim.paper}: {missing!r}"
