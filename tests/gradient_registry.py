"""Which ``Function`` each hypothesis gradient test covers.

A gradient test is declared with ``@covers(ops.Mul, ...)`` placed *above* its
``@given``; ``test_every_function_has_a_gradient_test`` then fails, naming each op,
when a ``Function`` subclass of minigen has no such test.
"""
COVERED: dict = {}  # Function class -> names of the hypothesis tests that check it


def covers(*functions):
    def mark(test):
        if not getattr(test, "is_hypothesis_test", False):
            raise TypeError(f"{test.__name__}: @covers goes above @given (on a hypothesis test)")
        for fn in functions:
            COVERED.setdefault(fn, []).append(test.__name__)
        return test
    return mark
