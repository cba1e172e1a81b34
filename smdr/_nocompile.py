"""``mypyc_attr`` where mypy_extensions is not installed: the pure-Python install ignores it."""


def mypyc_attr(*_args: object, **_kwargs: object):
    return lambda cls: cls
