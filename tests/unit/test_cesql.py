"""ripple.cesql beyond the TCK: the parser's grouping and errors, value rules the TCK leaves
open, the error list, and the `matches` filter helper. test_cesql_tck.py runs the TCK.
"""

from __future__ import annotations

import datetime
import types
from typing import Any

import pytest

from ripple import cesql, errors
from ripple.cesql import lexing, parsing

EVENT = {"specversion": "1.0", "id": "e1", "source": "/s", "type": "com.example.created"}


def evaluate(text: str, **attributes: Any) -> tuple[Any, list[str]]:
    value, found = cesql.parse(text).evaluate({**EVENT, **attributes})
    return value, [error.kind for error in found]


def test_public_names() -> None:
    assert sorted(cesql.__all__) == [
        "EvaluationError", "Expression", "Kind", "ParseError", "matches", "parse",
    ]
    assert issubclass(cesql.ParseError, errors.Invalid)
    assert cesql.ParseError.kind == "parse"


@pytest.mark.parametrize("text, grouped", [
    # AND, OR and XOR share one level, grouped to the right as in CESQLParser.g4.
    ("a AND b OR c", "(a AND (b OR c))"),
    ("a OR b AND c", "(a OR (b AND c))"),
    ("a AND b AND c", "(a AND b AND c)"),
    ("(a OR b) AND c", "((a OR b) AND c)"),
    ("a XOR b OR c", "(a XOR (b OR c))"),
    ("a = 1 AND b <> 2", "((a = 1) AND (b <> 2))"),
    ("1 + 2 * 3", "(1 + (2 * 3))"),
    ("1 - 2 - 3", "((1 - 2) - 3)"),
    ("8 / 4 % 3", "((8 / 4) % 3)"),
    ("1 + 2 = 3", "((1 + 2) = 3)"),
    ("1 < 2 = TRUE", "((1 < 2) = TRUE)"),
    # Prefix operators bind tightest, then LIKE and IN, then the binary operators.
    ("NOT a = b", "((NOT a) = b)"),
    ("NOT a LIKE 'x%'", "((NOT a) LIKE 'x%')"),
    ("a + b LIKE 'x'", "(a + (b LIKE 'x'))"),
    ("a NOT LIKE 'x'", "(a NOT LIKE 'x')"),
    ("x NOT IN (1, 'a', y)", "(x NOT IN (1, 'a', y))"),
    ("x IN (1) = FALSE", "((x IN (1)) = FALSE)"),
    ("NOT EXISTS time", "(NOT (EXISTS time))"),
    ("-x * 2", "((-x) * 2)"),
    ("--10", "10"),
    ("- 5", "-5"),
    ("+7", "7"),
    ("4 -1", "(4 - 1)"),
    ("-2147483648", "-2147483648"),
    ("-(-2147483648)", "(--2147483648)"),
    # Keywords, function and attribute names are case-insensitive; strings are not.
    ("tRuE and NoT FaLsE", "(TRUE AND (NOT FALSE))"),
    ("lower(TYPE) Like 'A%'", "(LOWER(type) LIKE 'A%')"),
    ("Exists MyExt", "(EXISTS myext)"),
    ("concat_ws(',', a)", "CONCAT_WS(',', a)"),
    ("'it''s'", "'it\\'s'"),
    ('"say \\"hi\\""', "'say \"hi\"'"),
])
def test_grouping(text: str, grouped: str) -> None:
    assert str(cesql.parse(text)) == grouped


@pytest.mark.parametrize("text, message", [
    ("(1 + 2))", "cesql: unexpected token ')' at position 7"),
    ("ABC(", "cesql: unexpected end of expression at position 4; expected an expression"),
    ("", "cesql: empty expression at position 0; expected an expression"),
    ("   ", "cesql: unexpected end of expression at position 3; expected an expression"),
    ("1 +", "cesql: unexpected end of expression at position 3; expected an expression"),
    ("x LIKE 123", ("cesql: unexpected token '123' at position 7; "
                   "expected a string literal as the LIKE pattern")),
    ("x LIKE y", ("cesql: unexpected token 'y' at position 7; "
                 "expected a string literal as the LIKE pattern")),
    ("1 IN ()", "cesql: unexpected token ')' at position 6; expected an expression"),
    ("1 IN 2", "cesql: unexpected token '2' at position 5; expected '(' to open the IN set"),
    ("LEFT('a' 1)", "cesql: unexpected token '1' at position 9; expected ',' or ')'"),
    ("a NOT b", "cesql: unexpected token 'NOT' at position 2"),
    ("EXISTS 1", ("cesql: unexpected token '1' at position 7; "
                 "expected an attribute name after EXISTS")),
    ("+'5'", "cesql: unexpected token '+' at position 0; expected an expression"),
    ("'abc", "cesql: unterminated string literal at position 0"),
    ("'abc\\'", "cesql: unterminated string literal at position 0"),
    ("a # b", "cesql: unexpected character '#' at position 2"),
    ("2147483648", "cesql: integer 2147483648 is outside the 32-bit range at position 0"),
    ("1 + -2147483649", "cesql: integer -2147483649 is outside the 32-bit range at position 4"),
    ("my_ext = 1", "cesql: invalid attribute name 'my_ext' at position 0"),
    ("F1(2)", "cesql: invalid function name 'F1' at position 0"),
    ("(" * 70 + "1" + ")" * 70, "cesql: expression nests deeper than 64 levels at position 64"),
    (" + ".join(["1"] * 80), "cesql: expression nests deeper than 64 levels at position 0"),
])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(cesql.ParseError) as raised:
        cesql.parse(text)
    assert str(raised.value) == message
    assert raised.value.kind == "parse"
    assert errors.http_status(raised.value) == 400


def test_parse_refuses_what_is_not_text() -> None:
    with pytest.raises(cesql.ParseError, match="must be a string"):
        cesql.parse(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, attributes, value, kinds", [
    # Attribute values come as int and bool as well as str.
    ("myint = 10", {"myint": 10}, True, []),
    ("myint = '10'", {"myint": 10}, True, []),
    ("myint + 1", {"myint": 41}, 42, []),
    ("myint LIKE '4_'", {"myint": 41}, True, []),
    ("mybool AND TRUE", {"mybool": True}, True, []),
    ("mybool = 'true'", {"mybool": True}, True, []),
    ("NOT mybool", {"mybool": False}, True, []),
    ("mystr AND TRUE", {"mystr": "TRUE"}, True, []),
    ("SUBJECT = 's'", {"subject": "s"}, True, []),
    ("time LIKE '2018-04-26T%'",
     {"time": datetime.datetime(2018, 4, 26, 14, 48, tzinfo=datetime.UTC)}, True, []),
    ("EXISTS myext", {"myext": None}, False, []),
    ("myext", {"myext": None}, False, ["missingAttribute"]),
    # Casts: the right operand of = picks the type; integers become booleans only by BOOL().
    ("TRUE = 1", {}, True, []),
    ("1 = TRUE", {}, False, ["cast"]),
    ("1 AND TRUE", {}, False, ["cast"]),
    ("FALSE OR 'true'", {}, True, []),
    ("'abc' = 5", {}, False, ["cast"]),
    ("1 IN ('x', 1)", {}, True, ["cast"]),
    ("BOOL(0)", {}, False, []),
    ("INT('+42')", {}, 42, []),
    ("INT(' 42')", {}, 0, ["cast"]),
    ("INT('4_2')", {}, 0, ["cast"]),
    ("INT('2147483648')", {}, 0, ["cast"]),
    ("INT('" + "9" * 5000 + "')", {}, 0, ["cast"]),
    # An error inside an operand makes every enclosing operator yield its zero value.
    ("NOT (NOT 10)", {}, False, ["cast"]),
    ("(TRUE AND 1) = FALSE", {}, False, ["cast"]),
    ("LENGTH(missing)", {}, 0, ["missingAttribute"]),
    ("LOWER(missing) = ''", {}, False, ["missingAttribute"]),
    ("type IN ('a', missing)", {}, False, ["missingAttribute"]),
    ("TRUE OR missing", {}, True, []),
    ("FALSE AND missing", {}, False, []),
    # Integers are 32-bit; division truncates toward zero.
    ("-7 / 2", {}, -3, []),
    ("-7 % 2", {}, -1, []),
    ("7 % -2", {}, 1, []),
    ("2147483647 + 1", {}, 2147483647, ["math"]),
    ("-2147483648 - 1", {}, -2147483648, ["math"]),
    ("-(-2147483648)", {}, 2147483647, ["math"]),
    ("-2147483648 / -1", {}, 2147483647, ["math"]),
    # Functions.
    ("IS_BOOL('False')", {}, True, []),
    ("IS_INT('12a')", {}, False, []),
    ("IS_STRING('a')", {}, False, ["missingFunction"]),
    ("FOO(1)", {}, False, ["missingFunction"]),
    ("LENGTH('a', 'b')", {}, False, ["missingFunction"]),
    ("UPPER(123)", {}, "123", []),
    ("CONCAT(1, TRUE, 'x')", {}, "1truex", []),
    ("TRIM('\u00a0 a\u2003')", {}, "a", []),
    ("TRIM('\x1fa')", {}, "\x1fa", []),
    ("RIGHT('abc', 0)", {}, "", []),
    ("SUBSTRING('abc', 2, 0)", {}, "", []),
    ("SUBSTRING('abc', 1, -1)", {}, "", ["functionEvaluation"]),
    ("LEFT('abc', 'x')", {}, "", ["cast"]),
    # LIKE: escapes, regex characters, and strings.
    ("subject LIKE 'a\\_%'", {"subject": "a_b"}, True, []),
    ("subject LIKE 'a\\_%'", {"subject": "ab"}, False, []),
    ("subject LIKE 'a.b'", {"subject": "aXb"}, False, []),
    ("subject LIKE '%'", {"subject": ""}, True, []),
    ("subject LIKE '%b%'", {"subject": "abc"}, True, []),
    ("subject LIKE 'a%c%'", {"subject": "abcd"}, True, []),
    ("subject LIKE '_'", {"subject": "\n"}, True, []),
    ("subject LIKE 'A%'", {"subject": "abc"}, False, []),
    ("subject NOT LIKE 'x%'", {"subject": "abc"}, True, []),
    ("'a\\b' = \"a\\b\"", {}, True, []),
    ("'it''s' = \"it's\"", {}, True, []),
    # Keywords are case-insensitive.
    ("1 in (1) xor false", {}, True, []),
    ("exists id and not exists missing", {}, True, []),
    ("Lower('A')", {}, "a", []),
    ("EXISTS id", {"id": None}, True, []),  # required attributes always exist
])
def test_evaluate(text: str, attributes: dict[str, Any], value: Any, kinds: list[str]) -> None:
    result, found = evaluate(text, **attributes)
    assert (type(result), result, found) == (type(value), value, kinds)


@pytest.mark.parametrize("text, attributes, matched", [
    ("type = 'com.example.created'", {}, True),
    ("type = 'com.example.deleted'", {}, False),
    ("type LIKE 'com.example.%' AND EXISTS subject", {"subject": "x"}, True),
    ("NOT 10", {}, False),  # true, but with a cast error
    ("ABS(-2147483648) = 2147483647", {}, False),
    ("1", {}, False),  # not a boolean
    ("'true'", {}, False),
    ("mybool", {"mybool": True}, True),
    ("missing = 1", {}, False),
    ("missing != 1", {}, False),
    ("NOT (missing = 1)", {}, False),
    ("TRUE OR missing", {}, True),
])
def test_matches(text: str, attributes: dict[str, Any], matched: bool) -> None:
    expression = cesql.parse(text)
    event = {**EVENT, **attributes}
    assert cesql.matches(expression, event) is matched
    assert expression.matches(event) is matched


def test_errors_say_where() -> None:
    value, found = cesql.parse("1 + 1 / 0").evaluate(EVENT)
    assert value == 0
    assert found == [cesql.EvaluationError("math", "division by zero", 6)]
    assert str(found[0]) == "cesql: division by zero at position 6"


def test_evaluate_uses_only_the_compiled_form(monkeypatch: pytest.MonkeyPatch) -> None:
    expression = cesql.parse("type LIKE 'com.%' AND INT(seq) > 2 AND source IN ('/s', '/t')")

    def refuse(*args: object) -> None:
        raise AssertionError("evaluate must not parse again")

    monkeypatch.setattr(lexing, "tokenize", refuse)
    monkeypatch.setattr(parsing, "parse", refuse)
    for seq in range(10):
        event = types.MappingProxyType({**EVENT, "seq": str(seq)})  # read-only is enough
        assert expression.evaluate(event) == (seq > 2, [])
