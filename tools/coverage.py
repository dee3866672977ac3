"""Generate docs/coverage.md: for every namespace listed in /work/shared/api (JAX 0.10.2's
public names), whether each name is implemented in numjax, used by a test, differentiable
and batchable, and the percentages per namespace.

    python tools/coverage.py [--out docs/coverage.md] [--no-probe]

* implemented: the name resolves in the matching numjax module.
* tested: a test file refers to it (through the aliases its imports define, e.g.
  `jnp.sort`, `lax.sort_p`, `numjax.jit`, or `from numjax.numpy import sort`).
* differentiable / batchable: for primitives (`*_p`), read from the rule registries (a jvp
  rule, or marked not differentiable; a batching rule). For functions, probed: the function
  is called on a tiny float input (a matrix, a vector, two arguments, ...); when the call
  returns floating-point arrays, `grad` of the sum of the outputs and `vmap` over a stacked
  input are attempted. "yes"/"no" are probe results; "static": the transformation needs
  concrete values there (data-dependent output sizes, static parameters), as in JAX; "n/a"
  means no probe applies (classes, constants, non-float outputs, other inputs needed).
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import importlib
import inspect
import json
import os
import re
import signal
import sys
import types
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("NUMJAX_TIER", "numpy")

import numpy as np  # noqa: E402

import numjax  # noqa: E402
import numjax.numpy as jnp  # noqa: E402
from numjax._src import core  # noqa: E402
from numjax._src.interpreters import ad, batching  # noqa: E402

SHARED = os.environ.get("NUMJAX_SHARED") or os.path.join(ROOT, "..", "shared")

# Functions not to call while probing (I/O, printing, global state, slow by design).
NO_PROBE = {"load", "save", "savez", "fromfile", "frombuffer", "fromstring", "fromiter",
            "set_printoptions", "printoptions", "get_printoptions", "print_environment_info",
            "live_arrays", "clear_caches", "disable_jit", "make_user_context", "pure_callback",
            "effects_barrier", "block_until_ready", "device_get", "device_put", "ffi",
            "checkpoint_policies", "debug", "profiler", "distributed", "export", "rng_uniform",
            "make_mesh", "set_mesh", "pmap", "shard_map", "smap", "reshard", "from_dlpack"}
# Probe arguments for functions whose second argument is not an array.
PROBE_ARGS = {"astype": [(np.ones((2, 2), np.float32), np.float32)]}


# ---------------------------------------------------------------------------------------
# "tested": references from tests/*.py

_IMPORT = re.compile(r"^\s*import\s+(numjax(?:\.\w+)*)(?:\s+as\s+(\w+))?", re.M)
_FROM = re.compile(r"^\s*from\s+(numjax(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n]+)", re.M)


def _is_module(path):
  try:
    importlib.import_module(path)
    return True
  except Exception:
    return False


def scan_tests(test_dir):
  """(alias -> module path) per file, and the names imported directly, with file texts."""
  files = []
  for fn in sorted(os.listdir(test_dir)):
    if not fn.endswith(".py"):
      continue
    text = open(os.path.join(test_dir, fn)).read()
    aliases, direct = {}, collections.defaultdict(set)
    for mod, alias in _IMPORT.findall(text):
      if alias:
        aliases[alias] = mod
      else:
        aliases[mod.split(".")[0]] = mod.split(".")[0]
        aliases[mod] = mod
    for mod, names in _FROM.findall(text):
      for item in names.strip("()").replace("\n", " ").split(","):
        item = item.split("#")[0].strip()
        if not item:
          continue
        parts = item.split()
        name, alias = parts[0], parts[-1] if len(parts) == 3 else parts[0]
        if _is_module(f"{mod}.{name}"):
          aliases[alias] = f"{mod}.{name}"
        else:
          direct[mod].add(name)
    files.append((text, aliases, direct))
  return files


def tested_names(files, numjax_ns, names):
  found = set()
  for text, aliases, direct in files:
    found |= set(direct.get(numjax_ns, ())) & set(names)
    prefixes = []
    for alias, mod in aliases.items():
      if numjax_ns == mod or numjax_ns.startswith(mod + "."):
        prefixes.append(alias + numjax_ns[len(mod):])
    if not prefixes:
      continue
    pat = "|".join(re.escape(p) for p in prefixes)
    for m in re.finditer(rf"(?<![\w.])(?:{pat})\.(\w+)", text):
      if m.group(1) in names:
        found.add(m.group(1))
    # tables of names looked up with getattr(<namespace>, name): quoted names count
    if re.search(rf"getattr\(\s*(?:{pat})\s*,", text):
      for m in re.finditer(r"[\"'](\w+)[\"']", text):
        if m.group(1) in names:
          found.add(m.group(1))
  return found


_PRIM_FUNCS = {"and": "bitwise_and", "or": "bitwise_or", "not": "bitwise_not",
               "xor": "bitwise_xor", "while": "while_loop", "regularized_incomplete_beta":
               "betainc", "reduce_window_sum": "reduce_window", "reduce_window_max":
               "reduce_window", "reduce_window_min": "reduce_window",
               "approx_top_k": "approx_max_k"}


def _tested_through_function(mod, names, tested):
  """A primitive `X_p` counts as tested when the function that binds it is."""
  out = set()
  for name in names:
    if not name.endswith("_p"):
      continue
    p = getattr(mod, name, None) if mod is not None else None
    base = getattr(p, "name", name[:-2])
    for cand in (name[:-2], base, _PRIM_FUNCS.get(base, base), base.replace("-", "_")):
      if cand in tested:
        out.add(name)
  return out


# ---------------------------------------------------------------------------------------
# differentiable / batchable

class _Timeout(Exception):
  pass


@contextlib.contextmanager
def _time_limit(seconds):
  def handler(signum, frame):
    raise _Timeout()
  old = signal.signal(signal.SIGALRM, handler)
  signal.setitimer(signal.ITIMER_REAL, seconds)
  try:
    yield
  finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


_MAT = np.array([[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 4.0]], np.float32)
_VEC = np.array([0.3, 0.6, 0.9], np.float32)
_SCAL = np.float32(0.4)


def _candidate_args(ns, name):
  if "random" in ns:
    return []  # random samplers take keys: nothing to differentiate through a key
  return [(_MAT,), (_VEC,), (_SCAL,), (_MAT, _MAT), (_VEC, _VEC), (_SCAL, _SCAL),
          (_VEC, _VEC, _VEC), (_MAT, _VEC)]


def _float_leaves(out):
  """The floating-point array leaves of `out`; none when some leaf is not an array (a
  treedef, an aval, a class: the function computes no array to transform)."""
  leaves = numjax.tree_util.tree_leaves(out)
  if not leaves or not all(isinstance(l, (numjax.Array, np.ndarray, core.Tracer, np.generic))
                           for l in leaves):
    return []
  return [l for l in leaves if np.issubdtype(np.dtype(l.dtype), np.inexact)]


def _loss_of(fn, nargs_fixed):
  def loss(*args):
    outs = _float_leaves(fn(*args))
    total = 0.0
    for o in outs:
      total = total + jnp.sum(jnp.real(o))
    return total
  return loss


def _nullary(p):
  """A primitive without operands (iota, ...) is never batched."""
  try:
    params = inspect.signature(p.abstract_eval).parameters.values()
  except (TypeError, ValueError):
    return False
  return not any(q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD, q.VAR_POSITIONAL)
                 for q in params)


def probe(fn, ns, name):
  """('yes'|'no'|'n/a', 'yes'|'no'|'n/a') for differentiable, batchable."""
  if isinstance(fn, core.Primitive):
    diff = "yes" if fn in ad.primitive_jvps else ("not diff." if fn in ad.nondifferentiable
                                                   else "no")
    batch = "yes" if (fn in batching.primitive_batchers or
                      fn in batching.axis_primitive_batchers) else (
                          "n/a" if _nullary(fn) else "no")
    return diff, batch
  if (name in NO_PROBE or isinstance(fn, (type, types.ModuleType)) or not callable(fn)
      or name.startswith("_")):
    return "n/a", "n/a"
  for args in PROBE_ARGS.get(name) or _candidate_args(ns, name):
    try:
      with _time_limit(2.0), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(*args)
        if not _float_leaves(out):
          return "n/a", "n/a"
    except Exception:
      continue
    diff = batch = "no"
    static_errors = (numjax.errors.ConcretizationTypeError,
                     numjax.errors.TracerIntegerConversionError,
                     numjax.errors.NonConcreteBooleanIndexError)
    try:
      with _time_limit(4.0), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray | np.generic)]
        fixed = dict(enumerate(args))
        def of_arrays(*xs):
          full = dict(fixed)
          full.update(zip(arrays, xs))
          return fn(*[full[i] for i in range(len(args))])
        xs = [jnp.asarray(args[i]) for i in arrays]
        try:  # with respect to every array argument, else the first (others may be static)
          numjax.grad(_loss_of(of_arrays, len(arrays)), tuple(range(len(arrays))))(*xs)
        except static_errors:
          raise
        except Exception:
          if len(arrays) < 2:
            raise
          numjax.grad(_loss_of(of_arrays, len(arrays)), 0)(*xs)
        diff = "yes"
    except static_errors:
      diff = "static"  # needs concrete values (data-dependent shapes, static params)
    except Exception:
      pass
    try:
      with _time_limit(4.0), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stacked = [np.stack([args[i], args[i] * np.float32(1.1)]) for i in arrays]
        numjax.vmap(of_arrays)(*stacked)
        batch = "yes"
    except static_errors:
      batch = "static"
    except Exception:
      pass
    return diff, batch
  return "n/a", "n/a"


# ---------------------------------------------------------------------------------------

def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--out", default=os.path.join(ROOT, "docs", "coverage.md"))
  ap.add_argument("--no-probe", action="store_true")
  opts = ap.parse_args()
  api = json.load(open(os.path.join(SHARED, "api", "jax_0.10.2_public_names.json")))
  files = scan_tests(os.path.join(ROOT, "tests"))
  summary, sections = [], []
  for ns, names in api["namespaces"].items():
    nj = ns.replace("jax", "numjax", 1)
    try:
      mod = importlib.import_module(nj)
    except Exception as e:  # a namespace not there yet
      mod = None
      err = f"{type(e).__name__}: {e}"
    tested = tested_names(files, nj, names) if mod is not None else set()
    rows = []
    n_impl = n_test = 0
    n_diff = n_batch = n_probed = n_diff_no = n_batch_no = 0
    tested |= _tested_through_function(mod, names, tested)
    for name in names:
      impl = mod is not None and hasattr(mod, name)
      fn = getattr(mod, name, None) if impl else None
      t = name in tested
      if impl and not opts.no_probe:
        d, b = probe(fn, ns, name)
      else:
        d, b = ("-", "-")
      n_impl += impl
      n_test += impl and t
      if d in ("yes", "no") or b in ("yes", "no"):
        n_probed += 1
        n_diff += d == "yes"
        n_batch += b == "yes"
        n_diff_no += d == "no"
        n_batch_no += b == "no"
      rows.append((name, "yes" if impl else "**no**", "yes" if t else "no", d, b))
    pct = 100.0 * n_impl / len(names) if names else 100.0
    tpct = 100.0 * n_test / len(names) if names else 100.0
    summary.append((ns, len(names), n_impl, pct, n_test, tpct, n_probed, n_diff, n_diff_no,
                    n_batch, n_batch_no))
    lines = [f"## {ns}", "",
             f"{n_impl}/{len(names)} implemented ({pct:.1f}%), {n_test} tested ({tpct:.1f}%)."]
    if mod is None:
      lines.append(f"Module not importable: `{err}`.")
    missing = [r[0] for r in rows if r[1] != "yes"]
    if missing:
      lines.append("Missing: " + ", ".join(f"`{m}`" for m in missing) + ".")
    for col, what in ((3, "Not differentiable by the probe"), (4, "Not batchable by the probe")):
      bad = [r[0] for r in rows if r[col] == "no"]
      if bad:
        lines.append(f"{what}: " + ", ".join(f"`{m}`" for m in bad) + ".")
    lines += ["", "| name | implemented | tested | differentiable | batchable |",
              "|---|---|---|---|---|"]
    lines += [f"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} | {r[4]} |" for r in rows]
    sections.append("\n".join(lines))
  out = ["# numjax API coverage (against JAX 0.10.2's public names)", "",
         "Generated by `python tools/coverage.py`; do not edit by hand. Columns: see the "
         "tool's docstring (differentiable/batchable are read from the rule registries for "
         "primitives and probed on tiny float inputs for functions; n/a: no probe "
         "applies; 'not diff.': a primitive JAX also marks non-differentiable; 'static': "
         "needs concrete values, as in JAX). The per-namespace tables list the names whose "
         "probe said 'no'.", "",
         "| namespace | names | implemented | % | tested | % tested | probed | grad yes | "
         "grad no | vmap yes | vmap no |", "|---|---|---|---|---|---|---|---|---|---|---|"]
  for ns, n, ni, p, nt, tp, npr, nd, ndn, nb, nbn in summary:
    out.append(f"| {ns} | {n} | {ni} | {p:.1f}% | {nt} | {tp:.1f}% | {npr} | {nd} | {ndn} | "
               f"{nb} | {nbn} |")
  out += ["", *[s + "\n" for s in sections]]
  os.makedirs(os.path.dirname(opts.out), exist_ok=True)
  with open(opts.out, "w") as f:
    f.write("\n".join(out))
  for row in summary:
    print(f"{row[0]:22s} {row[2]:4d}/{row[1]:<4d} {row[3]:6.1f}%  tested {row[5]:5.1f}%")


if __name__ == "__main__":
  main()
