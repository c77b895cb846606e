#!/usr/bin/env python3
"""The reference for `npm run bench:compile`: dbt's core loop, parse + compile, without dbt.

Python's Jinja2 and PyYAML do what `dbt compile` does for a project of models, macros and
generic tests, with none of dbt's overhead (no adapter, no connection, no partial parsing, no
events or logging, no graph library):

  parse    read dbt_project.yml and profiles.yml (PyYAML); read every macro file and every
           model's .sql and .yml; render each model once in parse mode, as dbt does, to capture
           its ref()/source() calls and config(); build the generic tests declared in the .yml
           files (unique, not_null, relationships, accepted_values) as test nodes; write
           target/manifest.json.
  compile  render every model and test with the real context (ref/source resolve to relation
           names) and write target/compiled/<project>/<path>.sql, then target/run_results.json.

dbt features the stubs cover (what the generated bench project and the e-commerce template
need): ref('m') and ref('pkg', 'm'), source('s', 't') (schema from the sources: entries),
config(...) (recorded, merged over the dbt_project.yml folder configs: +materialized, +tags,
+schema), var('name', default) (dbt_project.yml vars; a missing var without a default is an
error, as in dbt), is_incremental() (false: a first compile), this, target (name, schema, type),
adapter.dispatch('m', 'pkg') (duckdb__m, then default__m), return(), log(), exceptions.
raise_compiler_error, the do and loopcontrols extensions dbt enables, macros from every file
under macro-paths (made a module once per phase, with the same context models get, as dbt's
macro namespace), and dbt's own generic test macros (the same SQL as dbt-core's). Not covered:
snapshots, seeds, analyses, singular tests, packages, custom generic tests in the project,
ephemeral models, run_query/statement blocks (no database here).

Jinja2 compiles each template to Python once (parse) and the compile phase reuses it; PyYAML uses
libyaml's C loader when it has it, as dbt does.

Usage: compile-reference.py <project dir> <target dir>
Prints one JSON line: parseMs, compileMs, nodes, files (compiled files written), cpuMs, maxRssMB.
"""

import hashlib
import json
import os
import re
import resource
import sys
import time

import jinja2
import yaml

# dbt-core's generic tests (dbt/include/global_project/macros/generic_test_sql), dispatched.
GENERIC_TESTS = """
{% macro test_unique(model, column_name) %}
  {{ return(adapter.dispatch('test_unique', 'dbt')(model, column_name)) }}
{% endmacro %}
{% macro default__test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}
{% macro test_not_null(model, column_name) %}
  {{ return(adapter.dispatch('test_not_null', 'dbt')(model, column_name)) }}
{% endmacro %}
{% macro default__test_not_null(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
{% endmacro %}
{% macro test_accepted_values(model, column_name, values, quote=True) %}
  {{ return(adapter.dispatch('test_accepted_values', 'dbt')(model, column_name, values, quote)) }}
{% endmacro %}
{% macro default__test_accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {% for value in values -%}
        {% if quote -%}
        '{{ value }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)
{% endmacro %}
{% macro test_relationships(model, column_name, to, field) %}
  {{ return(adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field)) }}
{% endmacro %}
{% macro default__test_relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null
{% endmacro %}
"""


def database_of(path):
    """The catalog name dbt-duckdb gives a DuckDB path (relations print it first)."""
    if path == ":memory:":
        return "memory"
    return os.path.splitext(os.path.basename(path))[0]


class MacroReturn(Exception):
    """dbt's return(): raised inside a macro, caught by the macro's caller wrapper."""

    def __init__(self, value):
        super().__init__()
        self.value = value


def dbt_return(value):
    raise MacroReturn(value)


class CompilerError(Exception):
    pass


def raise_compiler_error(message):
    raise CompilerError(message)


# libyaml's loader when PyYAML was built with it, as dbt does (dbt.clients.yaml_helper).
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text):
    return yaml.load(text, Loader=YamlLoader)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def quote(name):
    return '"' + name + '"'


class This:
    """`this`: the relation of the node being rendered, also inside macros (their module copied
    the globals when it was made, so the value must be looked up when it is printed)."""

    def __init__(self, renderer):
        self.renderer = renderer

    def __str__(self):
        return self.renderer.this()


class Project:
    """The parsed project: nodes (models and tests) in file order, and the pieces of context."""

    def __init__(self, root):
        self.root = root
        self.config = load_yaml(read(os.path.join(root, "dbt_project.yml"))) or {}
        self.name = self.config["name"]
        profiles = load_yaml(read(os.path.join(root, "profiles.yml"))) or {}
        profile = profiles[self.config.get("profile", self.name)]
        output = profile["outputs"][profile.get("target", "dev")]
        self.target = {
            "name": profile.get("target", "dev"),
            "type": output.get("type", "duckdb"),
            "schema": output.get("schema", "main"),
            # dbt-duckdb's database: the file's stem, "memory" for an in-memory database.
            "database": database_of(output.get("path", ":memory:")),
        }
        self.vars = self.config.get("vars") or {}
        self.nodes = {}
        self.sources = {}

    def folder_config(self, parts):
        """dbt_project.yml's `models:` configs along the folders of a model path (+key entries)."""
        config = {"materialized": "view", "tags": []}
        level = (self.config.get("models") or {}).get(self.name) or {}
        for part in [None] + parts:
            if part is not None:
                level = level.get(part) if isinstance(level, dict) else None
                if not isinstance(level, dict):
                    break
            for key, value in level.items():
                if key.startswith("+"):
                    if key == "+tags":
                        config["tags"] = config["tags"] + (
                            value if isinstance(value, list) else [value]
                        )
                    else:
                        config[key[1:]] = value
        return config


class Renderer:
    """One Jinja2 environment and the dbt context; `node` is the node being rendered."""

    def __init__(self, project, parse_mode):
        self.project = project
        self.parse_mode = parse_mode
        self.node = None
        self.env = jinja2.Environment(
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        adapter = type("Adapter", (), {"dispatch": staticmethod(self.dispatch)})()
        exceptions = type(
            "Exceptions", (), {"raise_compiler_error": staticmethod(raise_compiler_error)}
        )()
        self.env.globals.update(
            ref=self.ref,
            source=self.source,
            config=self.config,
            var=self.var,
            is_incremental=lambda: False,
            adapter=adapter,
            exceptions=exceptions,
            target=project.target,
            log=lambda msg, info=False: "",
            execute=not parse_mode,
            this=This(self),
            flags={},
            env_var=self.env_var,
        )
        self.env.globals["return"] = dbt_return
        self.macros = {}

    def load_macros(self, sources):
        """Every macro file's definitions in one namespace (dbt's flat macro namespace): the files
        are made one module, so a macro can call one defined in another file, and each macro is
        callable by name from any model."""
        module = self.env.from_string("\n".join(sources)).make_module()
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, jinja2.runtime.Macro):
                self.macros[name] = self.wrap(value)
        self.env.globals.update(self.macros)

    @staticmethod
    def wrap(macro):
        def call(*args, **kwargs):
            try:
                return macro(*args, **kwargs)
            except MacroReturn as r:
                return r.value

        return call

    def dispatch(self, name, macro_namespace=None):
        for candidate in (f"{self.project.target['type']}__{name}", f"default__{name}"):
            if candidate in self.macros:
                return self.macros[candidate]
        raise CompilerError(f"no implementation of macro {name} for {self.project.target['type']}")

    def this(self):
        return self.relation(self.node["name"]) if self.node else ""

    def relation(self, name):
        target = self.project.target
        return quote(target["database"]) + "." + quote(target["schema"]) + "." + quote(name)

    def ref(self, *args, **kwargs):
        name = args[-1]
        if self.parse_mode:
            self.node["refs"].append(list(args))
            return self.relation(name)
        uid = f"model.{self.project.name}.{name}"
        if uid not in self.project.nodes:
            raise CompilerError(f"{self.node['unique_id']} depends on {name}, which was not found")
        return self.project.nodes[uid]["relation_name"]

    def source(self, source_name, table_name):
        if self.parse_mode:
            self.node["sources"].append([source_name, table_name])
        schema = self.project.sources.get(source_name, source_name)
        return quote(self.project.target["database"]) + "." + quote(schema) + "." + quote(table_name)

    def config(self, *args, **kwargs):
        if self.parse_mode and self.node is not None:
            for key, value in kwargs.items():
                if key == "tags":
                    self.node["config"]["tags"] = self.node["config"]["tags"] + (
                        value if isinstance(value, list) else [value]
                    )
                else:
                    self.node["config"][key] = value
        return ""

    def var(self, name, default=jinja2.Undefined):
        if name in self.project.vars:
            return self.project.vars[name]
        if default is not jinja2.Undefined:
            return default
        raise CompilerError(f"Required var '{name}' not found in config")

    @staticmethod
    def env_var(name, default=None):
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise CompilerError(f"Env var required but not provided: '{name}'")
        return default

    def render(self, node, template):
        self.node = node
        return template.render()


def test_name(test, model, kwargs):
    """dbt's synthesize_generic_test_names: <test>_<model>_<args>, hashed from 64 characters."""
    flat = []
    for key in sorted(kwargs):
        value = kwargs[key]
        parts = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        flat.extend(str(p) for p in parts)
    unique = "__".join(re.sub(r"[^0-9a-zA-Z_]+", "_", a) for a in flat)
    identifier = f"{test}_{model}"
    full = f"{identifier}_{unique}"
    if len(full) >= 64:
        return f"{identifier[:30]}_{hashlib.md5(full.encode()).hexdigest()}"
    return full


def test_call(test, model, column, kwargs):
    """A generic test node's raw code: the test macro called with its arguments (refs as Jinja)."""
    args = [f"model=ref('{model}')", f"column_name={column!r}"]
    for key, value in kwargs.items():
        if isinstance(value, str) and re.match(r"^\s*(ref|source)\(", value):
            args.append(f"{key}={value}")
        else:
            args.append(f"{key}={json.dumps(value)}")
    return "{{ test_" + test + "(" + ", ".join(args) + ") }}"


def parse(project):
    root = project.root
    renderer = Renderer(project, parse_mode=True)
    macro_sources = [GENERIC_TESTS]
    for macro_dir in project.config.get("macro-paths", ["macros"]):
        for dirpath, _, files in sorted(os.walk(os.path.join(root, macro_dir))):
            macro_sources += [read(os.path.join(dirpath, f)) for f in sorted(files) if f.endswith(".sql")]
    renderer.load_macros(macro_sources)

    properties = []
    templates = {}
    for model_dir in project.config.get("model-paths", ["models"]):
        base = os.path.join(root, model_dir)
        for dirpath, _, files in sorted(os.walk(base)):
            rel_dir = os.path.relpath(dirpath, base)
            parts = [] if rel_dir == "." else rel_dir.split(os.sep)
            for f in sorted(files):
                path = os.path.join(dirpath, f)
                rel = os.path.join(*parts, f) if parts else f
                if f.endswith(".yml") or f.endswith(".yaml"):
                    properties.append((rel, os.path.join(model_dir, rel), load_yaml(read(path)) or {}))
                elif f.endswith(".sql"):
                    name = f[:-4]
                    raw = read(path)
                    node = {
                        "unique_id": f"model.{project.name}.{name}",
                        "resource_type": "model",
                        "name": name,
                        "path": rel,
                        "original_file_path": os.path.join(model_dir, rel),
                        "fqn": [project.name, *parts, name],
                        "raw_code": raw,
                        "checksum": {"name": "sha256", "checksum": hashlib.sha256(raw.encode()).hexdigest()},
                        "config": project.folder_config(parts),
                        "refs": [],
                        "sources": [],
                        "relation_name": renderer.relation(name),
                        "description": "",
                        "columns": {},
                    }
                    project.nodes[node["unique_id"]] = node
                    templates[node["unique_id"]] = renderer.env.from_string(raw)

    for _, _, doc in properties:
        for source in doc.get("sources") or []:
            project.sources[source["name"]] = source.get("schema", source["name"])
    for uid, template in templates.items():
        renderer.render(project.nodes[uid], template)

    for rel, original, doc in properties:
        for entry in doc.get("models") or []:
            model = project.nodes.get(f"model.{project.name}.{entry['name']}")
            if model is None:
                continue
            model["description"] = entry.get("description", "")
            for column in entry.get("columns") or []:
                model["columns"][column["name"]] = {
                    "name": column["name"],
                    "description": column.get("description", ""),
                }
                for declared in column.get("tests") or column.get("data_tests") or []:
                    test, kwargs = (declared, {}) if isinstance(declared, str) else next(iter(declared.items()))
                    kwargs = dict(kwargs or {})
                    name = test_name(test, entry["name"], {"column_name": column["name"], **kwargs})
                    raw = test_call(test, entry["name"], column["name"], kwargs)
                    node = {
                        "unique_id": f"test.{project.name}.{name}",
                        "resource_type": "test",
                        "name": name,
                        "path": os.path.join(rel, name + ".sql"),
                        "original_file_path": original,
                        "fqn": [project.name, *rel.split(os.sep)[:-1], name],
                        "raw_code": raw,
                        "config": {"severity": "ERROR", "tags": []},
                        "refs": [],
                        "sources": [],
                        "attached_node": model["unique_id"],
                        "column_name": column["name"],
                    }
                    project.nodes[node["unique_id"]] = node
                    templates[node["unique_id"]] = renderer.env.from_string(raw)
                    renderer.render(node, templates[node["unique_id"]])

    for node in project.nodes.values():
        node["depends_on"] = {
            "nodes": [f"model.{project.name}.{r[-1]}" for r in node["refs"]],
        }
    os.makedirs(project.target_dir, exist_ok=True)
    with open(os.path.join(project.target_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(
            {"metadata": {"project_name": project.name, "adapter_type": project.target["type"]},
             "nodes": project.nodes, "sources": project.sources},
            f,
        )
    return templates, macro_sources


def compile_all(project, templates, macro_sources):
    renderer = Renderer(project, parse_mode=False)
    renderer.load_macros(macro_sources)
    out = os.path.join(project.target_dir, "compiled", project.name)
    made = set()
    results = []
    for uid, node in project.nodes.items():
        started = time.time()
        sql = renderer.render(node, templates[uid])
        # Models at their file's path, tests under their properties file, as dbt writes them.
        if node["resource_type"] == "model":
            path = os.path.join(out, node["original_file_path"])
        else:
            path = os.path.join(out, node["original_file_path"], node["name"] + ".sql")
        directory = os.path.dirname(path)
        if directory not in made:
            os.makedirs(directory, exist_ok=True)
            made.add(directory)
        with open(path, "w", encoding="utf-8") as f:
            f.write(sql)
        results.append({
            "unique_id": uid,
            "status": "success",
            "timing": [{"name": "compile", "started_at": started, "completed_at": time.time()}],
            "compiled_path": os.path.relpath(path, project.target_dir),
        })
    with open(os.path.join(project.target_dir, "run_results.json"), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"project_name": project.name}, "results": results}, f)
    return len(results)


def main():
    root, target_dir = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    project = Project(root)
    project.target_dir = target_dir
    templates, macro_sources = parse(project)
    t1 = time.perf_counter()
    files = compile_all(project, templates, macro_sources)
    t2 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "parseMs": (t1 - t0) * 1000,
        "compileMs": (t2 - t1) * 1000,
        "nodes": len(project.nodes),
        "files": files,
        "cpuMs": (usage.ru_utime + usage.ru_stime) * 1000,
        "maxRssMB": round(usage.ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
