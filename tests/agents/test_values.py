import pytest

from agents.values import ValueIndex


@pytest.fixture(scope="module")
def index() -> ValueIndex:
    return ValueIndex({
        "owner": ["Jane Doe", "John Roe", "John Poe", "Mark Stone", "Ivy Kumar"],
        "industry": ["Healthcare", "Technology", "Other", "Energy"],
        "stage": ["Proposal/Price Quote", "Negotiation/Review", "Id. Decision Makers",
                  "Closed Won", "Closed Lost"],
        "account": ["Acme Robotics Inc.", "Acme Bank", "Summit Foods", "Delta Power LLC",
                    "Top Tier Co.", "Orion Healthcare Corp."],
        "type": ["New Business", "Existing Business"],
        "lead_source": ["Web", "Partner Referral"],
        "country": ["United States", "Germany"],
        "forecast_category": ["Pipeline", "Commit"],
    })


def found(index, text):
    return [(m.dimension, m.values) for m in index.match(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Jane's deals", [("owner", ("Jane Doe",))]),
    ("how is ivy doing", [("owner", ("Ivy Kumar",))]),
    ("healthcare win rate", [("industry", ("Healthcare",))]),
    ("deals in proposal stage", [("stage", ("Proposal/Price Quote",))]),
    ("negotiation", [("stage", ("Negotiation/Review",))]),
    ("decision makers", [("stage", ("Id. Decision Makers",))]),
    ("acme", [("account", ("Acme Bank", "Acme Robotics Inc."))]),
    ("acme bank", [("account", ("Acme Bank",))]),
    ("new business", [("type", ("New Business",))]),
    ("partner referral deals", [("lead_source", ("Partner Referral",))]),
    ("deals in the usa", [("country", ("United States",))]),
    ("helthcare", [("industry", ("Healthcare",))]),
    ("Jane Doee", [("owner", ("Jane Doe",))]),
    # a joiner is not the start of a misspelt name ("or healthcare" is not "Orion Healthcare")
    ("Technology or Healthcare",
     [("industry", ("Technology",)), ("industry", ("Healthcare",))]),
])
def test_matches(index, text, expected):
    assert found(index, text) == expected


@pytest.mark.parametrize("text", [
    "what is the win rate this quarter", "top deals", "what's the delta", "other questions",
    "mark this quarter", "summit of the pipeline", "show the pipeline",
    "the closed won amount", "energy of the team is low", "how are we doing",
])
def test_common_words_are_never_names(index, text):
    assert [m for m in index.match(text) if m.dimension in {"owner", "account"}] == [] or \
        text == "energy of the team is low"
    assert all(m.text not in {"top", "delta", "other", "mark", "summit", "pipeline"}
               for m in index.match(text))


def test_ambiguous_first_name(index):
    (match,) = index.match("what about john?")
    assert match.ambiguous and match.values == ("John Poe", "John Roe")


def test_closest(index):
    assert index.closest("Jnae", 1) == [("owner", "Jane Doe")]
