"""How the client commands read points and training data from CSV."""

import pytest

from planenet._cli.inputs import UsageError, csv_rows, parse_point


def test_points_are_two_numbers() -> None:
    assert parse_point("-1.5,2e3") == [-1.5, 2000.0]
    for text in ("1", "1,2,3", "a,1", ""):
        with pytest.raises(UsageError):
            parse_point(text)


def test_csv_rows_skip_a_header_and_blank_rows_and_keep_the_first_columns() -> None:
    text = "x, y ,label\n\n1,2,0\n 3 ,4,1\n"
    assert csv_rows(text, 2, "f.csv") == [[1.0, 2.0], [3.0, 4.0]]
    assert csv_rows(text, 3, "f.csv") == [[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]]
    assert csv_rows("", 2, "f.csv") == []


def test_csv_rows_name_the_line_of_a_bad_row() -> None:
    with pytest.raises(UsageError, match=r"f.csv, line 3: 'z' is not a number"):
        csv_rows("x,y\n1,2\n3,z\n", 2, "f.csv")
    with pytest.raises(UsageError, match=r"f.csv, line 2: expected 2 columns"):
        csv_rows("1,2\n3\n", 2, "f.csv")
    with pytest.raises(UsageError, match=r"f.csv, line 2: 'x' is not a number"):
        csv_rows("1,2\nx,y\n", 2, "f.csv")  # only the first row may be a header
