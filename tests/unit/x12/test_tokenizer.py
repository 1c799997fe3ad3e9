"""Tokenizer: delimiters come from the ISA, segments stream with positions, bad input says why."""

from __future__ import annotations

import io
from itertools import islice

import pytest

from medbill.x12.tokenizer import (
    Delimiters,
    Segment,
    X12SyntaxError,
    X12TruncatedError,
    detect_delimiters,
    tokenize,
)


def isa(elem: str = "*", rep: str = "^", comp: str = ":", term: str = "~", version: str = "00501", icn: int = 1) -> str:
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "SENDER".ljust(15),
        "ZZ",
        "RECEIVER".ljust(15),
        "250101",
        "1200",
        rep,
        version,
        f"{icn:09d}",
        "0",
        "P",
        comp,
    ]
    return elem.join(fields) + term


def interchange(icn: int = 1, elem: str = "*", comp: str = ":", term: str = "~", rep: str = "^") -> str:
    body = [
        f"GS{elem}HP{elem}S{elem}R{elem}20250101{elem}1200{elem}7{elem}X{elem}005010X221A1",
        f"ST{elem}835{elem}0001",
        f"SVC{elem}HC{comp}99213{comp}25{elem}100{elem}80{elem}{elem}1",
        f"REF{elem}6R{elem}A{rep}B",
        f"SE{elem}4{elem}0001",
        f"GE{elem}1{elem}7",
        f"IEA{elem}1{elem}{icn:09d}",
    ]
    return isa(elem, rep, comp, term, icn=icn) + "".join(s + term for s in body)


def test_isa_is_exactly_106_characters_and_delimiters_come_from_it() -> None:
    assert len(isa()) == 106
    assert detect_delimiters(isa()) == Delimiters("*", "^", ":", "~")
    assert detect_delimiters(isa("|", "!", ">", "\n")) == Delimiters("|", "!", ">", "\n")


def test_segments_have_ids_elements_and_one_based_positions() -> None:
    segs = list(tokenize(interchange()))
    assert [s.id for s in segs] == ["ISA", "GS", "ST", "SVC", "REF", "SE", "GE", "IEA"]
    assert [s.position for s in segs] == list(range(1, 9))
    st = segs[2]
    assert st.elements == ["835", "0001"]
    assert st.get(1) == "835" and st(2) == "0001" and st.get(3) == "" and st.get(3, "none") == "none"
    assert segs[0].get(16) == ":"
    assert segs[0].get(6) == "SENDER".ljust(15)  # ISA fields keep their fixed-width padding


def test_components_and_repetitions_use_the_files_separators() -> None:
    segs = list(tokenize(interchange(elem="|", comp=">", term="\n", rep="!")))
    svc = segs[3]
    assert svc.id == "SVC" and svc.elements[0] == "HC>99213>25"
    assert svc.components(1) == ["HC", "99213", "25"]
    assert svc.component(1, 2) == "99213" and svc.component(1, 5) == ""
    assert svc.components(4) == []  # empty element
    assert segs[4].repetitions(2) == ["A", "B"]
    assert svc.to_x12() == "SVC|HC>99213>25|100|80||1\n"


def test_bom_crlf_and_indentation_are_ignored() -> None:
    text = "\ufeff" + interchange().replace("~", "~\r\n    ")
    segs = list(tokenize(text))
    assert [s.id for s in segs] == ["ISA", "GS", "ST", "SVC", "REF", "SE", "GE", "IEA"]
    assert segs[-1].elements == ["1", "000000001"]


def test_newline_as_segment_terminator() -> None:
    segs = list(tokenize(interchange(term="\n")))
    assert len(segs) == 8 and segs[3].elements[1] == "100"


def test_several_interchanges_each_with_its_own_delimiters() -> None:
    text = interchange(1) + "\n" + interchange(2, elem="|", comp=">", term="'", rep="!")
    segs = list(tokenize(text))
    assert [s.id for s in segs].count("ISA") == 2
    assert segs[8].delimiters == Delimiters("|", "!", ">", "'")
    assert segs[11].components(1) == ["HC", "99213", "25"]
    assert segs[-1].position == 16 and segs[-1].elements == ["1", "000000002"]


def test_streams_from_a_file_object_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    import medbill.x12.tokenizer as tk

    monkeypatch.setattr(tk, "_CHUNK", 7)  # split everywhere, including inside the ISA
    text = interchange(1) + interchange(2)
    assert [s.elements for s in tokenize(io.StringIO(text))] == [s.elements for s in tokenize(text)]
    assert [s.id for s in tokenize(iter([text[:50], text[50:51], text[51:]]))][-1] == "IEA"


def test_tokenize_is_lazy() -> None:
    broken = interchange() + "GARBAGE WITHOUT SEPARATOR~"
    it = tokenize(broken)
    assert next(it).id == "ISA"  # nothing past the first segment has been judged yet
    with pytest.raises(X12SyntaxError):
        list(it)


def test_missing_final_terminator_is_a_truncation() -> None:
    with pytest.raises(X12TruncatedError) as err:
        list(tokenize(interchange()[:-1] + "\r\n"))
    assert str(err.value) == "truncated: the file ends inside segment 8 (IEA), with no segment terminator '~' after it."
    assert err.value.position == 8


def test_line_break_terminator_may_be_missing_after_a_complete_iea() -> None:
    # The sample oop_837P_ST1309-XX ends "IEA*1*000003774" with CR as its terminator: the IEA naming
    # the ISA13 shows nothing was cut; a cut inside that IEA still counts as truncated.
    text = interchange(term="\r")
    assert list(tokenize(text[:-1]))[-1].elements == ["1", "000000001"]
    with pytest.raises(X12TruncatedError, match="inside segment 8 \\(IEA\\)"):
        list(tokenize(text[:-3]))


def test_isa_with_trimmed_fields_still_reads() -> None:
    text = "ISA*00**00**ZZ*S*ZZ*R*250101*1200*^*00501*000000001*0*P*:~GS*HP*S*R~"
    segs = list(islice(tokenize(text), 2))
    assert segs[0].delimiters == Delimiters("*", "^", ":", "~") and segs[1].id == "GS"


def test_00401_isa11_is_not_a_repetition_separator() -> None:
    d = detect_delimiters(isa(rep="U", version="00401"))
    assert d.repetition is None
    seg = Segment("REF", ["X", "A^B"], 1, d)
    assert seg.repetitions(2) == ["A^B"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("   \r\n  ", "empty"),
        ("hello, this is not X12", "Not X12"),
        ('{"json": true}', "Not X12"),
        ("ISA*00*   ", "truncated: the file ends inside the ISA"),
        (isa()[:60], "truncated: the file ends inside the ISA"),
        (isa()[:104], "truncated: the file ends inside the ISA"),
        (isa().replace("*", "A", 1), "element separator"),
        (isa()[:-2] + "*~", "component separator"),
        (isa()[:-1] + ":", "segment terminator"),
        (isa().replace("00501", "0050X"), "ISA12"),
        (isa()[:4] + isa()[4:].replace("*", " ", 4) + "GS" + " " * 200 + "~", "expected 16 elements separated by '*'"),
    ],
)
def test_unreadable_input_raises_one_clear_sentence(text: str, expected: str) -> None:
    with pytest.raises(X12SyntaxError) as err:
        list(tokenize(text))
    message = str(err.value)
    assert expected in message
    assert "\n" not in message and message.endswith(".")
    assert err.value.position == 1


def test_wrong_delimiters_after_the_isa_name_the_segment_position() -> None:
    # ISA says '|' but the rest of the file uses '*': segment 2 cannot be split.
    text = isa(elem="|") + "GS*HP*S*R*20250101*1200*7*X*005010X221A1~"
    with pytest.raises(X12SyntaxError) as err:
        list(tokenize(text))
    assert err.value.position == 2 and "Segment 2" in str(err.value)


def test_junk_after_the_last_interchange() -> None:
    with pytest.raises(X12SyntaxError, match="Segment 9: expected an ISA segment"):
        list(tokenize(interchange() + "S"))


def test_file_cut_inside_a_segment_is_truncated_after_yielding_what_is_complete() -> None:
    text = interchange()
    cut = text.index("SE*4*0001~") + len("SE*4*000")
    segs = []
    with pytest.raises(X12TruncatedError) as err:
        segs.extend(tokenize(text[:cut]))
    assert [s.id for s in segs] == ["ISA", "GS", "ST", "SVC", "REF"]  # the cut-off SE is never handed out
    assert str(err.value) == "truncated: the file ends inside segment 6 (SE), with no segment terminator '~' after it."
    assert isinstance(err.value, X12SyntaxError) and err.value.position == 6


@pytest.mark.parametrize(
    ("cut_before", "expected"),
    [
        (
            "REF*",
            "truncated: the file ends after segment 4 (SVC) inside an open ST 0001 (segment 3); "
            "expected SE, GE and IEA.",
        ),
        (
            "GE*",
            "truncated: the file ends after segment 6 (SE) inside the functional group opened by the GS at "
            "segment 2; expected GE and IEA.",
        ),
        (
            "IEA*",
            "truncated: the file ends after segment 7 (GE) inside the interchange opened by the ISA at segment 1; "
            "expected IEA.",
        ),
        ("GS*", "truncated: the file ends after segment 1 (ISA) inside the interchange opened by the ISA at segment 1"),
    ],
)
def test_file_cut_at_a_segment_boundary_before_its_trailers_is_truncated(cut_before: str, expected: str) -> None:
    text = interchange().replace("~", "~\n")
    with pytest.raises(X12TruncatedError) as err:
        list(tokenize(text[: text.index(cut_before)] + "\n  \n"))
    assert str(err.value).startswith(expected)


def test_truncation_is_found_when_streaming_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import medbill.x12.tokenizer as tk

    monkeypatch.setattr(tk, "_CHUNK", 5)
    text = interchange(1) + interchange(2)
    for cut in range(len(text) - 1, 107, -13):
        with pytest.raises(X12TruncatedError):
            list(tokenize(io.StringIO(text[:cut])))
    assert list(tokenize(io.StringIO(text)))[-1].elements == ["1", "000000002"]


def test_partial_segment_id_is_named_but_never_content() -> None:
    text = interchange()
    with pytest.raises(X12TruncatedError, match="inside segment 4 \\('SV'\\)"):
        list(tokenize(text[: text.index("SVC") + 2]))
    cut_in_name = isa() + "GS*HP*S*R*20250101*1200*7*X*005010X221A1~ST*835*0001~NM1*QC*1*SMITH*JOH"
    with pytest.raises(X12TruncatedError) as err:
        list(tokenize(cut_in_name))
    assert "SMITH" not in str(err.value) and "(NM1)" in str(err.value)


@pytest.mark.parametrize(
    ("body_end", "found"),
    [("\n", "line breaks"), ("\r\n", "line breaks"), ("\n\n", "line breaks"), ("'", '"\'"')],
)
def test_segments_ended_with_something_else_than_the_declared_terminator(body_end: str, found: str) -> None:
    # The ISA says '~' but every later segment ends with body_end: say so, not "no ST found" or "truncated".
    text = interchange()
    isa_text, body = text[:106], text[106:]
    with pytest.raises(X12SyntaxError) as err:
        list(tokenize(isa_text + body.replace("~", body_end)))
    message = str(err.value)
    assert not isinstance(err.value, X12TruncatedError)
    assert message.startswith("Segment 2 (GS): expected the segment terminator '~' that the ISA declares")
    assert f"found {found} and then an ST segment" in message


def test_wrong_terminator_found_even_when_the_last_segment_has_the_declared_one() -> None:
    text = interchange()
    isa_text, body = text[:106], text[106:]
    with pytest.raises(X12SyntaxError, match="found line breaks and then an ST segment"):
        list(tokenize(isa_text + body[:-1].replace("~", "\n") + "~"))


def test_error_messages_never_quote_content() -> None:
    secret = "SMITH*JOHN*19800101"
    with pytest.raises(X12SyntaxError) as err:
        list(tokenize(isa() + f"{secret} garbage~"))
    assert "SMITH" not in str(err.value) and "JOHN" not in str(err.value)


def test_segment_repr_hides_values() -> None:
    seg = Segment("NM1", ["QC", "1", "SMITH", "JOHN"], 17)
    assert "SMITH" not in repr(seg) and "17" in repr(seg)
    assert seg == Segment("NM1", ["QC", "1", "SMITH", "JOHN"], 99)  # equality ignores position
