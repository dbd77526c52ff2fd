"""The README opens with the two commands a newcomer runs; keep them true."""
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
CI = Path(__file__).resolve().parents[1] / ".ci" / "run"


def test_readme_opens_with_install_and_test_commands():
    text = README.read_text()
    blocks = text.split("```")
    first_code = blocks[1]
    lines = [line for line in first_code.splitlines() if line.strip() and not line.startswith("```")]
    commands = [line for line in lines if not line.startswith("#") and line not in ("bash", "sh")]
    assert commands[0] == 'pip install . && nfit demo'
    assert commands[1] == 'pip install -e ".[test]" && pytest'
    # CI runs exactly the README's test command
    assert commands[1] in CI.read_text()
