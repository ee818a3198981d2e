"""The IPython shell's state that the grading guard (`rnncourse.grading.guard`) records before
student code runs and puts back before each locked cell: methods and hooks set on the shell and
kernel instances, the lists of code transformers, event callbacks, custom exception handlers,
`sys` streams and hooks, trace and profile functions.

Like the guard, this runs inside the grading kernel, as part of the guard's source text
(`rnncourse.grading.execution.guard_source`), and uses the standard library only.
"""

from __future__ import annotations

import sys

from rnncourse.grading.guard_values import _MISSING, Provenance

# Lists of the shell that rewrite code before it runs (an AST transformer could drop asserts).
_TRANSFORM_LISTS = (("", "ast_transformers"), ("", "input_transformers_post"),
                    ("input_transformer_manager", "cleanup_transforms"),
                    ("input_transformer_manager", "line_transforms"),
                    ("input_transformer_manager", "token_transformers"))


class ShellState(Provenance):
    """Recording (`_record_shell`) and restoring (`_restore_shell`) the shell; `shell`,
    `system`, `trace` and `profile` are set by the guard."""

    def _record_shell(self) -> None:
        shell = self.shell
        self.instances = [(target, dict(vars(target))) for target in
                          (shell, getattr(shell, "kernel", None)) if target is not None]
        self.transforms = []
        for owner_name, attribute in _TRANSFORM_LISTS:
            owner = getattr(shell, owner_name, None) if owner_name else shell
            current = getattr(owner, attribute, None)
            if isinstance(current, list):
                self.transforms.append((owner, attribute, current, list(current)))
        events = getattr(shell, "events", None)
        callbacks = getattr(events, "callbacks", {})
        self.callbacks = {event: (handlers, list(handlers)) for event, handlers in
                          callbacks.items() if isinstance(handlers, list)}
        self.custom_exceptions = getattr(shell, "custom_exceptions", ())

    def _restore_shell(self) -> list[str]:
        """Undo notebook changes to the shell: method overrides, code transformers, event
        callbacks, exception handlers, sys streams and hooks, trace functions."""
        changed = []
        for target, recorded in self.instances:
            current = vars(target)
            for key, value in list(current.items()):
                before = recorded.get(key, _MISSING)
                if before is value or not self._from_notebook(value):
                    continue
                if before is not _MISSING:  # a method or hook replaced on the instance
                    current[key] = before
                elif callable(value) and hasattr(type(target), key):
                    del current[key]  # an instance attribute shadowing a method
                else:
                    continue
                changed.append(f"{type(target).__name__}.{key}")
        for owner, attribute, recorded_list, recorded_items in self.transforms:
            current_list = getattr(owner, attribute)
            added = [item for item in current_list if item not in recorded_items]
            if current_list is not recorded_list or any(map(self._from_notebook, added)):
                changed.append(attribute)
                recorded_list[:] = recorded_items + [item for item in added
                                                     if not self._from_notebook(item)]
                setattr(owner, attribute, recorded_list)
        for handlers, _recorded in self.callbacks.values():
            own = [handler for handler in handlers if self._from_notebook(handler)]
            if own:
                changed.append("shell event callbacks")
                handlers[:] = [handler for handler in handlers if handler not in own]
        if getattr(self.shell, "custom_exceptions", ()) != self.custom_exceptions:
            changed.append("custom exception handlers")
            self.shell.custom_exceptions = self.custom_exceptions
        for key, value in self.system.items():
            if getattr(sys, key) is not value:
                setattr(sys, key, value)
        if sys.gettrace() is not self.trace:
            changed.append("trace function")
            sys.settrace(self.trace)
        if sys.getprofile() is not self.profile:
            changed.append("profile function")
            sys.setprofile(self.profile)
        return changed
