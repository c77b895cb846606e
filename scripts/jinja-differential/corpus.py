"""Hand-written templates of the differential corpus, grouped by what they exercise."""

CONTEXT = {
    "users": [{"name": "ann", "age": 31, "tags": ["a", "b"]}, {"name": "bob", "age": 25, "tags": []},
              {"name": "cy", "age": 31, "tags": ["c"]}],
    "n": 3,
    "s": "Hello World",
    "items": [3, 1, 2],
    "d": {"b": 2, "a": 1},
    "empty": [],
    "nested": {"x": {"y": {"z": "deep"}}},
    "html": "<b>bold</b> & 'q'",
    "f": 2.5,
    "none": None,
}


def literals():
    return [
        "{{ 1 }}", "{{ -1 }}", "{{ 1.5 }}", "{{ 1.0 }}", "{{ -0.0 }}", "{{ 0.0 }}", "{{ 1e3 }}", "{{ 1e-5 }}",
        "{{ 1_000 }}", "{{ 0x1f }}", "{{ 0o17 }}", "{{ 0b101 }}", "{{ 1.5e300 * 1e10 }}", "{{ 12345678901234567890 }}",
        "{{ 2 ** 64 }}", "{{ 2 ** 53 + 1 }}", "{{ 9007199254740993 }}", "{{ big }}", "{{ big + 1 }}", "{{ big * 2 }}",
        "{{ 10 ** 20 // 3 }}", "{{ (2 ** 62) % 1000 }}", "{{ -(2 ** 60) }}", "{{ 2 ** 100 }}", "{{ [2 ** 70] }}",
        "{{ 'a' }}", '{{ "b" }}', "{{ 'it''s' }}", "{{ 'a\\nb' }}", "{{ 'tab\\there' }}", "{{ '\\x41\\u00e9' }}",
        "{{ '\\N{BULLET}' }}", "{{ '\\N{LATIN SMALL LETTER E WITH ACUTE}x' }}", "{{ 'a' 'b' }}", "{{ true }}",
        "{{ True }}", "{{ false }}", "{{ none }}", "{{ None }}", "{{ [] }}", "{{ [1, 'a', none, true] }}", "{{ () }}",
        "{{ (1,) }}", "{{ (1, 2) }}", "{{ {} }}", "{{ {'a': 1} }}", "{{ {1: 'a'} }}", "{{ {1: 'a', '1': 'b'} }}",
        "{{ {'b': 1, 'a': 2, '1': 3} }}", "{{ {'10': 1, '2': 2, 'x': 3} }}", "{{ {true: 1, none: 2} }}",
        "{{ {(1, 2): 'pair'} }}", "{{ {1.5: 'x'} }}", "{{ {1: 'a', 1.0: 'b'} }}", "{{ [1.0, 2.50, 1e20, 1e16, 1e15] }}",
        "{{ 0.1 + 0.2 }}", "{{ 1/3 }}", "{{ 2/2 }}", "{{ 1e100 }}", "{{ 123456789.123 }}", "{{ 0.0001 }}", "{{ 0.00001 }}",
        "{{ 'quote\\'s' }}", "{{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"'] }}", "{{ ['\\n\\t\\x01'] }}",
        "{{ 'ünïcode' }}", "{{ ['ünïcode', '\\u2028'] }}", "{{ '\\\\' }}", "{{ ['\\\\'] }}",
        "{{ d }}", "{{ users[0] }}", "{{ nested }}", "{{ f }}", "{{ items }}",
    ]


def arithmetic():
    out = []
    for a, b in [("7", "2"), ("-7", "2"), ("7", "-2"), ("7.5", "2"), ("7", "0.5"), ("2", "3"), ("true", "2"), ("1", "0")]:
        for op in ["+", "-", "*", "/", "//", "%", "**"]:
            out.append("{{ %s %s %s }}" % (a, op, b))
    out += [
        "{{ 'ab' * 3 }}", "{{ 3 * 'ab' }}", "{{ [1] * 3 }}", "{{ 'a' + 'b' }}", "{{ [1] + [2] }}", "{{ (1,) + (2,) }}",
        "{{ 'a' + 1 }}", "{{ 1 + 'a' }}", "{{ [1] + (2,) }}", "{{ 'a' ~ 1 ~ none ~ true }}", "{{ 1 ~ 2.0 }}",
        "{{ 'x' ~ [1] }}", "{{ 'x' ~ {'a': 1} }}", "{{ 2 ** -1 }}", "{{ 2.0 ** 2 }}", "{{ -2 ** 2 }}", "{{ (-2) ** 2 }}",
        "{{ 10 // 3 * 3 + 10 % 3 }}", "{{ -7 // 2 }}", "{{ -7 % 3 }}", "{{ 7 % -3 }}", "{{ -7.5 % 2 }}",
        "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}", "{{ 1.0 / 0 }}", "{{ 1.0 // 0 }}", "{{ 'a' - 'b' }}", "{{ none + 1 }}",
        "{{ [1, 2] - [1] }}", "{{ -'a' }}", "{{ +true }}", "{{ -true }}", "{{ not 0 }}", "{{ not [] }}", "{{ not 'x' }}",
        "{{ 1 and 2 }}", "{{ 0 and 2 }}", "{{ 0 or 'x' }}", "{{ '' or [] }}", "{{ none or 0 }}", "{{ 1 if 2 > 1 else 3 }}",
        "{{ 'y' if 0 }}", "[{{ 'y' if 0 }}]", "{{ (1 if 0) is defined }}", "{{ 3 * 1.1 }}", "{{ 0.1 * 3 }}",
        "{{ 1e16 }}", "{{ 1e16 + 1 }}", "{{ 2 ** 0.5 }}", "{{ 100000000000000000000.0 }}", "{{ -1.5 // 1 }}",
        "{{ 5 // 2.0 }}", "{{ 5 % 2.5 }}", "{{ 3 - 3.0 }}", "{{ 0 * -1.0 }}", "{{ -0.0 + 0 }}", "{{ [-0.0] }}",
        "{{ 2 ** 63 - 1 }}", "{{ (2 ** 63) // 7 }}", "{{ 2 ** 64 / 2 }}", "{{ 99999999999999999 - 1 }}",
        "{{ 12345678901234567 * 10 }}", "{{ -(2 ** 70) // 3 }}", "{{ (2 ** 70) % 7 }}", "{{ 2 ** 53 == 2 ** 53 + 1 }}",
        "{{ 2 ** 60 > 2 ** 59 }}", "{{ (2**64)|string }}", "{{ (2**64)|float }}", "{{ (2**64) * 1.0 }}",
    ]
    return out


def comparisons():
    return [
        "{{ 1 < 2 < 3 }}", "{{ 1 < 3 < 2 }}", "{{ 1 == 1.0 }}", "{{ 1 == true }}", "{{ 'a' < 'b' }}", "{{ [1, 2] < [1, 3] }}",
        "{{ (1, 2) == [1, 2] }}", "{{ {'a': 1} == {'a': 1} }}", "{{ none == none }}", "{{ none == 0 }}", "{{ 1 < 'a' }}",
        "{{ none < 1 }}", "{{ [1] < (1,) }}", "{{ 'a' in 'cat' }}", "{{ 1 in [1, 2] }}", "{{ 3 not in [1, 2] }}",
        "{{ 'a' in {'a': 1} }}", "{{ '1' in {1: 'a'} }}", "{{ 1 in {1: 'a'} }}", "{{ 1.0 in {1: 'a'} }}",
        "{{ 1 in 'abc' }}", "{{ none in [none] }}", "{{ 'x' in none }}", "{{ 1 in 5 }}", "{{ {'a': 1} != {'a': 2} }}",
        "{{ [1, [2, 3]] == [1, [2, 3]] }}", "{{ 'abc' > 'abd' }}", "{{ true > false }}", "{{ 2 >= 2.0 }}",
        "{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }}", "{{ (1, 2) < (1, 2, 0) }}", "{{ [] == () }}",
        "{{ {1: 'a'}[1] }}", "{{ {1: 'a'}['1'] }}", "{{ {'1': 'a'}[1] }}", "{{ {true: 'a'}[1] }}",
        "{{ {1: 'a'}.get(1) }}", "{{ {1: 'a'}.get('1', 'none') }}",
    ]


def undefined():
    return [
        "[{{ missing }}]", "{{ missing is defined }}", "{{ missing is undefined }}", "{{ missing is none }}",
        "{{ missing|default('d') }}", "{{ missing|default }}", "{{ none|default('d') }}", "{{ none|default('d', true) }}",
        "{{ ''|d('e', true) }}", "{{ missing.attr }}", "{{ missing['k'] }}", "{{ missing.a.b }}", "{{ missing() }}",
        "{{ missing|int }}", "{{ missing|float }}", "{{ missing|string }}", "{{ missing|length }}", "{{ missing|list }}",
        "{{ missing|upper }}", "{{ missing|lower }}", "{{ missing|trim }}", "{{ missing|join(',') }}", "{{ missing|first }}",
        "{{ missing|count }}", "{{ missing|e }}", "{{ missing|safe }}", "{{ missing|tojson }}", "{{ missing|sort }}",
        "{{ missing|reverse }}", "{{ missing|unique|list }}", "{{ missing|abs }}", "{{ missing|round }}",
        "{{ missing|capitalize }}", "{{ missing|title }}", "{{ missing|replace('a', 'b') }}", "{{ missing|sum }}",
        "{{ missing|min }}", "{{ missing|max }}", "{{ missing|wordcount }}", "{{ missing|batch(2)|list }}",
        "{{ missing|map('upper')|list }}", "{{ missing|select|list }}", "{{ missing|items|list }}",
        "{{ missing|dictsort }}", "{{ missing|pprint }}", "{{ missing|urlencode }}", "{{ missing|center(5) }}",
        "{{ [missing] }}", "{{ (missing,) }}", "{{ {'a': missing} }}", "{{ missing ~ 'x' }}", "{{ missing + 1 }}",
        "{{ missing == missing }}", "{{ missing == none }}", "{{ missing != 1 }}", "{{ missing < 1 }}",
        "{{ 'a' in missing }}", "{{ missing in [1] }}", "{{ missing in 'abc' }}", "{{ not missing }}",
        "{{ missing is sequence }}", "{{ missing is iterable }}", "{{ missing is mapping }}", "{{ missing is string }}",
        "{{ missing is number }}", "{{ missing is callable }}", "{{ missing is sameas none }}", "{{ missing is true }}",
        "{{ missing is false }}", "{{ missing is boolean }}", "{{ missing is lower }}", "{{ missing is eq 1 }}",
        "{% for x in missing %}{{ x }}{% else %}empty{% endfor %}", "{% if missing %}y{% else %}n{% endif %}",
        "{{ missing|default(missing2)|default('z') }}", "{{ users[10] }}", "[{{ users[10].name }}]",
        "{{ d.missing }}", "[{{ d.missing }}]", "{{ d.missing.deeper }}", "{{ none.attr }}", "[{{ none.attr }}]",
        "{{ (1).missing }}", "[{{ 'x'.missing }}]", "{{ 'x'.missing() }}", "{{ [1][5] }}", "[{{ 'abc'[10] }}]",
        "{{ missing|string|length }}", "{{ missing|lower|length }}", "{% set x = missing %}[{{ x }}]",
        "{{ missing|attr('x') }}", "{{ missing|xmlattr }}", "{{ missing[0:2] }}", "{{ range(missing) }}",
        "{{ missing|int(5) }}", "{{ missing|float(1.5) }}", "{{ missing|bool }}", "{{ missing * 2 }}",
        "{{ -missing }}", "{{ missing|join }}", "{{ missing|list|length }}", "{{ missing.upper() }}",
        "{{ missing is divisibleby 2 }}", "{{ missing is odd }}", "{% set ns = namespace() %}{{ ns.missing }}|",
        "{{ missing|indent }}", "{{ missing|truncate }}", "{{ missing|wordwrap }}", "{{ missing|striptags }}",
        "{{ missing|forceescape }}", "{{ missing|filesizeformat }}", "{{ missing|urlize }}", "{{ missing|format }}",
        "{{ '%s'|format(missing) }}", "{{ '{}'.format(missing) }}", "{{ missing|string == '' }}",
    ]


def scoping():
    return [
        "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}",
        "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}",
        "{% set x %}inner{% endset %}{{ x }}", "{% set x | upper %}inner{% endset %}{{ x }}",
        "{% set y = 1 %}{% set x %}{% set y = 2 %}{{ y }}{% endset %}{{ x }}{{ y }}",
        "{% set x %}{% set leak = 'L' %}body{% endset %}[{{ leak }}]",
        "{% filter upper %}{% set leak = 'L' %}abc{% endfilter %}[{{ leak }}]",
        "{% set y = 1 %}{% filter upper %}{% set y = 2 %}{{ y }}{% endfilter %}{{ y }}",
        "{% set x %}{% for i in range(3) %}{{ i }}{% endfor %}{% endset %}{{ x|length }}",
        "{% with a = 1 %}{{ a }}{% endwith %}[{{ a }}]", "{% with a = 1, b = a %}{{ b }}{% endwith %}",
        "{% with %}{% set q = 5 %}{{ q }}{% endwith %}[{{ q }}]",
        "{% set ns = namespace(c=0) %}{% for i in range(4) %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}",
        "{% set ns = namespace(a=1, b='x') %}{{ ns }}", "{% set ns = namespace() %}{{ ns }}",
        "{% set ns = namespace({'k': 1}, z=2) %}{{ ns.k }}{{ ns.z }}", "{% set x = 1 %}{% set x.a = 2 %}",
        "{% set a, b = 1, 2 %}{{ a }}{{ b }}", "{% set a, b = [1, 2, 3] %}", "{% set a, b = [1] %}",
        "{% set (a, b), c = [(1, 2), 3] %}{{ a }}{{ b }}{{ c }}",
        "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}",
        "{% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
        "{% macro m() %}{{ outer }}{% endmacro %}{% set outer = 'o' %}{{ m() }}",
        "{% set outer = 'o' %}{% macro m() %}{% set outer = 'i' %}{{ outer }}{% endmacro %}{{ m() }}{{ outer }}",
        "{% for i in [1, 2] %}{% set acc = i %}{% endfor %}[{{ acc }}]",
        "{% set x = 5 %}{% for i in [1] %}{{ x }}{% set x = 6 %}{{ x }}{% endfor %}{{ x }}",
        "{% if true %}{% set z = 1 %}{% endif %}{{ z }}",
        "{% set x = [1] %}{% for i in [2] %}{% do x.append(i) %}{% endfor %}{{ x }}",
        "{% set d2 = {} %}{% do d2.update({'a': 1}) %}{{ d2 }}", "{% set d2 = {'a': 1} %}{% set d2.b = 2 %}",
        "{{ self }}|", "{% set loop = 1 %}{{ loop }}", "{% for i in [1] %}{% for j in [2] %}{{ loop.depth }}{% endfor %}{% endfor %}",
        "{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ i }}{% endfor %}{% endfor %}",
        "{% set x = 1 %}{% macro m(x=x) %}{{ x }}{% endmacro %}{{ m() }}",
    ]


def loops():
    return [
        "{% for i in range(3) %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{% endfor %}",
        "{% for i in range(3) %}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.length }}{% endfor %}",
        "{% for i in range(3) %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}",
        "{% for i in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}",
        "{% for i in [1, 1, 2] %}{% if loop.changed(i) %}{{ i }}{% endif %}{% endfor %}",
        "{% for i in range(10) if i is odd %}{{ i }}{% endfor %}",
        "{% for i in range(5) if i > 1 %}{{ loop.index }}/{{ loop.length }} {% endfor %}",
        "{% for i in [] %}x{% else %}empty{% endfor %}", "{% for i in [1] %}x{% else %}empty{% endfor %}",
        "{% for i in range(5) %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}",
        "{% for i in range(5) %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}",
        "{% for i in range(3) %}{% break %}{% else %}else{% endfor %}",
        "{% for i in range(3) %}{% continue %}{% else %}else{% endfor %}",
        "{% for i in [] %}{% break %}{% else %}else{% endfor %}", "{% break %}after", "{% continue %}",
        "{% if true %}{% break %}{% endif %}", "{% macro m() %}{% break %}{% endmacro %}",
        "{% for i in [1] %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}",
        "{% for i in range(3) %}{% for j in range(3) %}{% if j == 1 %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}",
        "{% for i in 'abc' %}{{ i }}{% endfor %}", "{% for k in d %}{{ k }}{% endfor %}",
        "{% for k in {'b': 1, 'a': 2, '1': 3, 2: 4} %}{{ k }},{% endfor %}", "{% for x in none %}{% endfor %}",
        "{% for x in 5 %}{% endfor %}", "{% for x in range(3)|reverse %}{{ x }}{% endfor %}",
        "{{ loop }}", "{% for i in [1] %}{{ loop }}{% endfor %}", "{% for i in [1,2] %}{{ loop.cycle() }}{% endfor %}",
        "{% for node in [{'n': 1, 'c': [{'n': 2, 'c': []}, {'n': 3, 'c': [{'n': 4, 'c': []}]}]}] recursive %}{{ node.n }}{% if node.c %}[{{ loop(node.c) }}]{% endif %}{% endfor %}",
        "{% for node in [{'n': 1, 'c': [{'n': 2, 'c': []}]}] recursive %}{{ loop.depth }}{{ loop.depth0 }}{{ node.n }}{{ loop(node.c) }}{% endfor %}",
        "{% for x in [[1, [2]], [3]] recursive %}{% if x is iterable %}({{ loop(x) }}){% else %}{{ x }}{% endif %}{% endfor %}",
        "{% for x in [1, 2] %}{{ loop(x) }}{% endfor %}",
        "{% for i in range(3) %}{{ i }}{% if loop.last %}.{% else %},{% endif %}{% endfor %}",
        "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}",
        "{% for i in range(2) %}{{ loop.index }}{% set loop = 'x' %}{{ loop }}{% endfor %}",
        "{% for i in range(3) %}{% set t = i %}{% endfor %}{{ t }}", "{% for user in users %}{{ user.name }} {% endfor %}",
        "{% for u in users|sort(attribute='age') %}{{ u.name }}{% endfor %}", "{% for x in range(2, 10, 3) %}{{ x }}{% endfor %}",
        "{% for x in range(10, 0, -3) %}{{ x }}{% endfor %}", "{{ range(5) }}", "{{ range(1, 5) }}", "{{ range(0, 10, 2) }}",
        "{{ range(5)|list }}", "{{ range(3)|length }}", "{{ range(100001)|length }}", "{{ range(0) }}", "{{ range(5, 1, -1)|list }}",
        "{{ range(1.5) }}", "{{ range(0, 5, 0) }}", "{{ range() }}", "{{ range(3)[1] }}", "{{ range(10)[2:5] }}",
        "{% for i in range(2) %}{% for j in range(2) %}{% if j %}{% continue %}{% endif %}{{ i }}{% endfor %}{% else %}no{% endfor %}",
        "{% for i in [3, 1] %}{{ loop.previtem is defined }}{% endfor %}",
    ]


def macros():
    return [
        "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }}|{{ m(1, 3) }}|{{ m(b=5, a=4) }}",
        "{% macro m(a) %}{{ a }}{% endmacro %}{{ m() }}|", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
        "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, b=2) }}", "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}",
        "{% macro m(a, b, ) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", "{% macro m(a=1, b) %}{% endmacro %}",
        "{% macro m(a, a) %}{% endmacro %}", "{% macro m() %}x{% endmacro %}{{ m }}", "{% macro m() %}x{% endmacro %}{{ m.name }}",
        "{% macro m(a, b=1) %}{{ varargs }}{% endmacro %}{{ m.arguments }}", "{% macro m(a) %}{{ caller() }}{% endmacro %}{{ m.caller }}",
        "{% macro m() %}{{ kwargs }}{% endmacro %}{{ m.catch_kwargs }}{{ m.catch_varargs }}",
        "{% macro m() %}{{ varargs }}{% endmacro %}{{ m.catch_kwargs }}{{ m.catch_varargs }}",
        "{% macro m() %}{% endmacro %}{{ m.defaults }}", "{% macro m(a, b=1, c='x') %}{% endmacro %}{{ m.arguments }}{{ m.defaults|length }}",
        "{% macro m() %}{% endmacro %}{{ [m] }}", "{% macro m() %}{% endmacro %}{{ m|string }}",
        "{% macro m() %}{% endmacro %}{{ m.__name__ }}", "{% macro m() %}{% endmacro %}{{ m.missing }}|",
        "{% macro m() %}{% endmacro %}{{ m is callable }}", "{% macro m() %}body{% endmacro %}{{ m()|upper }}",
        "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}inside{% endcall %}",
        "{% macro m() %}{{ caller(1, 2) }}{% endmacro %}{% call(a, b) m() %}{{ a + b }}{% endcall %}",
        "{% macro m() %}[{% for i in range(2) %}{{ caller(i) }}{% endfor %}]{% endmacro %}{% call(x) m() %}<{{ x }}>{% endcall %}",
        "{% macro m() %}{{ caller() }}{% endmacro %}{{ m() }}", "{% macro m(caller) %}{{ caller() }}{% endmacro %}{{ m(caller=1) }}",
        "{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(5) }}",
        "{% macro inf(n) %}{{ inf(n + 1) }}{% endmacro %}{{ inf(0) }}",
        "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(1) }}",
        "{% macro r(n) %}{% if n > 0 %}{{ r(n - 1) }}{% else %}bottom{% endif %}{% endmacro %}{{ r(200) }}",
        "{{ later() }}{% macro later() %}x{% endmacro %}", "{% macro m() %}{% set x = 1 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}|",
        "{% macro m(x) %}{{ x }}{% endmacro %}{{ m(x=1) }}{{ m(*[2]) }}{{ m(**{'x': 3}) }}",
        "{% macro m() %}{{ varargs|length }}{% endmacro %}{{ m(*range(4)) }}", "{% macro m(a, b) %}{{ a }}{{ b }}{% endmacro %}{{ m(1, *[2]) }}",
        "{% macro m() %}a{% endmacro %}{% set s = m() %}{{ s ~ s }}{{ s|length }}",
        "{% macro m(x) %}{{ x|default('dflt') }}{% endmacro %}{{ m() }}", "{% macro m(x) %}{{ x is defined }}{% endmacro %}{{ m() }}",
        "{% macro m() %}{{ caller is defined }}{% endmacro %}{{ m() }}",
        "{% macro m(a) %}{{ a }}{% endmacro %}{% set f = m %}{{ f(7) }}", "{% macro outer() %}{% macro inner() %}i{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }}",
        "{% macro m() %}x{% endmacro %}{{ m(1) }}", "{% macro m() %}x{% endmacro %}{{ m(a=1) }}", "{% macro m %}x{% endmacro %}",
        "{% macro m() %}{{ kwargs|dictsort }}{% endmacro %}{{ m(b=2, a=1) }}", "{% macro m(a) %}{{ kwargs }}{% endmacro %}{{ m(1, a=2) }}",
        "{% call m() %}x{% endcall %}", "{% macro m() %}{{ caller(x=1) }}{% endmacro %}{% call(x) m() %}{{ x }}{% endcall %}",
    ]


def filters():
    t = []
    vals = ["'  Mixed Case  '", "[3, 1, 2]", "{'b': 1, 'a': 2}", "-3.7", "none", "'<a href=\"x\">T&amp;</a>'"]
    simple = ["upper", "lower", "title", "capitalize", "trim", "length", "count", "string", "list", "first", "last", "reverse",
              "sort", "unique|list", "int", "float", "abs", "round", "e", "escape", "safe", "striptags", "wordcount", "tojson",
              "pprint", "urlencode", "center", "sum", "min", "max", "join", "items|list", "dictsort", "forceescape", "bool",
              "filesizeformat", "wordwrap", "urlize", "truncate", "indent", "xmlattr", "random|length"]
    for v in vals:
        for flt in simple:
            if flt == "random|length":
                continue
            t.append("{{ %s|%s }}" % (v, flt))
    t += [
        "{{ 'a,b'|replace(',', ';') }}", "{{ 'aaa'|replace('a', 'b', 2) }}", "{{ [1, 2]|join(', ') }}", "{{ users|join(',', attribute='name') }}",
        "{{ users|map(attribute='name')|join }}", "{{ users|map(attribute='missing', default='?')|list }}", "{{ [1, 2]|map('string')|list }}",
        "{{ users|selectattr('age', 'gt', 26)|map(attribute='name')|list }}", "{{ users|rejectattr('tags')|list|length }}",
        "{{ [1, 2, 3, 4]|select('odd')|list }}", "{{ [1, 2, 3, 4]|reject('even')|list }}", "{{ [0, 1, '', 'a']|select|list }}",
        "{{ users|groupby('age')|list }}", "{% for g in users|groupby('age') %}{{ g.grouper }}:{{ g.list|length }};{% endfor %}",
        "{% for age, us in users|groupby('age', reverse=true) %}{{ age }}{% endfor %}", "{{ users|sum(attribute='age') }}",
        "{{ users|min(attribute='age') }}", "{{ users|max(attribute='age') }}", "{{ ['B', 'a', 'C']|sort }}",
        "{{ ['B', 'a', 'C']|sort(case_sensitive=true) }}", "{{ ['B', 'a', 'C']|sort(reverse=true) }}", "{{ users|sort(attribute='age,name')|map(attribute='name')|list }}",
        "{{ ['a', 'A', 'b']|unique|list }}", "{{ ['a', 'A', 'b']|unique(case_sensitive=true)|list }}", "{{ range(7)|batch(3)|list }}",
        "{{ range(7)|batch(3, 'x')|list }}", "{{ range(7)|batch|list }}", "{{ range(7)|batch(0)|list }}", "{{ range(7)|slice(3)|list }}",
        "{{ range(7)|slice(3, 'x')|list }}", "{{ 'abc'|center(9) }}|", "{{ 'abc'|center(9, '*') }}", "{{ 3.14159|round(2) }}",
        "{{ 3.5|round }}", "{{ 2.5|round }}", "{{ 2.5|round(method='ceil') }}", "{{ 2.5|round(method='floor') }}", "{{ 2.5|round(method='x') }}",
        "{{ 17|round(-1) }}", "{{ 1234.5678|round(2, 'floor') }}", "{{ '42'|int }}", "{{ '4.2'|int }}", "{{ 'x'|int }}", "{{ 'x'|int(7) }}",
        "{{ '0x1A'|int(0, 16) }}", "{{ '0b11'|int(base=2) }}", "{{ '12'|int(base=8) }}", "{{ '3.5'|float }}", "{{ 'x'|float }}", "{{ '1e3'|float }}",
        "{{ 4.7|int }}", "{{ -4.7|int }}", "{{ true|int }}", "{{ '  12  '|int }}", "{{ '1_000'|int }}", "{{ 'inf'|float }}", "{{ 'nan'|float }}",
        "{{ '99999999999999999999'|int }}", "{{ '9007199254740993'|int + 0 }}", "{{ 'hello'|truncate(3) }}", "{{ 'hello world foo'|truncate(9) }}",
        "{{ 'hello world foo'|truncate(9, true) }}", "{{ 'hello world foo'|truncate(9, false, '!') }}", "{{ 'hello world foo'|truncate(11, leeway=0) }}",
        "{{ 'a\\nb'|indent }}", "{{ 'a\\nb'|indent(2, true) }}", "{{ 'a\\n\\nb'|indent(2, blank=true) }}", "{{ 'a\\nb'|indent('> ') }}",
        "{{ 'x y z'|wordcount }}", "{{ 'a b c d e f g'|wordwrap(5) }}", "{{ 'abcdefghij klm'|wordwrap(4) }}", "{{ 'abcdefghij klm'|wordwrap(4, false) }}",
        "{{ 'aaa bbb ccc'|wordwrap(7, wrapstring='|') }}", "{{ 'one two\\nthree four five'|wordwrap(9) }}", "{{ 'a-b-c-d'|wordwrap(3, break_on_hyphens=false) }}",
        "{{ 1000|filesizeformat }}", "{{ 1024|filesizeformat(true) }}", "{{ 1|filesizeformat }}", "{{ 1500000|filesizeformat }}",
        "{{ 123456789012|filesizeformat }}", "{{ 1e30|filesizeformat }}", "{{ 0|filesizeformat }}", "{{ 2048|filesizeformat(binary=true) }}",
        "{{ 'visit http://example.com now'|urlize }}", "{{ 'see www.example.org.'|urlize }}", "{{ 'mail me@example.com'|urlize }}",
        "{{ 'http://a.very.long.example.com/path'|urlize(15) }}", "{{ 'x http://e.com y'|urlize(nofollow=true) }}",
        "{{ 'x http://e.com y'|urlize(target='_blank') }}", "{{ 'x https://e.com/<a> y'|urlize }}", "{{ '(http://e.com)'|urlize }}",
        "{{ {'a': 1, 'b': none}|xmlattr }}", "{{ {'class': 'x<y'}|xmlattr(false) }}", "{{ {'a b': 1}|xmlattr }}",
        "{{ 'a&b'|e }}", "{{ 'a&b'|e|e }}", "{{ 'a&b'|forceescape|forceescape }}", "{{ '<p>x</p>'|striptags }}", "{{ '&amp;x'|striptags }}",
        "{{ {'a': [1, 'x']}|tojson }}", "{{ '<>&\\''|tojson }}", "{{ {'b': 1, 'a': 2}|tojson(indent=2) }}", "{{ [1.0, none, true]|tojson }}",
        "{{ {1: 'a'}|tojson }}", "{{ 'a b&c'|urlencode }}", "{{ {'a': 'x y', 'b': 1}|urlencode }}", "{{ [('a', 1)]|urlencode }}",
        "{{ 'ab'|list }}", "{{ 'abc'|reverse }}", "{{ [1, 2]|reverse|list }}", "{{ {'a': 1}|list }}", "{{ 'a'|attr('upper')() }}",
        "{{ d|dictsort }}", "{{ d|dictsort(by='value') }}", "{{ d|dictsort(reverse=true) }}", "{{ {'B': 1, 'a': 2}|dictsort(true) }}",
        "{{ d|items|list }}", "{{ d.items() }}", "{{ d.keys() }}", "{{ d.values() }}", "{{ d.items()|list }}", "{{ d.keys()|list }}",
        "{{ d.keys()|length }}", "{{ 'x' in d.keys() }}", "{{ d.get('a') }}", "{{ d.get('z') }}", "{{ d.get('z', 0) }}",
        "{{ [1, 2, 3]|first }}", "{{ []|first }}", "{{ []|last }}", "{{ ''|first }}", "{{ [1, 'a']|sum }}", "{{ [[1], [2]]|sum(start=[]) }}",
        "{{ [1.5, 2]|sum }}", "{{ []|min }}", "{{ [3, 1]|min }}", "{{ 'bca'|max }}", "{{ ['b', 'A']|max }}", "{{ ['b', 'A']|max(case_sensitive=true) }}",
        "{{ 'x'|format }}", "{{ '%s-%s'|format(1, 2) }}", "{{ '%(a)s'|format(a=1) }}", "{{ '%d'|format('x') }}", "{{ '%5.2f|%-4d|%x'|format(3.14159, 7, 255) }}",
        "{{ 'a'|nosuchfilter }}", "{{ [1,2]|join(none) }}", "{{ ['a', none]|join('-') }}", "{{ 5|string ~ 1 }}", "{{ none|string }}",
        "{{ 'Straße'|upper }}", "{{ 'ǅ'|lower }}", "{{ 'hello WORLD'|capitalize }}", "{{ \"they're bill's\"|title }}", "{{ 'a-b c_d'|title }}",
        "{{ [3, 1]|sort|first }}", "{{ [{'a': 2}, {'a': 1}]|sort(attribute='a') }}", "{{ [[2, 'b'], [1, 'a']]|sort }}", "{{ [1, 'a']|sort }}",
        "{{ 'abc'|batch(2)|list }}", "{{ [1,2,3]|slice(2)|list }}", "{{ users|map(attribute='tags')|map('length')|list }}",
        "{{ [1, none]|map('default', 'd')|list }}", "{{ users|selectattr('name', 'equalto', 'bob')|first }}",
        "{{ [1, 2, 3]|select('>', 1)|list }}", "{{ [1, 2, 3]|select('in', [1, 3])|list }}", "{{ [1, 2]|select('nosuch')|list }}",
        "{{ ['a', 'b']|map('upper')|join }}", "{{ 'abc'|map('upper')|list }}", "{{ [1, 2]|map('nosuch')|list }}", "{{ none|list }}",
        "{{ 5|list }}", "{{ 'x'|length }}", "{{ 5|length }}", "{{ {'a': 1}|length }}", "{{ [1, 2]|random in [1, 2] }}",
        "{{ -5|abs }}", "{{ 'x'|abs }}", "{{ -2.0|abs }}", "{{ 'a'|as_text }}", "{{ '1'|as_number }}", "{{ 'true'|as_bool }}", "{{ [1]|as_native }}",
    ]
    return t


def tests():
    names = ["defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string", "mapping", "iterable",
             "sequence", "callable", "lower", "upper", "odd", "even", "escaped"]
    vals = ["1", "1.5", "'abc'", "'ABC'", "[1]", "{'a': 1}", "none", "true", "range(3)", "2", "0"]
    out = []
    for v in vals:
        out.append("{{ [" + ", ".join("%s is %s" % (v, n) for n in names) + "] }}")
    out += [
        "{{ 4 is divisibleby 2 }}", "{{ 4 is divisibleby 0 }}", "{{ 4.0 is divisibleby 2 }}", "{{ 1.5 is odd }}", "{{ 2.0 is even }}",
        "{{ 'a' is odd }}", "{{ 1 is eq 1 }}", "{{ 1 is ==(1) }}", "{{ 1 is ne 2 }}", "{{ 1 is lt 2 }}", "{{ 1 is le 1 }}", "{{ 2 is gt 1 }}",
        "{{ 2 is ge 3 }}", "{{ 1 is in [1] }}", "{{ 1 is sameas 1 }}", "{{ none is sameas none }}", "{{ [] is sameas [] }}",
        "{{ 'upper' is filter }}", "{{ 'nosuch' is filter }}", "{{ 'odd' is test }}", "{{ 'nosuch' is test }}", "{{ 1 is nosuchtest }}",
        "{{ 1 is not none }}", "{{ not 1 is none }}", "{{ 'a'|e is escaped }}", "{{ ('a'|safe) is escaped }}", "{{ 1 is greaterthan 0 }}",
        "{{ 1 is lessthan 0 }}", "{{ 1 is equalto 1 }}", "{{ true is integer }}", "{{ d.keys() is sequence }}", "{{ d.keys() is iterable }}",
        "{{ users is sequence }}", "{{ 'x'.upper is callable }}", "{{ range is callable }}", "{{ (1, 2) is sequence }}",
        "{{ 10 is divisibleby 3 }}", "{{ -4 is even }}", "{{ 2 ** 70 is even }}", "{{ 1e100 is number }}", "{{ (2**64) is integer }}",
    ]
    return out


def strings():
    return [
        "{{ 'a,b,c'.split(',') }}", "{{ 'a b  c'.split() }}", "{{ 'a,b,c'.split(',', 1) }}", "{{ 'a,b,c'.rsplit(',', 1) }}",
        "{{ '  x  '.strip() }}|", "{{ 'xxaxx'.strip('x') }}", "{{ 'abc'.startswith('a') }}", "{{ 'abc'.endswith(('c', 'd')) }}",
        "{{ 'abc'.upper() }}", "{{ 'ABC'.lower() }}", "{{ 'abc'.replace('b', 'B') }}", "{{ 'abc'.find('c') }}", "{{ 'abc'.index('z') }}",
        "{{ 'a-b'.join(['x', 'y']) }}", "{{ ','.join([1, 2]) }}", "{{ 'abc'.count('b') }}", "{{ 'Abc'.swapcase() }}", "{{ 'abc'.title() }}",
        "{{ 'abc'.capitalize() }}", "{{ 'ab'.center(6, '-') }}", "{{ 'ab'.ljust(5, '.') }}", "{{ 'ab'.rjust(5) }}", "{{ '42'.zfill(5) }}",
        "{{ '-42'.zfill(5) }}", "{{ 'abc'.isalpha() }}", "{{ '123'.isdigit() }}", "{{ 'a b'.partition(' ') }}", "{{ 'a\\nb'.splitlines() }}",
        "{{ 'abc'[1] }}", "{{ 'abc'[-1] }}", "{{ 'abcdef'[1:4] }}", "{{ 'abcdef'[::2] }}", "{{ 'abcdef'[::-1] }}", "{{ [1, 2, 3][1:] }}",
        "{{ [1, 2, 3][:-1] }}", "{{ (1, 2, 3)[::2] }}", "{{ 'abc'[5:] }}|", "{{ 'x'.encode }}|", "{{ 'abc'.removeprefix('a') }}",
        "{{ 'abc'.removesuffix('c') }}", "{{ 'a\\tb'.expandtabs(4) }}", "{{ 'abc'.casefold() }}", "{{ 'abc'.isupper() }}", "{{ ' '.isspace() }}",
        "{{ 'a%sb' % 1 }}", "{{ '%s and %s' % (1, 2) }}", "{{ '%s' % [1, 2] }}", "{{ '%s' % (1,) }}", "{{ '%d%%' % 50 }}", "{{ '%r' % 'x' }}",
        "{{ '%(x)s' % {'x': 1} }}", "{{ '%5s|%-5s|' % ('a', 'b') }}", "{{ '%.3f' % 2 }}", "{{ '%e' % 12345.678 }}", "{{ '%g' % 0.00001 }}",
        "{{ '%x %o %X' % (255, 8, 255) }}", "{{ '%s %s' % (1,) }}", "{{ '%s' % (1, 2) }}", "{{ '%c' % 65 }}", "{{ '%i' % 3.9 }}",
        "{{ '{}'.format(1) }}", "{{ '{} {}'.format('a', 'b') }}", "{{ '{1}{0}'.format('a', 'b') }}", "{{ '{x}'.format(x=5) }}",
        "{{ '{:>6}'.format('ab') }}|", "{{ '{:<6}|'.format('ab') }}", "{{ '{:^7}'.format('ab') }}|", "{{ '{:*^7}'.format('ab') }}",
        "{{ '{:>6}'.format(none) }}", "{{ '{:>6}'.format(1) }}", "{{ '{:06.2f}'.format(3.14159) }}", "{{ '{:,}'.format(1234567) }}",
        "{{ '{:_}'.format(1234567) }}", "{{ '{:d}'.format(1.5) }}", "{{ '{:d}'.format(42) }}", "{{ '{:x}'.format(255) }}", "{{ '{:#x}'.format(255) }}",
        "{{ '{:b}'.format(5) }}", "{{ '{:o}'.format(8) }}", "{{ '{:e}'.format(1234.5) }}", "{{ '{:.2%}'.format(0.256) }}", "{{ '{:+d}'.format(5) }}",
        "{{ '{: d}'.format(5) }}", "{{ '{:.3}'.format('abcdef') }}", "{{ '{:.3}'.format(3.14159) }}", "{{ '{:g}'.format(1e20) }}",
        "{{ '{!r}'.format('x') }}", "{{ '{!s}'.format([1]) }}", "{{ '{0[0]}'.format([9]) }}", "{{ '{0[a]}'.format({'a': 1}) }}",
        "{{ '{0.real}'.format(3) }}", "{{ '{{}}'.format() }}", "{{ '{}'.format() }}", "{{ '{:s}'.format(1) }}", "{{ '{:f}'.format('x') }}",
        "{{ '{:>{w}}'.format('a', w=4) }}", "{{ '{:=+6}'.format(-3) }}", "{{ '{:06}'.format(-3) }}", "{{ '{:>6}'.format(true) }}",
        "{{ '{}'.format(true) }}", "{{ '{:d}'.format(true) }}", "{{ '{}'.format(1.0) }}", "{{ '{:.0f}'.format(2.5) }}", "{{ '{:n}'.format(1234) }}",
        "{{ '{:c}'.format(97) }}", "{{ '{:}'.format(2) }}", "{{ '{:>6}'.format([1]) }}", "{{ '{:>6}'.format({'a': 1}) }}", "{{ '{0}{1}{0}'.format(1, 2) }}",
        "{{ '{}{1}'.format(1, 2) }}", "{{ '{'.format() }}", "{{ '{:%}'.format(1) }}", "{{ '{:E}'.format(1.5) }}", "{{ '{:G}'.format(1e-10) }}",
        "{{ '{:10.3e}'.format(123.456) }}|", "{{ '{:.2f}'.format(2**70) }}", "{{ '{:,.2f}'.format(1234567.891) }}", "{{ '{:x}'.format(2**70) }}",
        "{{ 'x'.__class__ }}", "{{ ''.__class__.__mro__ }}", "{{ 'x'._private }}|", "{{ [].append }}|",
        "{{ 'abc' ~ 'def' }}", "{{ 'a' 'b' ~ 'c' }}", "{{ 'x' * 0 }}|", "{{ 'x' * -1 }}|", "{{ ['x'] * 0 }}",
    ]


def lists_dicts():
    return [
        "{% set l = [3, 1, 2] %}{% do l.sort() %}{{ l }}", "{% set l = [1] %}{% do l.extend([2, 3]) %}{{ l }}",
        "{% set l = [1, 2, 3] %}{{ l.pop() }}{{ l }}", "{% set l = [1, 2, 3] %}{{ l.pop(0) }}{{ l }}", "{% set l = [1] %}{{ l.insert(0, 0) }}{{ l }}",
        "{% set l = [1, 2, 1] %}{{ l.index(2) }}{{ l.count(1) }}", "{% set l = [1, 2] %}{% do l.remove(1) %}{{ l }}", "{% set l = [1] %}{% do l.remove(5) %}",
        "{% set l = [1, 2] %}{% do l.reverse() %}{{ l }}", "{% set l = [1, 2] %}{{ l.copy() }}", "{% set l = [1, 2] %}{% do l.clear() %}{{ l }}",
        "{% set l = ['b', 'a'] %}{% do l.sort(reverse=true) %}{{ l }}", "{% set l = [] %}{{ l.pop() }}",
        "{% set x = {'a': 1} %}{% do x.update(b=2) %}{{ x }}", "{% set x = {'a': 1} %}{{ x.pop('a') }}{{ x }}", "{% set x = {} %}{{ x.pop('z') }}",
        "{% set x = {} %}{{ x.pop('z', 'dflt') }}", "{% set x = {} %}{{ x.setdefault('k', []) }}{{ x }}", "{% set x = {'a': 1} %}{{ x.copy() }}",
        "{% set x = {1: 'a'} %}{% do x.update({2: 'b'}) %}{{ x }}", "{% set x = {} %}{% do x.update({'10': 1, '2': 2}) %}{{ x }}",
        "{% set x = {'b': 1} %}{% do x.update([('a', 2)]) %}{{ x|list }}", "{{ dict(a=1, b=2) }}", "{{ dict([(1, 'x')]) }}", "{{ dict({'a': 1}, b=2) }}",
        "{{ {'a': 1}.items()|list }}", "{{ {'a': {'b': 2}}.a.b }}", "{{ {'a': {'b': 2}}['a']['b'] }}", "{{ {'items': 1}.items }}|",
        "{{ {'keys': 5}['keys'] }}", "{{ d['a'] }}", "{{ d.a }}", "{{ d['zz'] }}|", "{{ nested.x.y.z }}", "{{ nested['x']['y'] }}",
        "{{ [1, 2, 3][-1] }}", "{{ [1, 2][1.0] }}", "{{ [1, 2]['a'] }}|", "{{ users[0]['name'] }}", "{{ users[0].tags[1] }}",
        "{{ {'a': 1}|dictsort|first }}", "{{ {'x': [1, {'y': (2, 3)}]} }}", "{{ [{'a': none}] }}", "{{ {'a': 1} | length }}",
        "{{ {'a': 1, 'b': 2}.values()|list }}", "{{ {'a': 1, 'b': 2}.values() }}", "{{ {'a': 1}.items() }}", "{{ {}.keys() }}",
        "{% set x = {'a': 1} %}{% for k, v in x.items() %}{{ k }}{{ v }}{% endfor %}", "{{ {'a': 1, 'a': 2} }}",
        "{{ {2: 'b', 1: 'a'} }}", "{{ {2: 'b', 1: 'a'}|dictsort }}", "{{ {2: 'b', 1: 'a'}|list }}", "{{ {'2': 'b', '1': 'a', 'z': 0}|list }}",
        "{% set x = {} %}{% set _ = x.update({'k': 'v'}) %}{{ x }}", "{{ [1, 2, 3]|length }}", "{{ ([1, 2] + [3])[2] }}",
        "{{ {'a': [1, 2]}['a'][0] }}", "{{ (1, 2, 3)[1] }}", "{{ {'a': 1}['a'] + 1 }}", "{{ {(1, 2): 'x'}[(1, 2)] }}",
        "{{ {none: 1}[none] }}", "{{ {1: 2}[1.0] }}", "{{ {true: 'b'} }}", "{{ {1: 'a', true: 'b'} }}", "{{ {0: 'a', false: 'b'} }}",
        "{{ {'a': 1}.get('a', 5) }}", "{{ {'a': 1}.keys() }}", "{{ [d.keys()] }}", "{{ {'a': [1]}.values() }}",
        "{{ [1, 2] == [1, 2] }}", "{{ [[]] }}", "{{ [()] }}", "{{ [(1,)] }}", "{{ ([],) }}", "{{ {'k': ()} }}",
    ]


def whitespace_and_syntax():
    return [
        "a\n{% if true %}\nb\n{% endif %}\nc\n", "a  {%- if true -%}  b  {%- endif -%}  c", "x {{- ' y ' -}} z", "{#- comment -#}  x",
        "a {# c #} b", "{% raw %}{{ x }}{% endraw %}", "{%- raw -%}  {{ x }}  {%- endraw -%}", "line\n", "line\n\n", "\n",
        "  {% if true %}x{% endif %}", "{% if true +%}  x{% endif %}", "{% if true %}\n  x\n{%- endif %}", "{{ 1 }}\n{{ 2 }}",
        "{% if 1 %}a{% elif 2 %}b{% else %}c{% endif %}", "{% if 0 %}a{% elif 2 %}b{% else %}c{% endif %}", "{% if 0 %}a{% elif 0 %}b{% else %}c{% endif %}",
        "{% if %}{% endif %}", "{% if true %}", "{% endif %}", "{% for %}", "{% for x in %}{% endfor %}", "{{ }}", "{{ 1 + }}", "{{ 'unclosed }}",
        "{% nosuchtag %}", "{% set %}", "{% set x = %}", "{{ x y }}", "{{ 1 }", "{% if true %}{% endfor %}", "{% macro %}{% endmacro %}",
        "{% for x in [1] %}{% endif %}", "{{ [1, 2 }}", "{{ (1, 2] }}", "{{ {'a' 1} }}", "{{ 1 if }}", "{{ a.1 }}", "{{ a. }}",
        "{% do %}", "{% with %}", "{% filter %}x{% endfilter %}", "{% call %}{% endcall %}", "{% raw %}x", "{# unclosed", "{{ 'a' | }}",
        "{% block b %}in block{% endblock %}", "{% block b %}x{% endblock b %}", "{% block b %}x{% endblock c %}",
        "{% block a %}A{% endblock %}{% block a %}B{% endblock %}", "{% block b %}{{ self.b() }}{% endblock %}",
        "{% block outer %}[{% block inner %}i{% endblock %}]{% endblock %}", "{% block b scoped %}{{ n }}{% endblock %}",
        "{% for i in range(2) %}{% block b %}{{ i }}{% endblock %}{% endfor %}", "{% for i in range(2) %}{% block c scoped %}{{ i }}{% endblock %}{% endfor %}",
        "{% set n = 5 %}{% block b %}{{ n }}{% endblock %}", "{% block b required %}{% endblock %}", "{{ self.b() }}{% block b %}x{% endblock %}",
        "{% extends 'base.html' %}", "{% include 'x.html' %}", "{% import 'x.html' as x %}", "{% from 'x.html' import y %}",
        "{% autoescape true %}{{ '<b>' }}{% endautoescape %}", "{% autoescape false %}{{ '<b>' }}{% endautoescape %}",
        "{% autoescape true %}{{ '<b>'|safe }}{% endautoescape %}", "{% autoescape true %}{{ html }}{% endautoescape %}",
        "{% autoescape true %}{{ [html] }}{% endautoescape %}", "{% autoescape true %}{% set x = '<i>' %}{{ x ~ '<u>' }}{% endautoescape %}",
        "{% autoescape true %}{{ 1 }}{{ none }}{% endautoescape %}", "{% autoescape true %}{% macro m() %}<m>{% endmacro %}{{ m() }}{% endautoescape %}",
        "{% autoescape true %}{% autoescape false %}{{ '<' }}{% endautoescape %}{{ '<' }}{% endautoescape %}",
        "{% autoescape true %}{{ '<'|e }}{% endautoescape %}", "{% autoescape true %}{{ '<'|forceescape }}{% endautoescape %}",
        "{% autoescape true %}{{ '%s'|format('<') }}{% endautoescape %}", "{% autoescape true %}{{ '<a>'|striptags }}{% endautoescape %}",
        "{% autoescape true %}{% set x %}<y>{% endset %}{{ x }}{% endautoescape %}", "{% autoescape true %}{{ '<'|tojson }}{% endautoescape %}",
        "{% autoescape true %}{{ '<' ~ ('<'|safe) }}{% endautoescape %}", "{% autoescape true %}{{ 'x'|safe is escaped }}{% endautoescape %}",
        "{{ ('<'|e) + '<' }}", "{{ ('<'|safe) + '<' }}", "{{ '<' + ('<'|safe) }}", "{{ ('<'|e) ~ '<' }}", "{{ ('<b>'|safe) * 2 }}",
        "{{ ('<b>'|safe)|length }}", "{{ ('%s'|safe) % '<' }}", "{{ ('<b>'|safe).upper() }}", "{{ ('{}'|safe).format('<') }}",
        "{{ ['<'|e] }}", "{{ ('<'|e)|e }}", "{{ ('<'|e)|string }}", "{{ '<'|e|upper }}", "{{ ('a'|safe) == 'a' }}", "{{ 'a&b'|e|replace('&', 'x') }}",
        "{{ ('<i>'|safe).join(['<', '>']) }}", "{{ ('&lt;'|safe).unescape() }}", "{{ ('<b>x</b>'|safe).striptags() }}", "{{ ('x'|e).__html__() }}",
        "{% filter upper %}abc{{ 'd' }}{% endfilter %}", "{% filter replace('a', 'b')|upper %}aaa{% endfilter %}", "{% filter nosuch %}x{% endfilter %}",
        "{% set x %}a{% endset %}{{ x is string }}", "{% set x | replace('a', 'b') %}aaa{% endset %}{{ x }}",
        "{% do [1].append(2) %}ok", "{{ [1, 2, 3]|selectattr('real')|list }}", "{{ range(3)|sum }}",
    ]


def misc():
    return [
        "{{ cycler('a', 'b').next() }}", "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}",
        "{% set c = cycler(1, 2) %}{{ c.next() }}{% do c.reset() %}{{ c.next() }}", "{% set j = joiner('|') %}{% for i in range(3) %}{{ j() }}{{ i }}{% endfor %}",
        "{% set j = joiner() %}{{ j() }}{{ j() }}", "{{ lipsum is defined }}", "{{ namespace is callable }}", "{{ dict() }}",
        "{{ range(3)|list|tojson }}", "{{ 1.5|string }}", "{{ [1.5]|string }}", "{{ (1, 'a')|string }}", "{{ none|string|length }}",
        "{{ true ~ false }}", "{{ [true, false, none] }}", "{{ 'a' if true else 'b' }}", "{{ 'a' if none else 'b' if 0 else 'c' }}",
        "{{ (1, 2)|join('-') }}", "{{ users|length > 2 and users[0].name == 'ann' }}", "{{ s.split(' ')|map('lower')|join('_') }}",
        "{{ s[0] ~ s[-1] }}", "{{ s|length }}", "{{ n * f }}", "{{ items|sort }}", "{{ items|max }}", "{{ n is divisibleby 3 }}",
        "{% set x = 'a' %}{% set y = x ~ 'b' %}{{ y }}", "{{ {'a': 1}.update({'b': 2}) }}", "{{ [1].append(2) }}", "{% do none %}ok",
        "{% set l = [] %}{% for i in range(3) %}{% set _ = l.append(i * i) %}{% endfor %}{{ l|join(',') }}",
        "{{ '-'.join(['a', 'b']) }}", "{{ 'a' ~ ('b' ~ 'c') }}", "{{ 42|string|length }}", "{{ 3|float }}", "{{ 3.0|int }}",
        "{{ 1.5e-7 }}", "{{ 1e22 }}", "{{ 123456789012345678 * 1.0 }}", "{{ 2.5e-5 * 2 }}", "{{ 1/7 }}", "{{ 10/4 }}",
        "{{ 0.1 ** 20 }}", "{{ (0.1 + 0.7) * 10 }}", "{{ 5e-324 }}", "{{ 1.7976931348623157e308 }}", "{{ 1e309 }}", "{{ -1e309 }}",
        "{{ none is none and missing is undefined }}", "{{ [1, 2, 3]|map('string')|join }}", "{{ 'x'|center(4) }}|",
        "{{ 'ok' if 'a' in ['a'] }}", "{{ caller }}|", "{{ varargs }}|", "{{ kwargs }}|", "{{ 'abc'|first|upper }}",
        "{% if users %}{{ users|length }}{% endif %}", "{{ users[1:]|map(attribute='name')|list }}", "{{ html }}", "{{ html|e }}",
        "{{ html|striptags }}", "{{ html|length }}", "{{ big|string }}", "{{ big - 1 }}", "{{ big == 9007199254740992 }}",
        "{{ (big // 3) }}", "{{ big|int }}", "{{ big / 3 }}", "{{ big % 10 }}", "{{ [big] }}", "{{ {'v': big} }}", "{{ big|tojson }}",
        "{{ '%d' % big }}", "{{ '{:,}'.format(big) }}", "{{ big > 2**53 }}", "{{ big|abs }}", "{{ -big }}", "{{ big ** 2 }}",
        "{{ 'abc'|replace('', '-') }}", "{{ 'a b'|replace(' ', '') }}", "{{ ''|default('e') }}|", "{{ 0|default(5) }}",
    ]


def hand_written():
    return (literals() + arithmetic() + comparisons() + undefined() + scoping() + loops() + macros() + filters() + tests()
            + strings() + lists_dicts() + whitespace_and_syntax() + misc())
