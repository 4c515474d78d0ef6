import io

import pytest

from enrollments.linking.csv_rows import (
    CSV_EMPTY,
    CSV_NOT_TEXT,
    CSV_NOT_UTF8,
    CSV_TOO_LARGE,
    CSV_WRONG_COLUMNS,
    MAX_CELL,
    parse_link_rows,
    read_capped,
)
from enrollments.linking.rows import TOO_MANY_ROWS
from support_tools.errors import ErrorKind, SupportError
from support_tools.text import TEXT_CONTROL, TEXT_NOT_UTF8, TEXT_TOO_LONG


def test_reads_pairs_tolerating_bom_header_blank_lines_and_spaces():
    data = '\ufeffExternal User Key, Username\r\n\r\n  EXT-1 ,  ann \n\n"EXT,2",bob\n , \n'.encode()
    assert parse_link_rows(data) == [("EXT-1", "ann"), ("EXT,2", "bob")]


def test_without_header_the_first_row_is_data():
    assert parse_link_rows("EXT-1,ann\nEXT-2,bob") == [("EXT-1", "ann"), ("EXT-2", "bob")]


def test_a_header_like_row_after_the_first_is_data():
    assert parse_link_rows("EXT-1,ann\nexternal_user_key,username\n")[1] == (
        "external_user_key",
        "username",
    )


def test_empty_cells_are_kept_for_the_service_to_report():
    assert parse_link_rows("EXT-1,\n,bob\n") == [("EXT-1", ""), ("", "bob")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"EXT-1,ann\nEXT-2,b\xe9b\n", CSV_NOT_UTF8.format(position=17)),
        (b"EXT-1,ann\nEXT-2:bob\n", CSV_WRONG_COLUMNS.format(line=2, count=1)),
        (b"external_user_key,username,email\n", CSV_WRONG_COLUMNS.format(line=1, count=3)),
        (b"", CSV_EMPTY),
        (b"\xef\xbb\xbf\n\n  \n", CSV_EMPTY),
        (b"external_user_key,username\n", CSV_EMPTY),
    ],
)
def test_bad_files_are_refused_as_a_whole(data, message):
    with pytest.raises(SupportError) as refused:
        parse_link_rows(data)
    assert refused.value.message == message


# --- the input boundary: what no door may hand to a service ---------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"EXT-1,ann\nEXT-\x002,bob\n", TEXT_CONTROL.format(field="Line 2", char="U+0000")),
        ("EXT-1,ann\x00", TEXT_CONTROL.format(field="Line 1", char="U+0000")),
        ("EXT-1,a\x1bnn", TEXT_CONTROL.format(field="Line 1", char="U+001B")),
        ("EXT-1,ann\r\nEXT-2,b\x85ob\r\n", TEXT_CONTROL.format(field="Line 2", char="U+0085")),
        ("EXT-1,\ud800ann", TEXT_NOT_UTF8.format(field="Line 1")),
        ('"EXT\n1",ann', TEXT_CONTROL.format(field="Line 2", char="U+000A")),
        (f"EXT-1,{'a' * 1001}", TEXT_TOO_LONG.format(field="Line 1", limit=MAX_CELL)),
        (123, CSV_NOT_TEXT.format(kind="a number")),
        (None, CSV_NOT_TEXT.format(kind="null")),
        (True, CSV_NOT_TEXT.format(kind="a boolean")),
        (["EXT-1,ann"], CSV_NOT_TEXT.format(kind="a list")),
        ({"EXT-1": "ann"}, CSV_NOT_TEXT.format(kind="an object")),
    ],
)
def test_text_no_database_can_store_or_no_person_can_see_is_refused(data, message):
    with pytest.raises(SupportError) as refused:
        parse_link_rows(data)
    assert refused.value.message == message
    assert refused.value.kind == ErrorKind.BAD_INPUT


def test_tabs_inside_cells_and_crlf_lines_are_fine():
    assert parse_link_rows(b"EXT\t1,ann\r\nEXT-2,bob\r\n") == [("EXT\t1", "ann"), ("EXT-2", "bob")]


def test_more_bytes_than_the_cap_is_too_large(settings):
    settings.LINK_MAX_BYTES = 100
    sheet = "".join(f"EXT-{i},user{i}\n" for i in range(10))
    assert len(sheet.encode()) > 100
    for data in (sheet.encode(), sheet):
        with pytest.raises(SupportError) as refused:
            parse_link_rows(data)
        assert refused.value.kind == ErrorKind.TOO_LARGE
        assert refused.value.message == CSV_TOO_LARGE.format(limit=100)
    assert len(parse_link_rows(sheet[:60])) == 5


def test_more_rows_than_the_cap_is_too_large(settings):
    settings.LINK_MAX_ROWS = 3
    assert len(parse_link_rows("a,b\nc,d\ne,f\n")) == 3
    with pytest.raises(SupportError) as refused:
        parse_link_rows("a,b\nc,d\ne,f\ng,h\n")
    assert refused.value.kind == ErrorKind.TOO_LARGE
    assert refused.value.message == TOO_MANY_ROWS.format(limit=3)


def test_read_capped_reads_no_more_than_the_cap_and_one_byte(settings):
    settings.LINK_MAX_BYTES = 10
    assert read_capped(io.BytesIO(b"0123456789")) == b"0123456789"
    stream = io.BytesIO(b"0123456789" * 1000)
    with pytest.raises(SupportError) as refused:
        read_capped(stream)
    assert refused.value.kind == ErrorKind.TOO_LARGE
    assert stream.tell() == 11
    assert read_capped(None) == b""
