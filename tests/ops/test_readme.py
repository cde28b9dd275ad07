"""The README against the code: operations and their signatures against schema.graphql, every
GraphQL example valid, every command line accepted, every error code and setting documented."""

from __future__ import annotations

import re
import shlex

import pytest
from graphql import GraphQLField, build_schema, parse, validate

from gateway.api.errors import ApiErrorCode
from gateway.cli import build_parser
from gateway.settings import Settings
from gateway.store.errors import StoreErrorCode
from tests.servers import ROOT

README = (ROOT / "README.md").read_text()
# (the federation directives it uses, @link and @key, are not declared in the printed SDL)
SCHEMA = build_schema((ROOT / "schema.graphql").read_text(), assume_valid_sdl=True)


def root_fields() -> dict[str, GraphQLField]:
    fields: dict[str, GraphQLField] = {}
    for root in (SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type):
        if root is not None:
            fields.update(root.fields)
    return fields


def code_blocks(language: str) -> list[str]:
    """The fenced blocks of the README opened with ```language (``""``: no language)."""
    blocks, current, opened = [], [], None
    for line in README.splitlines():
        if line.startswith("```"):
            if opened is None:
                opened, current = line[3:].strip(), []
            else:
                if opened == language:
                    blocks.append("\n".join(current) + "\n")
                opened = None
        elif opened is not None:
            current.append(line)
    return blocks


def test_every_operation_of_the_schema_is_documented() -> None:
    undocumented = [name for name in root_fields()
                    if f"`{name}`" not in README and f"`{name}(" not in README
                    and f"**{name}**" not in README]
    assert not undocumented


def documented_signatures() -> list[tuple[str, str]]:
    names = "|".join(map(re.escape, root_fields()))
    return re.findall(rf"`({names})\(([^`]*)\)`", README)


def test_documented_signatures_match_the_schema() -> None:
    signatures = documented_signatures()
    assert ("importCatalog", "document: JSON!, replace: Boolean! = false") in signatures
    for name, arguments in signatures:
        field = root_fields()[name]
        for argument in filter(None, (a.strip() for a in arguments.split(","))):
            arg_name, _, declared = argument.partition(":")
            arg_name = arg_name.strip()
            assert arg_name in field.args, f"{name}({arg_name}) is not in the schema"
            if declared:
                schema_arg = field.args[arg_name]
                actual = str(schema_arg.type)
                type_text, _, default = declared.partition("=")
                assert type_text.strip() == actual, f"{name}({arg_name}: {actual})"
                if default.strip():
                    assert schema_arg.ast_node is not None
                    from graphql import print_ast

                    assert schema_arg.ast_node.default_value is not None
                    assert default.strip() == print_ast(schema_arg.ast_node.default_value)


@pytest.mark.parametrize("block", code_blocks("graphql"),
                         ids=lambda b: b.split("(")[0].split()[-1][:30])
def test_every_graphql_example_is_valid(block: str) -> None:
    assert validate(SCHEMA, parse(block)) == []


def command_lines() -> list[list[str]]:
    """Every `gateway` command of the shell examples; each side of a pipe counts, and a
    trailing ``&`` (run in the background) is not part of the command."""
    commands = []
    for block in code_blocks("sh") + code_blocks(""):
        for line in block.splitlines():
            for part in line.split("#")[0].split(" | "):
                part = part.strip().removesuffix("&").strip()
                for prefix in (".venv/bin/gateway ", "gateway "):
                    if part.startswith(prefix) and "[" not in part:
                        commands.append(shlex.split(part[len(prefix):]))
    return commands


def test_piped_and_background_commands_are_checked_too() -> None:
    commands = command_lines()
    assert ["import", "-", "--replace", "--db", "/tmp/copy.sqlite3"] in commands
    assert ["serve", "--port", "8001", "--workers", "4"] in commands


def test_readme_says_where_the_command_is() -> None:
    assert ".venv/bin/gateway" in README and ". .venv/bin/activate" in README


def test_documented_command_lines_are_accepted() -> None:
    parser = build_parser()
    synopsis = [line.split("#")[0].split() for block in code_blocks("")
                for line in block.splitlines() if line.startswith("gateway ")]
    subcommands = {words[1] for words in synopsis}
    assert subcommands == set(parser._subparsers._group_actions[0].choices)  # type: ignore
    for words in synopsis:  # every option of the synopsis exists
        accepted = parser._subparsers._group_actions[0].choices[words[1]]  # type: ignore
        for option in re.findall(r"--[a-z-]+", " ".join(words)):
            assert option in accepted._option_string_actions, (words[1], option)
    for args in command_lines():
        parser.parse_args(args)  # exits (fails the test) on an unknown option


def test_every_error_code_is_documented() -> None:
    errors = README[README.index("### Errors"):README.index("## Security")]
    for code in [*ApiErrorCode, *StoreErrorCode]:
        assert f"`{code.value}`" in errors, code
    assert "LINES_REFUSED" in README and "aliases" in errors and "INVALID_QUANTITY" in errors


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README[README.index("## Configuration"):README.index("## Operations")]
    for name in Settings.model_fields:
        if name in ("max_depth", "max_aliases", "max_tokens"):
            continue  # stated in the sentence under the table
        assert f"`GATEWAY_{name.upper()}`" in table, name
