//! Statements, expressions, Python semantics and error messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use valuescape_lang::{ErrorKind, Value, parse};

fn check(expr: &str, expected: &str) {
    assert_eq!(eval(expr), expected, "expression: {expr}");
}

fn check_err(src: &str, kind: ErrorKind, msg: &str) -> valuescape_lang::LangError {
    let e = err(src);
    assert_eq!(e.kind, kind, "{e}");
    assert!(
        e.message.contains(msg),
        "expected {msg:?} in {:?}",
        e.message
    );
    assert!(e.span.end <= src.len() && e.span.start <= e.span.end);
    e
}

#[test]
fn arithmetic_follows_python() {
    check("1 + 2 * 3", "7");
    check("2 ** 3 ** 2", "512");
    check("-2 ** 2", "-4");
    check("(-2) ** 2", "4");
    check("2 ** -1", "0.5");
    check("7 / 2", "3.5");
    check("6 / 3", "2.0");
    check("7 // 2", "3");
    check("-7 // 2", "-4");
    check("7 // -2", "-4");
    check("-7 % 3", "2");
    check("7 % -3", "-2");
    check("7.5 // 2", "3.0");
    check("-7.5 % 2", "0.5");
    check("1 + 2.0", "3.0");
    check("True + True", "2");
    check("10 - 3 - 2", "5");
    check("2 * 3 % 4", "2");
    check("~5", "-6");
    check("5 & 3 | 8 ^ 1", "9");
    check("1 << 4 >> 2", "4");
    check("0.1 + 0.2", "0.30000000000000004");
    check("1e-5", "1e-05");
    check(".5 + 1.", "1.5");
    check("abs(-3), abs(-2.5)", "(3, 2.5)");
    check(
        "round(2.5), round(3.5), round(-0.5), round(2.675, 2)",
        "(2, 4, 0, 2.67)",
    );
    check("divmod(7, -2)", "(-4, -1)");
    check(
        "int(3.9), int(-3.9), int('42'), float('1.5'), float('inf')",
        "(3, -3, 42, 1.5, inf)",
    );
}

#[test]
fn integer_overflow_and_division_by_zero_are_errors() {
    check_err(
        "x = 9223372036854775807 + 1",
        ErrorKind::Value,
        "integer overflow",
    );
    check_err("x = 2 ** 64", ErrorKind::Value, "integer overflow");
    check_err("x = 10 ** 100", ErrorKind::Value, "integer overflow");
    check_err(
        "x = -9223372036854775807 - 1\ny = -x",
        ErrorKind::Value,
        "overflow",
    );
    check_err("x = 1 / 0", ErrorKind::Value, "division by zero");
    check_err("x = 1 // 0", ErrorKind::Value, "division by zero");
    check_err("x = 1 % 0", ErrorKind::Value, "division by zero");
    check_err("x = 1.0 / 0.0", ErrorKind::Value, "division by zero");
    check_err("x = 0 ** -1", ErrorKind::Value, "division by zero");
    check_err("x = (-8) ** 0.5", ErrorKind::Value, "fractional power");
    check_err("x = 1 << 70", ErrorKind::Value, "overflow");
    check("(-9223372036854775807 - 1) // 1", "-9223372036854775808");
    check_err(
        "x = (-9223372036854775807 - 1) // -1",
        ErrorKind::Value,
        "overflow",
    );
    check("(-9223372036854775807 - 1) % -1", "0");
}

#[test]
fn comparisons_and_logic() {
    check("0 <= 5 < 10", "True");
    check("0 <= 15 < 10", "False");
    check("1 < 2 > 1.5 == 1.5", "True");
    check("'ab' < 'b'", "True");
    check("[1, 2] < [1, 3]", "True");
    check("(1, 2) == (1, 2)", "True");
    check("[1, 2] == (1, 2)", "False");
    check("1 == 1.0", "True");
    check("None is None, None is not None", "(True, False)");
    check("not 1 == 2", "True");
    check("1 and 2", "2");
    check("0 and 1 / 0", "0");
    check("1 or 1 / 0", "1");
    check("'' or 'default'", "'default'");
    check(
        "3 in [1, 2, 3], 'lo' in 'hello', 4 not in (1, 2)",
        "(True, True, True)",
    );
    check("2 in {1: 'a', 2: 'b'}", "True");
    check(
        "5 in range(0, 10, 5), 3 in range(0, 10, 5)",
        "(True, False)",
    );
    check("'x' if 1 > 2 else 'y'", "'y'");
    check("float('nan') == float('nan')", "False");
    check_err(
        "x = 1 < 'a'",
        ErrorKind::Type,
        "'<' not supported between instances of 'int' and 'str'",
    );
}

#[test]
fn strings() {
    check("'a' + \"b\" + 'c' 'd'", "'abcd'");
    check("'ab' * 3", "'ababab'");
    check("'Blue Block'.lower().upper()", "'BLUE BLOCK'");
    check("'  x y  '.strip().split()", "['x', 'y']");
    check("'a,b,,c'.split(',')", "['a', 'b', '', 'c']");
    check("'-'.join(['a', 'b'])", "'a-b'");
    check(
        "'drawer handle'.startswith('drawer'), 'x.py'.endswith(('.rs', '.py'))",
        "(True, True)",
    );
    check("'aXbX'.replace('X', 'y')", "'ayby'");
    check(
        "'{} is {:.2f} cm from {name}'.format('cup', 3.14159, name='mug')",
        "'cup is 3.14 cm from mug'",
    );
    check(
        "'hello'[1], 'hello'[-1], 'hello'[1:3], 'hello'[::-1]",
        "('e', 'o', 'el', 'olleh')",
    );
    check(
        "str(1.0), str(None), str([1, 'a']), repr('it\\'s')",
        "('1.0', 'None', \"[1, 'a']\", '\"it\\'s\"')",
    );
    check("len('héllo')", "5");
    check("'a\\tb\\n'", "'a\\tb\\n'");
    check_err("x = 'a' + 1", ErrorKind::Type, "can only concatenate str");
}

#[test]
fn lists_tuples_dicts() {
    let out = ok("l = [1, 2, 3]
l.append(4)
l.extend((5, 6))
l.insert(0, 0)
last = l.pop()
l[1] = 10
l[-1] += 100
l2 = l[1:4]
l[0:2] = ['a']
d = {'a': 1}
d['b'] = 2
d['a'] += 10
keys = list(d.keys())
items = d.items()
g = d.get('zzz', 'none')
t = (1,)
s = sorted([3, 1, 2], reverse=True)
n = len(l) + len(d) + len(t)
del d['b']
");
    assert_eq!(
        format!("{:?}", out.get("l").unwrap()),
        "['a', 2, 3, 4, 105]"
    );
    assert_eq!(format!("{:?}", out.get("l2").unwrap()), "[10, 2, 3]");
    assert_eq!(format!("{:?}", out.get("d").unwrap()), "{'a': 11}");
    assert_eq!(format!("{:?}", out.get("keys").unwrap()), "['a', 'b']");
    assert_eq!(
        format!("{:?}", out.get("items").unwrap()),
        "[('a', 11), ('b', 2)]"
    );
    assert_eq!(format!("{:?}", out.get("g").unwrap()), "'none'");
    assert_eq!(format!("{:?}", out.get("t").unwrap()), "(1,)");
    assert_eq!(format!("{:?}", out.get("s").unwrap()), "[3, 2, 1]");
    assert_eq!(out.get("last").and_then(Value::as_i64), Some(6));
    assert_eq!(out.get("n").and_then(Value::as_i64), Some(8));
    check_err(
        "l = [1]\nx = l[5]",
        ErrorKind::Index,
        "list index out of range",
    );
    check_err("d = {}\nx = d['k']", ErrorKind::Index, "key 'k' not found");
    check_err(
        "t = (1, 2)\nt[0] = 5",
        ErrorKind::Type,
        "does not support item assignment",
    );
    check_err("x = {[1]: 2}", ErrorKind::Type, "unhashable type: 'list'");
    check_err(
        "l = [1]\nx = l[1.0]",
        ErrorKind::Type,
        "list indices must be integers or slices, not float",
    );
}

#[test]
fn assignment_forms() {
    let out = ok("a = b = 5
x, y, z = [1, 2, 3]
(p, q) = 'pq'
[m, (n, o)] = (1, (2, 3))
first, second = {'k1': 1, 'k2': 2}
u, v = range(2)
i, j = (i2 for i2 in [7, 8])
w: int = 9
");
    for (name, v) in [
        ("a", 5),
        ("b", 5),
        ("x", 1),
        ("z", 3),
        ("m", 1),
        ("o", 3),
        ("u", 0),
        ("v", 1),
        ("i", 7),
        ("j", 8),
        ("w", 9),
    ] {
        assert_eq!(out.get(name).and_then(Value::as_i64), Some(v), "{name}");
    }
    assert_eq!(out.get("p").and_then(Value::as_str), Some("p"));
    assert_eq!(out.get("second").and_then(Value::as_str), Some("k2"));
    let e = check_err(
        "pos = [1, 2]\nx, y, z = pos\n",
        ErrorKind::Value,
        "cannot unpack 2 values into 3 names",
    );
    assert_eq!((e.span.line, e.span.col, e.span.end_col), (2, 1, 8));
    check_err(
        "x, y = 5",
        ErrorKind::Type,
        "cannot unpack non-iterable int object",
    );
    check_err(
        "a, b = [1, 2, 3]",
        ErrorKind::Value,
        "cannot unpack 3 values into 2 names",
    );
}

#[test]
fn augmented_assignment() {
    let out = ok("import numpy as np
a = 5
a += 2
a -= 1
a *= 3
a //= 4
f = 7
f /= 2
s = 'x'
s += 'y'
l = [1]
alias = l
l += [2]
v = np.zeros(3)
v2 = v
v[2] += 5
v += 1
iv = np.array([1, 2, 3])
iv *= 2
");
    assert_eq!(out.get("a").and_then(Value::as_i64), Some(4));
    assert_eq!(out.get("f").and_then(Value::as_f64), Some(3.5));
    assert_eq!(out.get("s").and_then(Value::as_str), Some("xy"));
    assert_eq!(format!("{:?}", out.get("alias").unwrap()), "[1, 2]");
    assert_eq!(get_array(&out, "v2").data, vec![1.0, 1.0, 6.0]);
    assert_eq!(get_array(&out, "iv").data, vec![2.0, 4.0, 6.0]);
}

#[test]
fn control_flow() {
    let out = ok("total = 0
for i in range(10):
    if i % 2 == 0:
        continue
    elif i == 7:
        break
    else:
        total += i
else:
    total = -1
n = 0
while n < 5:
    n += 1
else:
    n += 100
found = None
for k, v in enumerate(['a', 'b', 'c'], start=1):
    if v == 'b':
        found = k
        break
pairs = []
for a, b in zip([1, 2, 3], 'xy'):
    pairs.append((a, b))
for ch in 'hi': pairs.append(ch)
for key in {'q': 1}: pairs.append(key)
if True: pass
");
    assert_eq!(out.get("total").and_then(Value::as_i64), Some(1 + 3 + 5));
    assert_eq!(out.get("n").and_then(Value::as_i64), Some(105));
    assert_eq!(out.get("found").and_then(Value::as_i64), Some(2));
    assert_eq!(
        format!("{:?}", out.get("pairs").unwrap()),
        "[(1, 'x'), (2, 'y'), 'h', 'i', 'q']"
    );
}

#[test]
fn comprehensions() {
    check("[x * x for x in range(5) if x % 2 == 0]", "[0, 4, 16]");
    check(
        "[(i, j) for i in range(3) for j in range(i)]",
        "[(1, 0), (2, 0), (2, 1)]",
    );
    check("[c for c in 'abc' if c != 'b' if c != 'z']", "['a', 'c']");
    check(
        "{k: v for k, v in [('a', 1), ('b', 2)]}",
        "{'a': 1, 'b': 2}",
    );
    check("sum(x for x in [1, 2, 3])", "6");
    check("any(x > 2 for x in [1, 2, 3]), all([])", "(True, True)");
    // Comprehension variables do not leak.
    check_err(
        "y = [q for q in range(3)]\nz = q",
        ErrorKind::Name,
        "name 'q' is not defined",
    );
}

#[test]
fn builtins_misc() {
    check(
        "min(3, 1, 2), max([1, 5, 2]), min([], default=0)",
        "(1, 5, 0)",
    );
    check("max(['aa', 'b'], key=len)", "'aa'");
    check("sorted(['bb', 'a', 'ccc'], key=len)", "['a', 'bb', 'ccc']");
    check(
        "list(reversed([1, 2, 3])), list(range(5, 0, -2))",
        "([3, 2, 1], [5, 3, 1])",
    );
    check(
        "list(map(int, [1.5, 2.7])), list(filter(None, [0, 1, 2]))",
        "([1, 2], [1, 2])",
    );
    check(
        "isinstance(1, int), isinstance(1.0, (int, float)), isinstance('a', list)",
        "(True, True, False)",
    );
    check("isinstance(np.zeros(2), np.ndarray)", "True");
    check(
        "bool([]), bool([0]), bool(0.0), bool('a')",
        "(False, True, False, True)",
    );
    check("pow(2, 10), sum([0.5, 0.25], 1)", "(1024, 1.75)");
    check(
        "dict(a=1, b=2), dict([('x', 1)])",
        "({'a': 1, 'b': 2}, {'x': 1})",
    );
    check(
        "tuple([1, 2]), list((1,)), list({'k': 0})",
        "((1, 2), [1], ['k'])",
    );
    check(
        "hasattr('s', 'upper'), getattr(1, 'nope', 'dflt')",
        "(True, 'dflt')",
    );
    check("format(0.5, '.1%'), format(3, '03d')", "('50.0%', '003')");
    check("range(3)", "range(0, 3)");
    check(
        "len(range(0, 10, 3)), range(10)[-1], range(10)[2:5]",
        "(4, 9, [2, 3, 4])",
    );
}

#[test]
fn print_output() {
    let out = ok("print('a', 1, 2.5, None, True)
print([1, (2, 'x')], {'k': [1]})
print('no newline', end='')
print(' joined', sep='-')
print(1, 2, sep=', ')
import numpy as np
print(np.array([[1, 2], [3, 4]]))
print(np.array([0.5, 1.0]))
");
    assert_eq!(
        out.output,
        vec![
            "a 1 2.5 None True",
            "[1, (2, 'x')] {'k': [1]}",
            "no newline joined",
            "1, 2",
            "[[1 2]",
            " [3 4]]",
            "[0.5 1. ]",
        ]
    );
}

#[test]
fn imports_and_modules() {
    check("__import__", "<built-in function __import__>");
    let out = ok("import math
from math import e, sqrt as root
import numpy
from numpy import linalg
a = math.sqrt(16) + root(9) + math.floor(2.7)
b = round(e * 1000, 1)
c = numpy.zeros(2).shape
d = linalg.norm([3, 4])
e = math.hypot(3, 4), math.atan2(1, 1) * 4, math.degrees(math.pi), math.ceil(1.2)
");
    assert_eq!(out.get("a").and_then(Value::as_f64), Some(9.0));
    assert_eq!(out.get("b").and_then(Value::as_f64), Some(2718.3));
    assert_eq!(format!("{:?}", out.get("c").unwrap()), "(2,)");
    assert_eq!(out.get("d").and_then(Value::as_f64), Some(5.0));
    assert_eq!(
        format!("{:?}", out.get("e").unwrap()),
        "(5.0, 3.141592653589793, 180.0, 2)"
    );
    let e = check_err(
        "import os\n",
        ErrorKind::Name,
        "module 'os' is not available",
    );
    assert_eq!((e.span.line, e.span.col, e.span.end_col), (1, 8, 10));
    check_err(
        "from subprocess import run",
        ErrorKind::Name,
        "module 'subprocess' is not available",
    );
    check_err(
        "import numpy as np\nx = np.random.rand(3)",
        ErrorKind::Name,
        "np.random is not available",
    );
    check_err(
        "from math import nope",
        ErrorKind::Name,
        "cannot import name 'nope' from 'math'",
    );
    check_err("x = open('f')", ErrorKind::Name, "'open' is not available");
    check_err("x = math.sqrt(-1)", ErrorKind::Value, "math domain error");
    check_err("from math import *", ErrorKind::Syntax, "import *");
}

#[test]
fn unsupported_syntax_is_reported() {
    let cases = [
        (
            "def f(x):\n    return x\n",
            "function definitions ('def') are not supported",
            (1, 1),
        ),
        ("class A:\n    pass\n", "class definitions", (1, 1)),
        (
            "f = lambda x: x\n",
            "'lambda' expressions are not supported",
            (1, 5),
        ),
        (
            "try:\n    x = 1\nexcept:\n    pass\n",
            "'try' statements are not supported",
            (1, 1),
        ),
        (
            "with a as b:\n    pass\n",
            "'with' statements are not supported",
            (1, 1),
        ),
        (
            "global x\n",
            "'global' statements are not supported",
            (1, 1),
        ),
        ("x = 1\ns = f'{x}'\n", "f-strings are not supported", (2, 5)),
        ("return 5\n", "'return' outside function", (1, 1)),
        ("x = {1, 2}\n", "set literals are not supported", (1, 5)),
        (
            "raise ValueError('x')\n",
            "'raise' statements are not supported",
            (1, 1),
        ),
        ("x = (y := 5)\n", "':='", (1, 8)),
        ("f(*args)\n", "'*args'", (1, 3)),
        ("@dec\nx = 1\n", "decorators", (1, 1)),
    ];
    for (src, msg, (line, col)) in cases {
        let e = parse(src).expect_err(src);
        assert_eq!(e.kind, ErrorKind::Syntax, "{src}");
        assert!(e.message.contains(msg), "{src}: {}", e.message);
        assert_eq!((e.span.line, e.span.col), (line, col), "{src}: {e}");
    }
}

#[test]
fn syntax_errors_have_precise_spans() {
    let cases = [
        (
            "if x > 1\n    y = 2\n",
            "expected ':' after 'if' condition",
            (1, 9),
        ),
        (
            "for i range(3):\n    pass\n",
            "expected 'in' after for-loop variable",
            (1, 7),
        ),
        ("x = 1\n    y = 2\n", "unexpected indent", (2, 1)),
        (
            "if x:\ny = 1\n",
            "expected an indented block after 'if' condition on line 1",
            (2, 1),
        ),
        (
            "if x:\n    y = 1\n  z = 2\n",
            "unindent does not match any outer indentation level",
            (3, 1),
        ),
        ("x = (1, 2\ny = 3\n", "'(' was never closed", (1, 5)),
        ("x = [1, 2\n", "'[' was never closed", (1, 5)),
        ("x = 1 +\n", "expected an expression", (1, 8)),
        ("x = 'abc\n", "unterminated string literal", (1, 5)),
        ("1 = x\n", "cannot assign to literal", (1, 1)),
        ("f() = 3\n", "cannot assign to function call", (1, 1)),
        ("x = 5 6\n", "invalid syntax", (1, 7)),
        ("break\n", "'break' outside loop", (1, 1)),
        ("if x = 1:\n    pass\n", "did you mean '=='", (1, 6)),
        ("x = a if b\n", "expected 'else'", (1, 11)),
        (
            "print(x for x in y, 1)\n",
            "generator expression must be parenthesized",
            (1, 7),
        ),
        (
            "f(a=1, 2)\n",
            "positional argument follows keyword argument",
            (1, 8),
        ),
        ("x = 08abc\n", "invalid decimal literal", (1, 5)),
        ("x = 1 $ 2\n", "invalid character '$'", (1, 7)),
    ];
    for (src, msg, (line, col)) in cases {
        let e = parse(src).expect_err(src);
        assert_eq!(e.kind, ErrorKind::Syntax, "{src}");
        assert!(e.message.contains(msg), "{src:?}: {}", e.message);
        assert_eq!((e.span.line, e.span.col), (line, col), "{src:?}: {e}");
    }
    let e = parse("if x > 1\n    y = 2\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1, column 9: SyntaxError: expected ':' after 'if' condition, found end of line"
    );
}

#[test]
fn runtime_errors_have_narrow_spans() {
    let src = "import numpy as np\nm = np.zeros((3, 3))\nv = m[1, 3]\n";
    let e = check_err(
        src,
        ErrorKind::Index,
        "index 3 is out of bounds for axis 1 with size 3",
    );
    assert_eq!(e.span.text(src), Some("m[1, 3]"));

    let src = "a = [1, 2]\nb = a + 1\n";
    let e = check_err(
        src,
        ErrorKind::Type,
        "can only concatenate list (not \"int\") to list",
    );
    assert_eq!(e.span.text(src), Some("a + 1"));

    let src = "x = 1\ny = x + 2 * (3 / (x - 1))\n";
    let e = check_err(src, ErrorKind::Value, "division by zero");
    assert_eq!(e.span.text(src), Some("3 / (x - 1)"));

    let src = "obj = None\np = obj.position\n";
    let e = check_err(
        src,
        ErrorKind::Type,
        "'NoneType' object has no attribute 'position'",
    );
    assert_eq!(e.span.text(src), Some("obj.position"));

    let src = "o = parse_query_obj('mug')\np = o.center\n";
    check_err(
        src,
        ErrorKind::Type,
        "'Object' object has no attribute 'center' (available: aabb, name, normal, position)",
    );

    let src = "x = 5\nx()\n";
    let e = check_err(src, ErrorKind::Type, "'int' object is not callable");
    assert_eq!(e.span.text(src), Some("x()"));

    let src = "import numpy as np\nif np.zeros(3) > 1:\n    pass\n";
    let e = check_err(
        src,
        ErrorKind::Value,
        "truth value of an array with more than one element is ambiguous",
    );
    assert_eq!(e.span.text(src), Some("np.zeros(3) > 1"));

    let src = "o = parse_query_obj('mug')\no.position = 3\n";
    check_err(src, ErrorKind::Type, "read-only");
    check_err(
        "x = len(5)",
        ErrorKind::Type,
        "object of type 'int' has no len()",
    );
    check_err(
        "x = range(1.5)",
        ErrorKind::Type,
        "'float' object cannot be interpreted as an integer",
    );
    check_err(
        "x = int('abc')",
        ErrorKind::Value,
        "invalid literal for int() with base 10: 'abc'",
    );
    check_err(
        "assert 1 == 2, 'nope'",
        ErrorKind::Value,
        "assertion failed: nope",
    );
    check_err(
        "x = [1, 2].nope",
        ErrorKind::Type,
        "'list' object has no attribute 'nope'",
    );
    check_err(
        "x = zip(1)",
        ErrorKind::Type,
        "'int' object is not iterable",
    );
    check_err(
        "x = sorted([1, 'a'])",
        ErrorKind::Type,
        "not supported between instances",
    );
    check_err(
        "x = max([])",
        ErrorKind::Value,
        "max() arg is an empty sequence",
    );
    check_err(
        "del nothing",
        ErrorKind::Name,
        "name 'nothing' is not defined",
    );
}

#[test]
fn cyclic_and_deep_structures_are_rejected() {
    check_err(
        "a = []\na.append(a)",
        ErrorKind::Value,
        "cannot insert a container into itself",
    );
    check_err(
        "d = {}\nd['x'] = [d]",
        ErrorKind::Value,
        "cannot insert a container into itself",
    );
    check_err(
        "x = []\nfor i in range(100):\n    x = [x]\n",
        ErrorKind::Limit,
        "nested too deeply",
    );
    // Chains built one append at a time are bounded too (dropping or
    // printing an unbounded chain would overflow the native stack).
    for src in [
        "x = []\nroot = x\nfor i in range(100000):\n    y = []\n    x.append(y)\n    x = y\n",
        "x = []\nroot = x\nfor i in range(100000):\n    y = []\n    x.append(y.append)\n    x = y\n",
        "d = {}\nroot = d\nfor i in range(100000):\n    e = {}\n    d['k'] = e\n    d = e\n",
        "x = [[]]\nroot = x\nfor i in range(100000):\n    y = [[]]\n    x[0] += [y]\n    x = y\n",
        "x = [0]\nroot = x\nfor i in range(100000):\n    y = [0]\n    x[0] = (y, 1)\n    x = y\n",
    ] {
        let e = err(src);
        assert_eq!(e.kind, ErrorKind::Limit, "{src}: {e}");
        assert!(e.message.contains("nested too deeply"), "{src}: {e}");
    }
    // Ordinary nested mutation is fine.
    let out = ok(
        "grid = [[] for _ in range(3)]\nfor i in range(3000):\n    grid[i % 3].append([i, (i, i)])\nn = len(grid[0])\n",
    );
    assert_eq!(out.get("n").and_then(Value::as_i64), Some(1000));
    // A DAG that doubles each step is bounded by the operation budget.
    let limits = valuescape_lang::Limits {
        max_ops: 2_000_000,
        ..Default::default()
    };
    let e = run_with(
        "x = [1]\nfor i in range(60):\n    x = [x, x]\n",
        &limits,
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
}

#[test]
fn chained_subscript_assignment() {
    let out = ok("import numpy as np
m = np.zeros((3, 3, 3))
m[1][2][0] = 5
m[2][1, 1] = 7
grid = [[0, 0], [0, 0]]
grid[1][0] = 9
rows = [np.zeros(2), np.zeros(2)]
rows[0][1] = 3
");
    let m = get_array(&out, "m");
    assert_eq!(m.get(&[1, 2, 0]), Some(5.0));
    assert_eq!(m.get(&[2, 1, 1]), Some(7.0));
    assert_eq!(
        format!("{:?}", out.get("grid").unwrap()),
        "[[0, 0], [9, 0]]"
    );
    assert_eq!(
        format!("{:?}", out.get("rows").unwrap()),
        "[[0. 3.], [0. 0.]]"
    );
    check_err(
        "import numpy as np\nm = np.zeros((3, 3))\nm[:, 0][1] = 5",
        ErrorKind::Type,
        "chained index",
    );
}

#[test]
fn predefined_and_outcome() {
    let out = run_with(
        "y = x * 2\n",
        &valuescape_lang::Limits::default(),
        vec![("x".to_string(), Value::Int(21))],
    )
    .unwrap();
    assert_eq!(out.get("y").and_then(Value::as_i64), Some(42));
    assert_eq!(out.get("x").and_then(Value::as_i64), Some(21));
    assert!(out.ops > 0);
    let p = parse("a = 1\nb = 2\n").unwrap();
    assert_eq!(p.source(), "a = 1\nb = 2\n");
    assert_eq!(p.len(), 2);
    let p2 = p.clone();
    assert_eq!(p2.source(), p.source());
}

#[test]
fn crlf_tabs_and_continuations() {
    let out = ok("x = 1\r\nif x:\r\n\ty = [1,\r\n  2]\r\n\tz = 1 + \\\r\n 2\r\n");
    assert_eq!(out.get("z").and_then(Value::as_i64), Some(3));
    assert_eq!(format!("{:?}", out.get("y").unwrap()), "[1, 2]");
}
