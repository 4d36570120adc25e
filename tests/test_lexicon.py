import pytest

from pipeline.lexicon import DrugLexicon, TermIndex, build_library_map, load_lexicon, term_key


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


@pytest.mark.parametrize(
    "text, name, drug_class, dbid",
    [
        ("MTX", "methotrexate", "csDMARD", "DB00563"),
        ("Paxlovid", "nirmatrelvir/ritonavir", "antiviral", None),
        ("G-CSF", "filgrastim", "growth factor", "DB00099"),
        ("Granulocyte colony-stimulating factor", "filgrastim", "growth factor", "DB00099"),
        ("tisagenlecleucel", "tisagenlecleucel", "CAR T-cell therapy", "DB13881"),
        ("iguratimod", "iguratimod", "csDMARD", "DB12233"),
        ("Humira", "adalimumab", "bDMARD", "DB00051"),
        ("KYV-101", "kyv-101", "CAR T-cell therapy", None),
        ("biological DMARDs", "bdmards", "bDMARD", None),
    ],
)
def test_lexicon_lookup(lexicon, text, name, drug_class, dbid):
    info = lexicon.lookup(text)
    assert info is not None
    assert (info.name, info.drug_class, info.drugbank_id) == (name, drug_class, dbid)


@pytest.mark.parametrize("text", ["ESR", "CRP", "IgG", "IL-6", "C-reactive protein", "antibodies", "insulin", "ferritin", "mtx", "the"])
def test_lexicon_not_drugs(lexicon, text):
    assert lexicon.lookup(text) is None


def test_lexicon_classes_are_flagged(lexicon):
    assert lexicon.lookup("glucocorticoids").is_class
    assert lexicon.lookup("NSAIDs").is_class
    assert not lexicon.lookup("prednisone").is_class


def test_lexicon_library_map_filters_mesh_only_and_excluded():
    raw = {
        "drug_variant_to_canonical": {"fooximab": ["fooximab"], "brandx": ["fooximab"], "some protein": ["some protein"],
                                      "crp": ["crp"], "abc": ["fooximab"]},
        "drug_canonical_to_data": {"fooximab": {"drugbank_id": "DB1"}, "some protein": {"mesh_id": "D1"},
                                   "crp": {"drugbank_id": "DB2"}},
    }
    mapping = build_library_map(raw, {"crp"})
    assert mapping == {"fooximab": ("fooximab", "DB1"), "brandx": ("fooximab", "DB1")}


def test_lexicon_stoplist_wins_over_rule_terms():
    rules = [{"label": "DRUG", "id": "vague agents", "synonyms": ["vague agent"], "regex": ["anti-X vague agent"]},
             {"label": "DRUG", "id": "Foo", "pattern": "foo"}]
    lex = DrugLexicon(rules, {}, {"vague agents", "vague agent"})
    assert lex.lookup("vague agents") is None and lex.lookup("vague agent") is None
    assert lex.lookup("foo").name == "foo" and [p for p, _ in lex.regexes] == ["anti-X vague agent"]


@pytest.mark.parametrize("text", ["targeted therapies", "immunomodulatory drugs", "monoclonal antibodies",
                                  "biological agents", "immunosuppressive treatment"])
def test_lexicon_vague_words_are_not_drugs(lexicon, text):
    assert lexicon.lookup(text) is None


def test_lexicon_rules_only():
    lex = DrugLexicon([{"label": "DRUG", "id": "Foo", "pattern": "foo", "abbreviations": ["FO"], "class": "x"}], {})
    assert lex.lookup("FOO").name == "foo" and lex.lookup("FO").drug_class == "x" and lex.lookup("fo") is None


@pytest.mark.parametrize(
    "a, b",
    [("Functional Assessment of Chronic Illness Therapy – Fatigue", "functional assessment of chronic illness therapy-fatigue"),
     ("anti - CCP", "anti-CCP"), ("mg / dL", "mg/dl"), ("two  words", "two words")],
)
def test_lexicon_term_key(a, b):
    assert term_key(a) == term_key(b)


def test_lexicon_term_index_longest_match():
    import spacy

    nlp = spacy.blank("en")
    index = TermIndex({"tender joint": 1, "tender joint count": 2}, {"TJC": 3})
    doc = nlp("The tender joint count (TJC) and tender joints.")
    found = [(doc[s:e].text, v) for s, e, v in index.matches(doc)]
    assert found == [("tender joint count", 2), ("TJC", 3)]


def _fresh_load(monkeypatch, cache_dir):
    import pipeline.lexicon as lexicon_module

    monkeypatch.setenv("CLINEX_CACHE_DIR", str(cache_dir))
    lexicon_module.load_lexicon.cache_clear()
    try:
        return lexicon_module.load_lexicon()
    finally:
        lexicon_module.load_lexicon.cache_clear()


def _library_map_in(cache_dir):
    """Seed a cache dir with the (expensive) library map from the default cache, when it exists."""
    import shutil

    import pipeline.lexicon as lexicon_module
    from pipeline.ruleset import rules_sha256

    name = f"drug_lexicon-{lexicon_module._library_version()}-{rules_sha256()[:16]}.pkl"
    source = lexicon_module._cache_dir() / name
    if source.exists():
        shutil.copy(source, cache_dir / name)


@pytest.mark.parametrize("text", ["MTX", "Humira", "tisagenlecleucel", "KYV-101", "glucocorticoids"])
def test_lexicon_cache_round_trip(monkeypatch, tmp_path, lexicon, text):
    _library_map_in(tmp_path)
    built = _fresh_load(monkeypatch, tmp_path)
    from pipeline.lexicon import lexicon_cache_path

    assert lexicon_cache_path().exists()
    cached = _fresh_load(monkeypatch, tmp_path)
    assert cached.lookup(text) == built.lookup(text) == lexicon.lookup(text)
    assert len(cached) == len(built) == len(lexicon) and cached.index.prefixes == built.index.prefixes


def test_lexicon_cache_corrupt_or_unwritable(monkeypatch, tmp_path, lexicon):
    _library_map_in(tmp_path)
    from pipeline.lexicon import lexicon_cache_path

    monkeypatch.setenv("CLINEX_CACHE_DIR", str(tmp_path))
    lexicon_cache_path().write_bytes(b"not a pickle")
    rebuilt = _fresh_load(monkeypatch, tmp_path)
    assert rebuilt.lookup("MTX") == lexicon.lookup("MTX") and len(rebuilt) == len(lexicon)
    import pipeline.lexicon as lexicon_module

    monkeypatch.setattr(lexicon_module, "_library_map", lambda: {"fooximab": ("fooximab", "DB1")})
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    fallback = _fresh_load(monkeypatch, blocked / "cache")  # cannot be created: built, not cached
    assert fallback.lookup("fooximab").drugbank_id == "DB1"
    assert fallback.lookup("rituximab").name == "rituximab"


def test_lexicon_cache_of_other_versions_is_pruned(monkeypatch, tmp_path, lexicon):
    _library_map_in(tmp_path)
    from pipeline.lexicon import lexicon_cache_path

    monkeypatch.setenv("CLINEX_CACHE_DIR", str(tmp_path))
    stale = tmp_path / "drug_lexicon_index-0.0-oldrules-oldcode.pkl"
    stale.write_bytes(b"old")
    unrelated = tmp_path / "drug_lexicon-keep.pkl"
    unrelated.write_bytes(b"other cache")
    _fresh_load(monkeypatch, tmp_path)
    assert lexicon_cache_path().exists() and not stale.exists() and unrelated.exists()
