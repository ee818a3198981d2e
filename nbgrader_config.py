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

# Autograding runs rnncourse's guarded execution in place of nbgrader's Execute
# (rnncourse/grading/execution.py; `rnncourse grade` sets the same): warnings and other stderr
# output from student code cost no points, test cells are protected from student code that
# replaces what they compare with, and each notebook has a time limit as well as each cell.
c.Autograde.autograde_preprocessors = [
    "rnncourse.grading.execution.GuardedExecute",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GuardedExecute.notebook_timeout = 600
