"""Running a submission for grading: nbgrader's `Execute` with time and output limits, recovery
from a dead or stuck kernel, and the grading guard (`rnncourse.grading.guard`) around each
locked cell.

`GuardedExecute` replaces nbgrader's `Execute` in `Autograde.autograde_preprocessors` (see
`AUTOGRADE_PREPROCESSORS`, used by `nbgrader_config.py` and by `rnncourse grade`). For each
notebook it

- installs the guard in the kernel before any cell runs;
- before each locked cell, puts back what student code changed; after each test cell, checks
  that nothing changed while the tests ran, and requires the token printed by the cell's last
  line (so a test cell that was skipped, cut short or intercepted scores 0);
- lets student warnings and other stderr output of test cells cost nothing (nbgrader scores a
  test cell that writes to stderr 0): that output is kept, as stdout;
- drops `execute_result` outputs of test cells (nbgrader would read one as partial credit, and
  only student code can produce one there);
- stops a cell after `timeout` seconds (nbgrader's `Execute.timeout`) and the notebook after
  `notebook_timeout`: cells left are not run and score 0; a kernel that dies or ignores the
  interrupt is restarted, the cells before replayed without the one that stopped it, and
  grading goes on;
- keeps at most `output_limit` characters of output per cell;
- shows errors of locked cells as one line (`Name: message`, no traceback: its context lines
  would be the hidden tests' source) and drops course-code frames from other tracebacks;
- scores a whole part 0 when one of its checks found a call to a forbidden library shortcut
  (`rnncourse.grading.own_code`);
- writes what happened (time limits, crashes, tampering, forbidden calls) to `report_file` as
  JSON.
"""

from __future__ import annotations

import ast
import json
import secrets
from pathlib import Path
from queue import Empty
from time import monotonic

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from rnncourse.grading.guard_plan import guard_plan, parse_cell, top_level_names
from rnncourse.grading.outputs import clean_errors, error_output, zero_parts_with_forbidden_calls

# The guard's files, in the order in which they run in the kernel, as one source text.
GUARD_FILES = ("guard_values.py", "guard_shell.py", "guard_audit.py", "guard.py")


def guard_source() -> str:
    """The guard's files as the one source text the kernel runs (in a namespace of its own,
    never imported there): their imports of each other, and every `from __future__` line but
    the first, are left out, since the names they bring are defined above them."""
    texts = []
    for number, name in enumerate(GUARD_FILES):
        text = Path(__file__).with_name(name).read_text()
        lines = text.splitlines()
        for node in ast.parse(text).body:
            if isinstance(node, ast.ImportFrom) and (
                    (node.module or "").startswith("rnncourse.grading.guard")
                    or (node.module == "__future__" and number > 0)):
                lines[node.lineno - 1:node.end_lineno] = [""] * (node.end_lineno - node.lineno + 1)
        texts.append("\n".join(lines))
    return "\n\n".join(texts) + "\n"


GUARD_SOURCE = guard_source()

# nbgrader's autograde steps, with GuardedExecute in place of Execute and without IgnorePattern.
AUTOGRADE_PREPROCESSORS = [
    "rnncourse.grading.execution.GuardedExecute",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


class GuardedExecute(Execute):
    """nbgrader's Execute with the grading guard, a notebook time limit, output limits and
    kernel recovery (see the module docstring)."""

    notebook_timeout = Integer(
        600, help="Seconds for the whole notebook; cells left when they run out score 0."
    ).tag(config=True)
    output_limit = Integer(
        100_000, help="Characters of output kept per cell; the rest is dropped."
    ).tag(config=True)
    max_kernel_restarts = Integer(
        2, help="How often a dead or stuck kernel is restarted before the rest is given up."
    ).tag(config=True)
    report_file = Unicode(
        "", help="Write the time limits hit, crashes and tampering found here (JSON)."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        # As nbconvert's ExecutePreprocessor.preprocess, cell by cell through `_run_one`.
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.events: list[dict] = []
        self.deadline = monotonic() + self.notebook_timeout
        self.guard_name = f"_rnncourse_guard_{secrets.token_hex(8)}"
        self.packages, self.bindings, self.hide = guard_plan(self.nb.cells)
        self.defined = {index: top_level_names(parse_cell(cell.source))
                        for index, cell in enumerate(self.nb.cells)
                        if cell.cell_type == "code" and utils.is_locked(cell)}
        self.stopped_cells: set[int] = set()
        self.restarts, self.lost = 0, ""
        self.token, self.output_size, self.output_capped = None, 0, False
        self.error_on_timeout = {"ename": "CellTimeoutError",
                                 "evalue": "the cell ran past its time limit and was stopped",
                                 "traceback": ["CellTimeoutError: the cell ran past its time "
                                               "limit and was stopped"]}
        with self.setup_kernel():
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            self._install_guard()
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type == "code":
                    self._run_one(cell, index)
        self.set_widgets_metadata()
        for part, message in zero_parts_with_forbidden_calls(self.nb).items():
            self._note("forbidden", part, f"scores 0: {message}")
        if self.report_file:
            Path(self.report_file).write_text(json.dumps({"events": self.events}, indent=1))
        return self.nb, self.resources

    # --- talking to the kernel outside the notebook's cells -----------------------------------

    async def _async_run_hidden(self, code: str, expression: str | None = None,
                                timeout: float = 60) -> dict | None:
        """Run `code` (and evaluate `expression`) silently; the reply's content, or None when
        the kernel gives none in time."""
        expressions = {"value": expression} if expression else {}
        msg_id = await ensure_async(self.kc.execute(code, silent=True, store_history=False,
                                                    user_expressions=expressions,
                                                    allow_stdin=False))
        deadline = monotonic() + timeout
        while True:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(
                    timeout=max(0.1, deadline - monotonic())))
            except Empty:
                return None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    _run_hidden = run_sync(_async_run_hidden)

    def _guard_call(self, expression: str):
        """Evaluate `guard.<expression>` in the kernel; its value, or None on failure."""
        content = self._run_hidden("", f"{self.guard_name}.{expression}", timeout=60)
        value = (content or {}).get("user_expressions", {}).get("value", {})
        if value.get("status") != "ok":
            return None
        try:  # only ever read as a literal: the kernel runs student code
            return ast.literal_eval(value.get("data", {}).get("text/plain", "None"))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None

    def _install_guard(self) -> None:
        filename = f"<rnncourse-guard-{self.guard_name}>"
        code = (f"_namespace = {{'__name__': '_rnncourse_guard'}}\n"
                f"exec(compile({GUARD_SOURCE!r}, {filename!r}, 'exec'), _namespace)\n"
                f"{self.guard_name} = _namespace['install']({self.packages!r}, "
                f"{self.bindings!r}, {filename!r}, get_ipython())\n"
                "del _namespace\n")
        content = self._run_hidden(code, timeout=max(self.startup_timeout, 120))
        if not content or content.get("status") != "ok":
            detail = (content or {}).get("evalue", "no reply from the kernel")
            raise RuntimeError(f"the grading guard could not be installed: {detail}")

    async def _async_restart_kernel(self) -> None:
        await ensure_async(self.km.restart_kernel(now=True))
        await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))

    _restart_kernel = run_sync(_async_restart_kernel)

    # --- one cell -----------------------------------------------------------------------------

    def _note(self, kind: str, cell: str, detail: str) -> None:
        self.events.append({"kind": kind, "cell": cell, "detail": detail})

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self.deadline - monotonic()))
        return remaining if timeout is None else min(timeout, remaining)

    def _run_one(self, cell, index: int) -> None:
        metadata = cell.metadata.get("nbgrader", {})
        name = metadata.get("grade_id") or f"cell {index + 1}"
        locked, graded = utils.is_locked(cell), utils.is_grade(cell)
        if not self.lost and monotonic() >= self.deadline:
            self.lost = f"the notebook reached its time limit ({self.notebook_timeout} s)"
            self._note("timeout", name, self.lost)
        if self.lost:
            cell.outputs = [error_output("NotRun", f"not run: {self.lost}")]
            return
        if locked:
            changed = self._guard_call(f"before({self.hide.get(index, [])!r})")
            if changed:
                self._note("tampering", name,
                           "put back before the tests: " + ", ".join(sorted(set(changed))))
        source = cell.source
        self.token = secrets.token_hex(12) if graded else None
        if graded:
            cell.source = f"{source.rstrip()}\n{self.guard_name}.finish({self.token!r})"
        self.output_size, self.output_capped = 0, False
        try:
            self.execute_cell(cell, index, store_history=True)
        except (DeadKernelError, CellTimeoutError) as error:
            self._recover(cell, index, name, error)
        finally:
            cell.source = source
        if graded:
            self._settle_test_outputs(cell, name)
        clean_errors(cell, locked)
        for output in cell.outputs:
            if output.output_type == "error" and output.ename == "TamperingError":
                self._note("tampering", name, output.evalue)
            elif output.output_type == "error" and output.ename == "CellTimeoutError":
                self._note("timeout", name, "the cell ran past its time limit and was stopped")
        if locked and not self.lost:
            self._guard_call(f"protect({self.defined.get(index, [])!r}, {not graded!r})")
            self._guard_call("after()")

    def _settle_test_outputs(self, cell, name: str) -> None:
        """Outputs of a test cell as nbgrader should score them (see the module docstring)."""
        finished, kept = False, []
        for output in cell.outputs:
            if output.output_type == "execute_result":
                continue
            if output.output_type == "stream":
                if self.token in output.text:
                    finished = True
                    output.text = output.text.replace(f"{self.token}\n", "")
                output.name = "stdout"
                if not output.text:
                    continue
            kept.append(output)
        if not finished and not any(output.output_type == "error" for output in kept):
            detail = "the test cell did not run to its end (skipped, cut short or intercepted)"
            kept.append(error_output("GradingError", detail))
            self._note("tampering", name, detail)
        cell.outputs = kept

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most `output_limit` characters per cell (errors and the token always)."""
        content = msg["content"]
        if msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        text = content.get("text", "")
        self.output_size += len(text) + sum(len(str(value))
                                            for value in content.get("data", {}).values())
        if self.output_size <= self.output_limit:
            return super().output(outs, msg, display_id, cell_index)
        if self.token and self.token in text:
            msg = {**msg, "content": {**content, "text": f"{self.token}\n"}}
            return super().output(outs, msg, display_id, cell_index)
        if not self.output_capped:
            self.output_capped = True
            outs.append(new_output("stream", name="stdout", text=(
                f"\n[output beyond {self.output_limit} characters was dropped by the grader]\n")))
        return None

    def _recover(self, cell, index: int, name: str, error: Exception) -> None:
        """The kernel died or ignored the interrupt: note it, restart it and replay the cells
        before this one (without those that stopped a kernel), or give the rest up."""
        if isinstance(error, DeadKernelError):
            kind, detail = "crash", "the kernel died while this cell ran (exit, crash or memory)"
        else:
            kind, detail = "timeout", "the cell ran past its time limit and ignored the interrupt"
        cell.outputs.append(error_output("KernelStopped", detail))
        self._note(kind, name, detail)
        self.stopped_cells.add(index)
        if self.restarts >= self.max_kernel_restarts or monotonic() >= self.deadline:
            self.lost = f"an earlier cell stopped the kernel ({name})"
            return
        self.restarts += 1
        try:
            self._restart_kernel()
            self._install_guard()
        except Exception as problem:  # no kernel to go on with: the rest is not run
            self.lost = f"the kernel could not be restarted ({problem})"
            return
        for earlier in range(index):
            before = self.nb.cells[earlier]
            if before.cell_type != "code" or earlier in self.stopped_cells:
                continue
            if utils.is_locked(before):
                self._guard_call(f"before({self.hide.get(earlier, [])!r})")
            timeout = max(1, self.deadline - monotonic())
            reply = self._run_hidden(before.source, timeout=min(timeout, self.timeout or timeout))
            if reply is None:
                self.lost = f"replaying the cells before {name} after a restart took too long"
                return
            if utils.is_locked(before):
                self._guard_call(f"protect({self.defined.get(earlier, [])!r}, "
                                 f"{not utils.is_grade(before)!r})")
                self._guard_call("after()")
