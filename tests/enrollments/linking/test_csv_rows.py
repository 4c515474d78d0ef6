import pytest

from enrollments.linking.csv_rows import CSV_EMPTY, CSV_NOT_UTF8, CSV_WRONG_COLUMNS, parse_link_rows
from support_tools.errors import SupportError


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
