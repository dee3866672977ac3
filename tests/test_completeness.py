"""Every primitive has all its rules.

Walks every module under numjax._src, gathers each `Primitive` object (module globals, and
the values of module-level dicts/lists/tuples such as table registries) and checks that it
has: an impl, a shape rule, a jvp (or an explicit `ad.defnondiff` mark), a transpose if it is
declared linear, a batching rule, and a native template (or `numpy_tier_only = True`).
A failure names the primitive and exactly which rules it lacks.
"""
import importlib
import inspect
import pkgutil

import pytest

import numjax
from numjax._src import core
from numjax._src.interpreters import ad, batching


def _import_all():
  import numjax._src as src
  modules, failures = [], []
  for info in pkgutil.walk_packages(src.__path__, prefix="numjax._src."):
    try:
      modules.append(importlib.import_module(info.name))
    except Exception as e:  # reported by test_all_modules_import
      failures.append((info.name, f"{type(e).__name__}: {e}"))
  return modules, failures


def _primitives(modules):
  found = {}

  def visit(v, where):
    if isinstance(v, core.Primitive):
      found.setdefault(id(v), (v, where))

  for m in modules:
    for name, v in list(vars(m).items()):
      visit(v, f"{m.__name__}.{name}")
      if isinstance(v, dict):
        for k, x in list(v.items()):
          visit(x, f"{m.__name__}.{name}[{k!r}]")
          visit(k, f"{m.__name__}.{name} (key)")
      elif isinstance(v, (list, tuple, set, frozenset)):
        for x in list(v):
          visit(x, f"{m.__name__}.{name}[...]")
  # Primitives registered with an interpreter but not reachable from a module global.
  for reg in (ad.primitive_jvps, ad.primitive_transposes, batching.primitive_batchers,
              batching.axis_primitive_batchers):
    for p in list(reg):
      visit(p, "a rule registry")
  return [v for v, _ in sorted(found.values(), key=lambda t: t[0].name)]


MODULES, IMPORT_FAILURES = _import_all()
PRIMITIVES = _primitives(MODULES)


def _nullary(p):
  """A primitive without operands (iota, ...) is never batched: it needs no rule."""
  try:
    sig = inspect.signature(p.abstract_eval)
  except (TypeError, ValueError):
    return False
  return not any(q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD, q.VAR_POSITIONAL)
                 for q in sig.parameters.values())


def missing_rules(p):
  """The names of the rules primitive `p` lacks (empty when complete)."""
  missing = []
  if p.impl is None:
    missing.append("impl")
  if p.abstract_eval is None:
    missing.append("abstract_eval (shape rule)")
  if p not in ad.primitive_jvps and p not in ad.nondifferentiable:
    missing.append("jvp (or ad.defnondiff)")
  if p in ad.linear_primitives and p not in ad.primitive_transposes:
    missing.append("transpose (declared linear)")
  if (p not in batching.primitive_batchers and p not in batching.axis_primitive_batchers
      and not _nullary(p)):
    missing.append("batching rule")
  if not (getattr(p, "native_template", None) or getattr(p, "numpy_tier_only", False)):
    missing.append("native_template (or numpy_tier_only = True)")
  return missing


def test_all_modules_import():
  assert not IMPORT_FAILURES, "modules under numjax._src failed to import:\n" + "\n".join(
      f"  {n}: {e}" for n, e in IMPORT_FAILURES)


def test_found_the_primitives():
  names = {p.name for p in PRIMITIVES}
  # A few from each of the core families must be found by the walk.
  for n in ("add", "sin", "dot_general", "broadcast_in_dim", "custom_jvp_call",
            "custom_vjp_call", "remat2", "psum"):
    assert n in names, n


@pytest.mark.parametrize("prim", PRIMITIVES, ids=[p.name for p in PRIMITIVES])
def test_primitive_has_all_rules(prim):
  missing = missing_rules(prim)
  assert not missing, f"primitive '{prim.name}' lacks: {', '.join(missing)}"


def test_primitive_names_unique():
  # One primitive, one place: two Primitive objects with the same name are two
  # declarations of one operation (or a name clash in printed jaxprs).
  seen = {}
  dups = []
  for p in PRIMITIVES:
    if p.name in seen and seen[p.name] is not p:
      dups.append(p.name)
    seen.setdefault(p.name, p)
  assert not dups, f"several Primitive objects share the names: {sorted(set(dups))}"


def test_summary_lists_every_incomplete_primitive():
  incomplete = {p.name: missing_rules(p) for p in PRIMITIVES if missing_rules(p)}
  assert not incomplete, "incomplete primitives:\n" + "\n".join(
      f"  {n}: lacks {', '.join(m)}" for n, m in sorted(incomplete.items()))


def test_numjax_imports():
  import numjax.lax  # noqa: F401
  import numjax.numpy  # noqa: F401
  assert numjax.grad and numjax.vmap and numjax.jit
