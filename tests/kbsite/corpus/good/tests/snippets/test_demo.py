from snippets.demo import square


def test_square() -> None:
    assert square(3) == 9
