"""Homework assignments with an autograder, built from minigen's own source.

The code that makes a good exercise is marked in place, between a ``# BEGIN SOLUTION <id>``
comment line and a ``# END SOLUTION`` comment line (in ``minigen/`` and in the lecture
notebooks). The catalogue (``catalog``) says, for each exercise id, its title, difficulty,
lecture and how it is graded: by the tests that carry the pytest marker ``exercise_<id>``,
or by a notebook's own check cell.

* ``list_exercises()`` — the catalogue;
* ``build(out_dir, only=None)`` — a student copy of the repository with those exercises'
  code replaced by ``raise NotImplementedError("Exercise <id>: ...")``;
* ``grade(repo_dir, json_path=None)`` — run each exercise's tests in a copy and score it;
* ``check()`` — for instructors: each exercise's tests pass with its solution and fail,
  naming it, without it.

From the command line: ``python -m minigen.assignments list | build | grade | check``
(see ``cli``).
"""
from minigen.assignments.builder import BuildError, BuildResult, build
from minigen.assignments.catalog import Exercise, get_exercise, list_exercises
from minigen.assignments.checker import check
from minigen.assignments.grader import ExerciseScore, GradeReport, grade
from minigen.assignments.regions import MarkerError

__all__ = ["BuildError", "BuildResult", "Exercise", "ExerciseScore", "GradeReport",
           "MarkerError", "build", "check", "get_exercise", "grade", "list_exercises"]
