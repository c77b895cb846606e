"""A wider random template generator than randomgen.py, for held-out runs: more filters with odd
arguments, str/list/dict methods, %-formatting and str.format, tests with arguments, slicing,
whitespace control, macros with call blocks, namespaces and loop variables. Deterministic for a
given Random."""

from randomgen import ATOMS as BASE_ATOMS

ATOMS = BASE_ATOMS + ["'a,b'", "'%s-%d'", "'{}:{:>3}'", "'  pad  '", "'ABC def'", "-0.0", "3.0", "10", "2 ** 40",
                      "html", "nested", "users", "users[1]", "d.keys()", "d.values()", "d.items()", "'é'", "'\\t'",
                      "(1, 2, 3)", "[[1, 2], [3]]", "[3, 1, 2]", "['x', 'Y', 'x']", "[none, 0, '']", "{'a': [1, 2]}",
                      "range(2, 9, 3)", "1e20", "0.1", "-7", "'12'", "'3.5'", "'x y z'", "dict(a=1)", "lipsum is defined"]
FILTERS = ["upper", "lower", "length", "string", "list", "first", "last", "reverse|list", "sort", "sort(reverse=true)",
           "sort(attribute='age')", "int", "int(7)", "int(base=16)", "float", "float(1.5)", "abs", "round", "round(1)",
           "round(1, 'floor')", "round(method='ceil')", "trim", "trim('x ')", "title", "capitalize", "join(',')",
           "join('-', attribute='name')", "default('dflt')", "default(0, true)", "d", "tojson", "tojson(indent=2)", "e",
           "forceescape", "safe", "unique|list", "unique(case_sensitive=true)|list", "sum", "sum(start=10)",
           "sum(attribute='age')", "min", "max", "max(attribute='age')", "min(case_sensitive=true)", "replace('a', 'A')",
           "replace('a', 'A', 1)", "center(6)", "center(7, '*')", "batch(2)|list", "batch(2, 0)|list", "slice(2)|list",
           "slice(3, 'f')|list", "map('string')|list", "map('upper')|list", "map(attribute='name')|list",
           "map(attribute='name', default='?')|list", "select|list", "select('odd')|list", "reject('none')|list",
           "selectattr('age')|list", "rejectattr('name', 'eq', 'ann')|list", "selectattr('age', 'gt', 26)|list",
           "dictsort", "dictsort(reverse=true)", "dictsort(by='value')", "dictsort(false, 'value')", "items|list",
           "wordcount", "pprint", "truncate(5)", "truncate(5, true, '', 0)", "truncate(3, false, '~')", "indent(2)",
           "indent(2, true)", "indent(first=true, blank=true)", "count", "striptags", "urlencode", "filesizeformat",
           "filesizeformat(true)", "wordwrap(5)", "wordwrap(3, false)", "urlize", "xmlattr", "format(1)", "string|length",
           "list|length", "bool", "groupby('age')|list", "groupby('age')|map(attribute='grouper')|list", "attr('real')",
           "attr('name')", "random is defined", "as_text", "as_number", "as_bool", "as_native", "sort(case_sensitive=true)",
           "unique(attribute='age')|list", "join", "first|string", "length|string", "title|trim", "escape|length"]
TESTS = ["defined", "undefined", "none", "number", "string", "sequence", "mapping", "iterable", "odd", "even", "integer",
         "float", "boolean", "callable", "divisibleby 2", "divisibleby 3", "in [1, 'a']", "in 'abc'", "eq 1", "ne 'a'",
         "lt 3", "le 2", "gt 0", "ge 1.5", "lower", "upper", "sameas none", "sameas true", "true", "false", "escaped",
         "filter", "test", "greaterthan 1", "lessthan 1", "equalto 'a'", "==(2)", "<(5)"]
METHODS = {
    "'Bc'": ["upper()", "lower()", "split('c')", "startswith('B')", "replace('B', 'x')", "strip()", "title()",
             "center(5, '.')", "ljust(4)", "rjust(4, '0')", "zfill(4)", "count('c')", "find('c')", "rfind('x')",
             "isalpha()", "isdigit()", "islower()", "swapcase()", "partition('B')", "rpartition('c')", "endswith('c')",
             "casefold()", "capitalize()", "format()", "join(['1', '2'])", "index('c')", "lstrip('B')", "rstrip('c')",
             "splitlines()", "encode", "isidentifier()", "istitle()", "expandtabs()", "removeprefix('B')"],
    "'a,b'": ["split(',')", "split(',', 1)", "rsplit(',', 1)", "split()", "upper()", "partition(',')", "replace(',', '')"],
    "'%s-%d'": ["format(1)", "upper()"],
    "'{}:{:>3}'": ["format('a', 1)", "format('a', 'b')", "format(1.5, true)", "format(none, 2)", "format()",
                   "format('x', [1])", "format(n, f)"],
    "[1, 2]": ["index(2)", "count(1)", "copy()", "index(5)", "__len__()", "pop()", "append(3)"],
    "[3, 1, 2]": ["index(1)", "count(3)", "copy()"],
    "{'k': 1}": ["get('k')", "get('q', 0)", "get('q')", "keys()", "items()", "values()", "copy()", "pop('k')",
                 "pop('z', 5)", "setdefault('z', 2)", "update(k=2)", "keys()|list", "items()|list", "__len__()"],
    "d": ["keys()", "values()", "items()", "get('a')", "get('zz', 'no')", "copy()"],
    "s": ["split()", "lower()", "upper()", "split(' ', 1)", "replace('l', 'L', 2)", "startswith(('H', 'x'))",
          "find('o')", "count('l')", "title()", "swapcase()"],
    "items": ["index(2)", "count(1)", "copy()", "__getitem__(0)"],
    "f": ["is_integer()", "real", "imag", "__round__()", "hex()", "as_integer_ratio()", "conjugate()"],
    "n": ["bit_length()", "real", "denominator", "numerator", "to_bytes", "conjugate()"],
    "users[0]": ["name", "get('age')", "keys()|list", "items()|list|length"],
}
FORMATS = ["'%s' % {x}", "'%d' % {x}", "'%5.1f' % {x}", "'%r' % ({x},)", "'%s|%s' % ({x}, {y})", "'%(a)s' % {{'a': {x}}}",
           "'{{}}'.format({x})", "'{{!r}}'.format({x})", "'{{:>5}}'.format({x})", "'{{:.2f}}'.format({x})",
           "'{{:,}}'.format({x})", "'{{0}}{{0}}'.format({x})", "'%x' % {x}", "'%-4s|' % {x}", "'%05d' % {x}",
           "'%.2e' % {x}", "'%c' % {x}", "'%%%s' % {x}", "{x}|format({y})", "'%s'|format({x})"]
SLICES = ["[0]", "[-1]", "[1:]", "[:2]", "[::-1]", "[::2]", "[1:-1]", "[5]", "['k']", ".k", ".name", "[0:1]"]


def expr(rng, depth=0):
    r = rng.random()
    if depth > 2 or r < 0.25:
        atom = rng.choice(ATOMS)
        if atom in METHODS and rng.random() < 0.5:
            return "%s.%s" % (atom, rng.choice(METHODS[atom]))
        if rng.random() < 0.1:
            return "%s%s" % (atom, rng.choice(SLICES))
        return atom
    if r < 0.45:
        ops = ["+", "-", "*", "/", "//", "%", "~", "**", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
        return "(%s %s %s)" % (expr(rng, depth + 1), rng.choice(ops), expr(rng, depth + 1))
    if r < 0.65:
        return "(%s|%s)" % (expr(rng, depth + 1), rng.choice(FILTERS))
    if r < 0.75:
        neg = "not " if rng.random() < 0.3 else ""
        return "(%s is %s%s)" % (expr(rng, depth + 1), neg, rng.choice(TESTS))
    if r < 0.82:
        return "(%s)" % rng.choice(FORMATS).format(x=expr(rng, depth + 1), y=expr(rng, depth + 1))
    if r < 0.87:
        return "(%s if %s else %s)" % (expr(rng, depth + 1), expr(rng, depth + 1), expr(rng, depth + 1))
    if r < 0.91:
        return "{%s: %s, 'z': %s}" % (expr(rng, depth + 1), expr(rng, depth + 1), expr(rng, depth + 1))
    if r < 0.95:
        return "(not %s)" % expr(rng, depth + 1)
    return "[%s, %s]" % (expr(rng, depth + 1), expr(rng, depth + 1))


def ws(rng):
    return rng.choice(["", "", "", "-"])


def statement(rng, depth=0):
    r = rng.random()
    a, b = ws(rng), ws(rng)
    if depth > 1 or r < 0.3:
        return "{{%s %s %s}}" % (a, expr(rng), b)
    if r < 0.42:
        var = rng.choice(["x", "y", "n", "s", "items"])
        return "{%%%s set %s = %s %s%%}%s{{ %s }}" % (a, var, expr(rng), b, statement(rng, depth + 1), var)
    if r < 0.52:
        return "{%% if %s %%}%s{%% elif %s %%}%s{%% else %%}%s{%% endif %%}" % (
            expr(rng), statement(rng, depth + 1), expr(rng), statement(rng, depth + 1), statement(rng, depth + 1))
    if r < 0.64:
        it = rng.choice(["range(3)", "items", "'ab'", "d", "[1, none, 'z']", "users|map(attribute='name')", "empty",
                         "d.items()", "users", "users|groupby('age')", "[[1, 2], [3, 4]]", "range(4)|batch(3)"])
        tgt = rng.choice(["x", "x", "x", "k, v"]) if "items" in it or "groupby" in it or "[[" in it or "batch" in it else "x"
        cond = rng.choice(["", "", " if loop is defined", " if x"])
        ctl = rng.choice(["", "{% if loop.index > 1 %}{% break %}{% endif %}", "{% if loop.first %}{% continue %}{% endif %}",
                          "{{ loop.cycle('o', 'e') }}", "{{ loop.revindex }}{{ loop.last }}", "{{ loop.length }}",
                          "{{ loop.previtem }}|{{ loop.nextitem }}", "{% if loop.changed(x) %}c{% endif %}"])
        els = rng.choice(["", "{% else %}E"])
        show = "{{ k }}:{{ v }}" if tgt == "k, v" else "{{ x }}"
        return "{%% for %s in %s%s %%}%s{{ loop.index }}%s%s%s{%% endfor %%}" % (
            tgt, it, cond, ctl, show, statement(rng, depth + 1), els)
    if r < 0.72:
        return ("{%% macro m(a, b=%s) %%}{{ a }}/{{ b }}/{{ varargs }}{{ kwargs }}%s{%% endmacro %%}{{ m(%s) }}{{ m(%s, b=%s) }}"
                % (expr(rng), statement(rng, depth + 1), expr(rng), expr(rng), expr(rng)))
    if r < 0.77:
        return ("{%% macro w(x) %%}[{{ caller(x) }}]{%% endmacro %%}{%% call(v) w(%s) %%}{{ v }}%s{%% endcall %%}"
                % (expr(rng), statement(rng, depth + 1)))
    if r < 0.82:
        return "{%% set blk %%}%s{%% endset %%}[{{ blk }}]{{ x is defined }}" % statement(rng, depth + 1)
    if r < 0.86:
        return ("{%% set ns = namespace(v=%s) %%}{%% for i in range(2) %%}{%% set ns.v = %s %%}{%% endfor %%}{{ ns.v }}"
                % (expr(rng), expr(rng)))
    if r < 0.9:
        return "{%% with q = %s %%}{{ q }}%s{%% endwith %%}" % (expr(rng), statement(rng, depth + 1))
    if r < 0.94:
        return "{%% do %s %%}" % rng.choice(["items.append(%s)" % expr(rng), "d.update({'n': %s})" % expr(rng),
                                              "items.pop()", "d.pop('a')", "items.sort()", "items.reverse()",
                                              "items.insert(0, %s)" % expr(rng), "items.extend(%s)" % expr(rng)])
    return "{%% filter %s %%}%s{%% endfilter %%}" % (
        rng.choice(["upper", "trim", "title", "replace('1', 'one')", "center(9)", "indent(1)", "truncate(6)", "e"]),
        statement(rng, depth + 1))


def random_templates(rng, count):
    out = []
    for _ in range(count):
        parts = [statement(rng) for _ in range(rng.randint(1, 3))]
        out.append(rng.choice(["", " ", "\n", "\n  "]).join(parts))
    return out
