import os

from texting_support.stack import database_port, exported, load_env, mock_bases


def test_an_environment_file_is_read_with_comments_blank_lines_and_quotes_dropped(tmp_path):
    path = tmp_path / "texting.env"
    path.write_text("# a comment\n\nA=1\nB='two words'\nC=\"x=y\"\nnot a setting\n")
    assert load_env(path) == {"A": "1", "B": "two words", "C": "x=y"}


def test_the_mock_providers_and_the_database_port_follow_from_the_settings():
    env = {"TEXTING_PROVIDERS": "p1=http://127.0.0.1:9101/send;weight=30,p2=http://127.0.0.1:9102/send",
           "TEXTING_DATABASE_URL": "host=/run/pg port=55433 dbname=texting"}
    assert mock_bases(env) == {"p1": "http://127.0.0.1:9101", "p2": "http://127.0.0.1:9102"}
    assert database_port(env) == "55433"


def test_stack_env_exports_are_read_as_the_shell_would():
    text = "export RUN_DIR='/x/y'\nexport MOCK_PORTS='1 2'\nexport PGHOST='/x/pg' PGPORT=5 PGUSER=texting\n"
    assert exported(text) == {"RUN_DIR": "/x/y", "MOCK_PORTS": "1 2", "PGHOST": "/x/pg", "PGPORT": "5", "PGUSER": "texting"}


def test_the_stack_script_is_the_repository_s_and_answers():
    from texting_support import stack

    assert stack.SCRIPT.endswith("/scripts/stack") and os.access(stack.SCRIPT, os.X_OK)
    assert stack.script("no-such-command", timeout=30).returncode != 0
