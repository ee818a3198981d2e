"""nbgrader configuration of the course: solutions/ is the source, exercises/ the release.

Run nbgrader commands from this folder (or use `rnncourse release` / `rnncourse grade`).
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnncourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# The release holds notebooks only; working copies and caches never travel.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]

# A cell that runs longer than this is stopped, and its test scores 0; the rest is still graded.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Autograding (`nbgrader autograde`, the formgrader) gets the protections of `rnncourse grade`,
# which reads this file too:
# - before grading, a submission is rebuilt on the exercise's skeleton: deleted test and set-up
#   cells are put back, edited ones restored (rnncourse/grading/preprocessors.py);
# - rnncourse's guarded execution replaces nbgrader's Execute (rnncourse/grading/execution.py):
#   warnings and other stderr output from student code cost no points, test cells are protected
#   from student code that replaces what they compare with, each notebook has a time limit as
#   well as each cell, test cells' errors show their message only, and a part whose code called
#   a library function it asks students to write themselves scores 0.
c.Autograde.sanitize_preprocessors = [
    "rnncourse.grading.preprocessors.RestoreReleasedCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "rnncourse.grading.execution.GuardedExecute",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GuardedExecute.notebook_timeout = 600

# Feedback pages never show hidden tests, nor the tracebacks of test cells (which quote them).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "rnncourse.grading.preprocessors.HideHiddenTests",
]
