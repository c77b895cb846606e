"""Seeded random templates: small expressions and statements combined at random, so the corpus
also covers combinations nobody thought to write down. Deterministic for a given Random."""

ATOMS = ["0", "1", "2", "-3", "7", "1.5", "0.0", "-2.5", "'a'", "'Bc'", "''", "' x '", "'1'", "none", "true", "false",
         "[]", "[1, 2]", "['b', 'a']", "(1, 'x')", "{}", "{'k': 1}", "{1: 'one', 'z': 0}", "n", "s", "items", "d", "missing",
         "users[0]", "users[0].name", "f", "range(3)", "big", "empty"]
BINOPS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]
FILTERS = ["upper", "lower", "length", "string", "list", "first", "last", "reverse", "sort", "int", "float", "abs", "round",
           "trim", "title", "capitalize", "join(',')", "default('dflt')", "tojson", "e", "unique|list", "sum", "min", "max",
           "replace('a', 'A')", "center(6)", "batch(2)|list", "map('string')|list", "select|list", "dictsort", "items|list",
           "wordcount", "pprint", "truncate(5, true, '', 0)", "indent(2)", "count", "striptags", "urlencode"]
TESTS = ["defined", "undefined", "none", "number", "string", "sequence", "mapping", "iterable", "odd", "even", "integer",
         "float", "boolean", "callable", "divisibleby 2", "in [1, 'a']", "eq 1", "lower", "upper", "sameas none"]
METHODS = {"'Bc'": ["upper()", "lower()", "split('c')", "startswith('B')", "replace('B', 'x')", "strip()", "title()"],
           "[1, 2]": ["index(2)", "count(1)", "copy()"], "{'k': 1}": ["get('k')", "get('q', 0)", "keys()", "items()", "values()"]}


def expr(rng, depth=0):
    r = rng.random()
    if depth > 2 or r < 0.3:
        atom = rng.choice(ATOMS)
        if atom in METHODS and rng.random() < 0.4:
            return "%s.%s" % (atom, rng.choice(METHODS[atom]))
        return atom
    if r < 0.55:
        return "(%s %s %s)" % (expr(rng, depth + 1), rng.choice(BINOPS), expr(rng, depth + 1))
    if r < 0.75:
        return "(%s|%s)" % (expr(rng, depth + 1), rng.choice(FILTERS))
    if r < 0.85:
        neg = "not " if rng.random() < 0.3 else ""
        return "(%s is %s%s)" % (expr(rng, depth + 1), neg, rng.choice(TESTS))
    if r < 0.92:
        return "(%s if %s else %s)" % (expr(rng, depth + 1), expr(rng, depth + 1), expr(rng, depth + 1))
    return "[%s, %s]" % (expr(rng, depth + 1), expr(rng, depth + 1))


def statement(rng, depth=0):
    r = rng.random()
    if depth > 1 or r < 0.35:
        return "{{ %s }}" % expr(rng)
    if r < 0.5:
        var = rng.choice(["x", "y", "n"])
        return "{%% set %s = %s %%}%s{{ %s }}" % (var, expr(rng), statement(rng, depth + 1), var)
    if r < 0.62:
        return "{%% if %s %%}%s{%% else %%}%s{%% endif %%}" % (expr(rng), statement(rng, depth + 1), statement(rng, depth + 1))
    if r < 0.75:
        it = rng.choice(["range(3)", "items", "'ab'", "d", "[1, none, 'z']", "users|map(attribute='name')", "empty"])
        ctl = rng.choice(["", "", "{% if loop.index > 1 %}{% break %}{% endif %}", "{% if loop.first %}{% continue %}{% endif %}"])
        els = rng.choice(["", "{% else %}E"])
        return "{%% for x in %s %%}%s{{ loop.index }}{{ x }}%s%s{%% endfor %%}" % (it, ctl, statement(rng, depth + 1), els)
    if r < 0.85:
        return ("{%% macro m(a, b=%s) %%}{{ a }}/{{ b }}/%s{%% endmacro %%}{{ m(%s) }}{{ m(%s, b=%s) }}"
                % (expr(rng), statement(rng, depth + 1), expr(rng), expr(rng), expr(rng)))
    if r < 0.92:
        return "{%% set blk %%}%s{%% endset %%}[{{ blk }}]{{ x is defined }}" % statement(rng, depth + 1)
    return "{%% filter %s %%}%s{%% endfilter %%}" % (rng.choice(["upper", "trim", "title", "replace('1', 'one')"]), statement(rng, depth + 1))


def random_templates(rng, count):
    out = []
    for _ in range(count):
        parts = [statement(rng) for _ in range(rng.randint(1, 3))]
        out.append(rng.choice(["", " ", "\n"]).join(parts))
    return out
