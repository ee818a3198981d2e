"""Releasing and grading the course's nbgrader exercises (`rnncourse release`, `rnncourse grade`,
`rnncourse exercises`), and the guarded execution `nbgrader autograde` uses too."""
