"""Generate the plugin-author hook reference from the hookspec docstrings.

``python -m dcsim.docs`` prints the Markdown of ``docs/plugin-hooks.md``;
``python -m dcsim.docs --check FILE`` exits 1 when FILE is out of date.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from dcsim.hooks import PROJECT
from dcsim.hookspecs import MODULES

HEADER = """# Plugin hooks

Generated from the hookspec docstrings in `dcsim-core/src/dcsim/hookspecs/` by
`python -m dcsim.docs`; a test fails when this page and the code disagree.

A plugin is a module (or object) with functions named after hooks and marked with
`@hookimpl`, registered under the entry-point group `dcsim`:

```toml
[project.entry-points.dcsim]
hello = "dcsim_hello.plugin"
```

```python
from dcsim import hookimpl

@hookimpl
def dcsim_register_event_types(registry):
    registry.add("hello.said", description="someone said hello", data={"to": "who was greeted"})
```

An implementation may accept fewer arguments than the hook offers. Drivers (bus, store,
CMDB backend, node backend) are not hooks: see the stevedore namespaces in
`dcsim/drivers.py`. `docs/examples/dcsim-hello` is a complete example package.
"""


def iter_hooks() -> Iterator[tuple[str, Callable[..., object]]]:
    """Yield (area, hookspec function) for every hook, in documentation order."""
    for module in MODULES:
        area = module.__name__.rsplit(".", 1)[-1]
        for name, fn in vars(module).items():  # definition order
            if name.startswith(f"{PROJECT}_") and hasattr(fn, f"{PROJECT}_spec"):
                yield area, fn


def hook_names() -> list[str]:
    """Names of every hook."""
    return [fn.__name__ for _, fn in iter_hooks()]


def render() -> str:
    """The Markdown page."""
    parts = [HEADER]
    current = None
    for area, fn in iter_hooks():
        if area != current:
            module = sys.modules[fn.__module__]
            parts.append(f"## {area}\n\n{inspect.cleandoc(module.__doc__ or '')}\n")
            current = area
        # Annotations are strings (postponed evaluation); show them unquoted.
        signature = str(inspect.signature(fn)).replace("'", "")
        prefix = "async def" if inspect.iscoroutinefunction(fn) else "def"
        parts.append(
            f"### `{fn.__name__}`\n\n```python\n{prefix} {fn.__name__}{signature}\n```\n\n"
            f"{inspect.cleandoc(fn.__doc__ or '')}\n"
        )
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    """Print the page, or with ``--check FILE`` compare it with FILE."""
    text = render()
    if len(argv) == 2 and argv[0] == "--check":
        if Path(argv[1]).read_text() != text:
            print(f"{argv[1]} is out of date: run python -m dcsim.docs > {argv[1]}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
