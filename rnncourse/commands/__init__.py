"""Subcommands of the `rnncourse` command line, one module each.

A module here defines `HELP` (one line), `add_arguments(parser)` and `run(arguments) -> int`;
`rnncourse/cli.py` lists the modules. They import their heavy dependencies inside `run`, so that
`rnncourse --help` stays fast. `training_options` holds what the training commands share.

Like the pages, the commands sit on top: `run` runs a chapter's experiments
(`rnncourse.chapters`), the others use the core (`rnncourse.training`, `rnncourse.grading`).
"""
