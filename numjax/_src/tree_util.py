"""Pytrees: flattening nested containers into leaves and a hashable structure.

A treedef's structure is a nested tuple "spec" so that equality and hashing
run at C speed (tuple compare/hash) — jit compares treedefs on every call:

  leaf               -> None
  interior node      -> (kind, node_type, node_data, children_specs)

``kind`` is one of the small ints below, ``node_data`` is None for
None/tuple/list/namedtuple, the sorted key tuple for dict, the aux data for
custom nodes and the tuple of meta-field values for dataclass nodes.
The built-in containers are fast-pathed: one dict lookup on ``type(x)``
classifies a value (leaf types are cached there too).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Iterable, Sequence
import dataclasses
import difflib
import functools
from itertools import islice as _islice
import operator as op
import textwrap
from typing import Any, TypeVar

T = TypeVar("T")
Typ = TypeVar("Typ", bound=type[Any])
H = TypeVar("H", bound=Hashable)
Leaf = Any
PyTree = Any
KeyEntry = TypeVar("KeyEntry", bound=Any)
KeyLeafPair = tuple[KeyEntry, Any]
KeyLeafPairs = Iterable[KeyLeafPair]
KeyPath = tuple[KeyEntry, ...]

_LEAF, _NONE, _TUPLE, _LIST, _DICT, _NAMEDTUPLE, _CUSTOM, _DATACLASS = range(8)
_NoneType = type(None)
_NONE_SPEC = (_NONE, _NoneType, None, ())

# type -> kind, for every type seen so far (leaf types cached too, so the
# common case is a single dict lookup).  Registration overwrites entries.
_kinds: dict[type, int] = {tuple: _TUPLE, list: _LIST, dict: _DICT,
                           _NoneType: _NONE}
_kind_get = _kinds.get
_BUILTIN_NODES = frozenset(_kinds)
# type -> _NodeEntry for custom and dataclass nodes
_nodes: dict[type, _NodeEntry] = {}


def _classify(t: type) -> int:
  """Kind of an as yet unseen type: a namedtuple or a leaf."""
  k = _NAMEDTUPLE if issubclass(t, tuple) and hasattr(t, "_fields") else _LEAF
  if len(_kinds) < 100_000:  # guard against unbounded dynamic types
    _kinds[t] = k
  return k


class _NodeEntry:
  __slots__ = ("type", "kind", "flatten", "unflatten", "flatten_with_keys",
               "data_fields", "meta_fields")

  def __init__(self, typ, kind, flatten, unflatten, flatten_with_keys=None,
               data_fields=(), meta_fields=()):
    self.type, self.kind = typ, kind
    self.flatten, self.unflatten = flatten, unflatten
    self.flatten_with_keys = flatten_with_keys
    self.data_fields, self.meta_fields = tuple(data_fields), tuple(meta_fields)


# ----------------------------------------------------------------------------
# Key path entries


class _KeyEntryBase:
  """An immutable, hashable, picklable key holding one value; a subclass names the value
  (``__match_args__`` and a property) and formats it in ``str()`` with ``_fmt``."""
  __slots__ = ("_v",)
  _fmt: str = ""

  def __eq__(self, other):
    return type(other) is type(self) and other._v == self._v

  def __ne__(self, other):
    return not self.__eq__(other)

  def __hash__(self):
    return hash(self._v)

  def __reduce__(self):
    return type(self), (self._v,)

  def __repr__(self):
    return f"{type(self).__name__}({self.__match_args__[0]}={self._v!r})"

  def __str__(self):
    return self._fmt.format(self._v)


class SequenceKey(_KeyEntryBase):
  """Path entry for the ``idx``-th element of a list or tuple."""
  __slots__ = ()
  __match_args__ = ("idx",)
  _fmt = "[{!r}]"

  def __init__(self, idx: int):
    self._v = op.index(idx)

  idx = property(lambda self: self._v)


class DictKey(_KeyEntryBase):
  """Path entry for the value of a dict at ``key``."""
  __slots__ = ()
  __match_args__ = ("key",)
  _fmt = "[{!r}]"

  def __init__(self, key: Hashable):
    self._v = key

  key = property(lambda self: self._v)


class GetAttrKey(_KeyEntryBase):
  """Path entry for the attribute ``name`` (namedtuples, dataclasses)."""
  __slots__ = ()
  __match_args__ = ("name",)
  _fmt = ".{}"

  def __init__(self, name: str):
    self._v = str(name)

  name = property(lambda self: self._v)


class FlattenedIndexKey(_KeyEntryBase):
  """Path entry for the ``key``-th child of a custom node without keys."""
  __slots__ = ()
  __match_args__ = ("key",)
  _fmt = "[<flat index {}>]"

  def __init__(self, key: int):
    self._v = op.index(key)

  key = property(lambda self: self._v)


def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
  """Pretty-prints a key path, e.g. ``"['foo'][0].x"`` (``"foo/0/x"`` with
  ``simple=True, separator='/'``)."""
  return separator.join(map(_simple_entrystr if simple else str, keys))


def _simple_entrystr(key) -> str:
  if isinstance(key, _KeyEntryBase):
    return str(key._v)
  return str(key)


# ----------------------------------------------------------------------------
# Flattening one node


def _custom_children(entry: _NodeEntry, x):
  """Calls a custom node's flatten function and validates its result."""
  out = entry.flatten(x)
  if type(out) is not tuple or len(out) != 2:
    raise ValueError("The to_iterable function for a custom PyTree node should "
                     f"return a (children, aux_data) tuple, got {out!r}")
  try:
    children = tuple(out[0])
  except TypeError:
    raise ValueError(
        "The to_iterable function for a custom PyTree node should return a "
        "(children, aux_data) tuple where 'children' is iterable, got "
        f"{out!r}") from None
  return children, out[1]


def _dataclass_split(entry: _NodeEntry, x):
  data = tuple([getattr(x, n) for n in entry.data_fields])
  meta = tuple([getattr(x, n) for n in entry.meta_fields])
  return data, meta


def _sorted_keys(d) -> list:
  try:
    return sorted(d)
  except TypeError:
    raise ValueError("Comparator raised exception while sorting pytree "
                     "dictionary keys.") from None


def _kind_of(x) -> int:
  t = type(x)
  k = _kind_get(t)
  return _classify(t) if k is None else k


def _one_level(x, k):
  """(node_type, node_data, children) of a non-leaf ``x`` of kind ``k``."""
  t = type(x)
  if k == _DICT:
    keys = _sorted_keys(x)
    return dict, tuple(keys), tuple([x[key] for key in keys])
  if k == _TUPLE or k == _LIST or k == _NAMEDTUPLE:
    return t, None, tuple(x)
  if k == _NONE:
    return _NoneType, None, ()
  entry = _nodes[t]
  if k == _CUSTOM:
    children, aux = _custom_children(entry, x)
    return t, aux, children
  children, meta = _dataclass_split(entry, x)
  return t, meta, children


def _one_level_keys(x, k):
  """Like _one_level, plus the key entries of the children."""
  t = type(x)
  if k == _DICT:
    keys = _sorted_keys(x)
    return (dict, tuple(keys), tuple([x[key] for key in keys]),
            [DictKey(key) for key in keys])
  if k == _TUPLE or k == _LIST:
    return t, None, tuple(x), [SequenceKey(i) for i in range(len(x))]
  if k == _NAMEDTUPLE:
    return t, None, tuple(x), [GetAttrKey(f) for f in t._fields]
  if k == _NONE:
    return _NoneType, None, (), []
  entry = _nodes[t]
  if k == _DATACLASS:
    children, meta = _dataclass_split(entry, x)
    return t, meta, children, [GetAttrKey(n) for n in entry.data_fields]
  if entry.flatten_with_keys is None:
    children, aux = _custom_children(entry, x)
    return t, aux, children, [FlattenedIndexKey(i) for i in range(len(children))]
  out = entry.flatten_with_keys(x)
  pairs, aux = out
  pairs = tuple(pairs)
  return (t, aux, tuple([c for _, c in pairs]), [key for key, _ in pairs])


# ----------------------------------------------------------------------------
# Flattening whole trees


def _flatten(x, leaves):
  """Appends x's leaves to ``leaves`` and returns x's spec (fast path)."""
  t = type(x)
  k = _kind_get(t)
  if k is None:
    k = _classify(t)
  if k == _LEAF:
    leaves.append(x)
    return None
  if k == _DICT:
    data = tuple(_sorted_keys(x))
    seq = map(x.__getitem__, data)
  elif k == _TUPLE or k == _LIST or k == _NAMEDTUPLE:
    data, seq = None, x
  elif k == _NONE:
    return _NONE_SPEC
  elif k == _CUSTOM:
    seq, data = _custom_children(_nodes[t], x)
  else:
    seq, data = _dataclass_split(_nodes[t], x)
  children = []
  for c in seq:
    if _kind_get(type(c)) == _LEAF:  # inlined leaf case: most children
      leaves.append(c)
      children.append(None)
    else:
      children.append(_flatten(c, leaves))
  return (k, t, data, tuple(children))


def _leaves_into(x, leaves):
  """Like _flatten, without building the spec."""
  t = type(x)
  k = _kind_get(t)
  if k is None:
    k = _classify(t)
  if k == _LEAF:
    leaves.append(x)
    return
  if k == _DICT:
    seq = map(x.__getitem__, _sorted_keys(x))
  elif k == _TUPLE or k == _LIST or k == _NAMEDTUPLE:
    seq = x
  elif k == _NONE:
    return
  elif k == _CUSTOM:
    seq = _custom_children(_nodes[t], x)[0]
  else:
    seq = _dataclass_split(_nodes[t], x)[0]
  for c in seq:
    if _kind_get(type(c)) == _LEAF:
      leaves.append(c)
    else:
      _leaves_into(c, leaves)


def _flatten_pred(x, leaves, is_leaf):
  """Flatten with a user predicate, called on every node pre-order."""
  if is_leaf(x):
    leaves.append(x)
    return None
  k = _kind_of(x)
  if k == _LEAF:
    leaves.append(x)
    return None
  if k == _NONE:
    return _NONE_SPEC
  t, data, seq = _one_level(x, k)
  return (k, t, data, tuple([_flatten_pred(c, leaves, is_leaf) for c in seq]))


def _flatten_path(x, path, out, is_leaf):
  """Flatten collecting (key path, leaf) pairs; is_leaf takes (path, x)."""
  if is_leaf is not None and is_leaf(path, x):
    out.append((path, x))
    return None
  k = _kind_of(x)
  if k == _LEAF:
    out.append((path, x))
    return None
  if k == _NONE:
    return _NONE_SPEC
  t, data, seq, keys = _one_level_keys(x, k)
  return (k, t, data, tuple([_flatten_path(c, (*path, key), out, is_leaf)
                             for key, c in zip(keys, seq)]))


# ----------------------------------------------------------------------------
# Building trees from specs


def _make_node(k, t, data, vals):
  """The node of kind k built from its children ``vals`` (a list)."""
  if k == _DICT:
    return dict(zip(data, vals))
  if k == _TUPLE:
    return tuple(vals)
  if k == _LIST:
    return vals
  if k == _NONE:
    return None
  if k == _NAMEDTUPLE:
    return t(*vals)
  entry = _nodes[t]
  if k == _CUSTOM:
    return entry.unflatten(data, tuple(vals))
  return t(**dict(zip(entry.meta_fields, data)),
           **dict(zip(entry.data_fields, vals)))


def _build(spec, it):
  k, t, data, children = spec
  n = len(children)
  if children.count(None) == n:  # all leaves (the common case): C-level take
    vals = list(_islice(it, n))
  else:
    nxt = it.__next__
    vals = [nxt() if c is None else _build(c, it) for c in children]
  if k == _DICT:
    return dict(zip(data, vals))
  if k == _TUPLE:
    return tuple(vals)
  if k == _LIST:
    return vals
  return _make_node(k, t, data, vals)


def _count_leaves(spec) -> int:
  if spec is None:
    return 1
  return sum([1 if c is None else _count_leaves(c) for c in spec[3]])


def _count_nodes(spec) -> int:
  if spec is None:
    return 1
  return 1 + sum([_count_nodes(c) for c in spec[3]])


def _structure_hash(spec):
  """Hash ignoring node data, for treedefs with unhashable aux data."""
  if spec is None:
    return 0
  return hash((spec[0], spec[1], tuple(map(_structure_hash, spec[3]))))


_NONE_PREFIX_MSG = (
    "\n\nIn previous releases of JAX, flatten-up-to used to consider None to "
    "be a tree-prefix of non-None values. To obtain the previous behavior, you "
    "can usually write:\n  jax.tree.map(lambda x, y: None if x is None else "
    "f(x, y), a, b, is_leaf=lambda x: x is None)")


def _flatten_up_to(spec, x, out):
  if spec is None:
    out.append(x)
    return
  k, t, data, children = spec
  n = len(children)
  if k == _TUPLE or k == _LIST:
    name = "Tuple" if k == _TUPLE else "List"
    if type(x) is not t:
      raise ValueError(f"Expected {t.__name__}, got {x!r}.")
    if len(x) != n:
      raise ValueError(f"{name} arity mismatch: {len(x)} != {n}; "
                       f"{t.__name__}: {x!r}.")
    seq = x
  elif k == _DICT:
    if type(x) is not dict:
      raise ValueError(f"Expected dict, got {x!r}.")
    keys = _sorted_keys(x)
    if tuple(keys) != data:
      raise ValueError(f"Dict key mismatch; expected keys: {list(data)}; "
                       f"present keys: {keys}.")
    seq = [x[key] for key in keys]
  elif k == _NONE:
    if x is not None:
      raise ValueError(f"Expected None, got {x!r}.{_NONE_PREFIX_MSG}")
    return
  elif k == _NAMEDTUPLE:
    if _kind_of(x) != _NAMEDTUPLE:
      raise ValueError(f"Expected named tuple, got {x!r}.")
    if len(x) != n:
      raise ValueError(f"Named tuple arity mismatch: {len(x)} != {n}; "
                       f"tuple: {x!r}.")
    if type(x) is not t:
      raise ValueError(f"Named tuple type mismatch: expected type: {t!r}, "
                       f"tuple: {x!r}.")
    seq = x
  else:
    what = "custom" if k == _CUSTOM else "custom dataclass"
    if type(x) is not t:
      raise ValueError(f"{what.capitalize()} node type mismatch: expected "
                       f"type: {t!r}, value: {x!r}.")
    if k == _CUSTOM:
      seq, aux = _custom_children(_nodes[t], x)
    else:
      seq, aux = _dataclass_split(_nodes[t], x)
    if aux != data:
      raise ValueError(f"Mismatch {what} node data: {data!r} != {aux!r}; "
                       f"value: {x!r}.")
    if len(seq) != n:
      raise ValueError(f"Custom type arity mismatch: {len(seq)} != {n}; "
                       f"value: {x!r}.")
  for c, v in zip(children, seq):
    if c is None:
      out.append(v)
    else:
      _flatten_up_to(c, v, out)


def _spec_repr(spec) -> str:
  if spec is None:
    return "*"
  k, t, data, children = spec
  parts = [_spec_repr(c) for c in children]
  if k == _TUPLE:
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
  if k == _LIST:
    return f"[{', '.join(parts)}]"
  if k == _DICT:
    return "{" + ", ".join(f"{key!r}: {p}" for key, p in zip(data, parts)) + "}"
  if k == _NONE:
    return "None"
  head = f"namedtuple[{t.__name__}]" if k == _NAMEDTUPLE else f"{t.__name__}[{data}]"
  return f"CustomNode({head}, [{', '.join(parts)}])"


# ----------------------------------------------------------------------------
# PyTreeDef


class PyTreeDef:
  """The structure of a pytree: hashable, comparable and picklable.

  Built by tree_flatten/tree_structure; ``num_leaves`` is a plain attribute.
  """
  __slots__ = ("_spec", "num_leaves", "_hash")

  def __init__(self, spec, num_leaves: int):
    self._spec = spec
    self.num_leaves = num_leaves
    self._hash = None

  @property
  def num_nodes(self) -> int:
    return _count_nodes(self._spec)

  def __eq__(self, other):
    if self is other:
      return True
    if type(other) is not PyTreeDef:
      return False
    return self._spec == other._spec

  def __ne__(self, other):
    return not self.__eq__(other)

  def __hash__(self):
    h = self._hash
    if h is None:
      try:
        h = hash(self._spec)
      except TypeError:  # unhashable custom aux data: hash the shape only
        h = _structure_hash(self._spec)
      self._hash = h
    return h

  def __repr__(self):
    return f"PyTreeDef({_spec_repr(self._spec)})"

  def __reduce__(self):
    return PyTreeDef, (self._spec, self.num_leaves)

  def unflatten(self, leaves: Iterable[Any]) -> Any:
    """Builds the pytree with this structure from an iterable of leaves."""
    if type(leaves) is not list and type(leaves) is not tuple:
      leaves = list(leaves)
    n = self.num_leaves
    if len(leaves) != n:
      if len(leaves) < n:
        raise ValueError(f"Too few leaves for PyTreeDef; expected {n}, "
                         f"got {len(leaves)}")
      raise ValueError(f"Too many leaves for PyTreeDef; expected {n}.")
    spec = self._spec
    if spec is None:
      return leaves[0]
    return _build(spec, iter(leaves))

  def flatten_up_to(self, xs: Any) -> list[Any]:
    """Flattens ``xs`` up to this structure: its subtrees at our leaves."""
    if self._spec is None:
      return [xs]
    out = []
    _flatten_up_to(self._spec, xs, out)
    return out

  def children(self) -> list[PyTreeDef]:
    if self._spec is None:
      return []
    return [_LEAF_TREEDEF if c is None else PyTreeDef(c, _count_leaves(c))
            for c in self._spec[3]]

  def node_data(self):
    """``(node_type, node_data)`` of the root, None for a leaf."""
    spec = self._spec
    if spec is None:
      return None
    k, t, data, _ = spec
    return (t, list(data)) if k == _DICT else (t, data)

  def is_leaf(self) -> bool:
    return self._spec is None

  def compose(self, inner: PyTreeDef) -> PyTreeDef:
    """The structure of this tree with every leaf replaced by ``inner``."""
    ispec = inner._spec

    def sub(spec):
      if spec is None:
        return ispec
      k, t, data, children = spec
      return (k, t, data, tuple(map(sub, children)))
    return PyTreeDef(sub(self._spec), self.num_leaves * inner.num_leaves)

  def walk(self, f_node: Callable[[Any, Any], Any],
           f_leaf: Callable[[Any], Any] | None, leaves: Iterable[Any]) -> Any:
    """Maps bottom-up: ``f_leaf(leaf)`` at leaves, ``f_node(children,
    node_data)`` at interior nodes."""
    nxt = iter(leaves).__next__

    def go(spec):
      if spec is None:
        x = nxt()
        return x if f_leaf is None else f_leaf(x)
      k, t, data, children = spec
      vals = tuple([go(c) for c in children])
      if k == _DICT:
        data = list(data)
      elif k == _NAMEDTUPLE:
        data = t
      return f_node(vals, data)
    return go(self._spec)

  def from_iterable_tree(self, xs: Any) -> Any:
    """Builds a tree of this structure from nested iterables of children."""
    def go(spec, x):
      if spec is None:
        return x
      k, t, data, children = spec
      items = list(x)
      if len(items) != len(children):
        raise ValueError("Arity mismatch between trees")
      return _make_node(k, t, data, [go(c, i) for c, i in zip(children, items)])
    return go(self._spec, xs)

  @staticmethod
  def from_node_data_and_children(registry, node_data, children) -> PyTreeDef:
    """Inverse of node_data()/children(); ``registry`` is accepted for JAX
    compatibility (numjax has one registry)."""
    children = list(children)
    if node_data is None:
      return _LEAF_TREEDEF
    t, data = node_data
    k = _kind_get(t)
    if k is None and isinstance(t, type):
      k = _classify(t)
    if k is None or k == _LEAF:
      raise RuntimeError(f"Could not find type: {t!r}.")
    if k == _DICT:
      data = tuple(data)
    spec = (k, t, data, tuple(c._spec for c in children))
    return PyTreeDef(spec, sum(c.num_leaves for c in children))


_LEAF_TREEDEF = PyTreeDef(None, 1)


# ----------------------------------------------------------------------------
# Registry


def _check_new(nodetype, what="custom"):
  if nodetype in _nodes or nodetype in _BUILTIN_NODES:
    raise ValueError(f"Duplicate {what} PyTreeDef type registration for "
                     f"{nodetype!r}.")


class PyTreeRegistry:
  """The pytree node registry; numjax has a single one, ``default_registry``."""

  def flatten(self, tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)

  def flatten_one_level(self, tree):
    k = _kind_of(tree)
    if k == _LEAF:
      return None
    if k == _CUSTOM:  # the user's children, as returned
      out = _nodes[type(tree)].flatten(tree)
      return out[0], out[1]
    t, data, children = _one_level(tree, k)
    if k == _NAMEDTUPLE:
      return list(children), t
    if k in (_TUPLE, _LIST):
      return tree, None
    return (list(children) if k == _DATACLASS else children), data

  def flatten_one_level_with_keys(self, tree):
    k = _kind_of(tree)
    if k == _LEAF:
      return None
    t, data, children, keys = _one_level_keys(tree, k)
    pairs = tuple(zip(keys, children))
    if k == _NAMEDTUPLE:
      return list(pairs), t
    return (list(pairs) if k >= _CUSTOM else pairs), data

  def flatten_with_path(self, tree, is_leaf=None):
    out = []
    spec = _flatten_path(tree, (), out, is_leaf)
    return out, PyTreeDef(spec, len(out))

  def is_node(self, typ) -> bool:
    k = _kind_get(typ)
    if k is None:
      k = _classify(typ)
    return k != _LEAF

  def register_node(self, nodetype, flatten_func, unflatten_func,
                    flatten_with_keys_func=None):
    _check_new(nodetype)
    _nodes[nodetype] = _NodeEntry(nodetype, _CUSTOM, flatten_func,
                                  unflatten_func, flatten_with_keys_func)
    _kinds[nodetype] = _CUSTOM

  def register_dataclass_node(self, nodetype, data_fields, meta_fields):
    _check_new(nodetype, "custom dataclass")
    _nodes[nodetype] = _NodeEntry(nodetype, _DATACLASS, None, None, None,
                                  data_fields, meta_fields)
    _kinds[nodetype] = _DATACLASS


default_registry = PyTreeRegistry()


# ----------------------------------------------------------------------------
# Public API


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                 ) -> tuple[list[Leaf], PyTreeDef]:
  """Flattens a pytree into its leaves and its structure (a PyTreeDef).

  ``is_leaf(x)`` is called on every node, root first; True stops the descent.
  """
  if is_leaf is None:
    if _kind_get(type(tree)) == _LEAF:
      return [tree], _LEAF_TREEDEF
    leaves = []
    spec = _flatten(tree, leaves)
  else:
    leaves = []
    spec = _flatten_pred(tree, leaves, is_leaf)
  if spec is None:
    return leaves, _LEAF_TREEDEF
  return leaves, PyTreeDef(spec, len(leaves))


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Leaf]) -> Any:
  """Builds a pytree of structure ``treedef`` from its leaves."""
  return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                ) -> list[Leaf]:
  """The leaves of a pytree, in flattening order."""
  leaves = []
  if is_leaf is None:
    _leaves_into(tree, leaves)
  else:
    _flatten_pred(tree, leaves, is_leaf)
  return leaves


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                   ) -> PyTreeDef:
  """The PyTreeDef of a pytree."""
  return tree_flatten(tree, is_leaf)[1]


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
  """The treedef of a tuple whose children have the given treedefs."""
  treedefs = list(treedefs)
  return PyTreeDef((_TUPLE, tuple, None, tuple(t._spec for t in treedefs)),
                   sum(t.num_leaves for t in treedefs))


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
  """The treedefs of the root's immediate children."""
  return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
  """True if the treedef has a single node (a leaf, None or an empty node)."""
  return treedef._spec is None or not treedef._spec[3]


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
  return treedef._spec is None


def all_leaves(iterable: Iterable[Any],
               is_leaf: Callable[[Any], bool] | None = None) -> bool:
  """True if every element of ``iterable`` is a leaf."""
  if is_leaf is None:
    return all(_kind_of(x) == _LEAF for x in iterable)
  items = list(iterable)
  leaves = tree_leaves(items, is_leaf)
  return len(leaves) == len(items) and all(
      a is b for a, b in zip(items, leaves))


def is_tree_node(typ: type) -> bool:
  """True if ``typ`` is a pytree node type (built-in, namedtuple or registered)."""
  return default_registry.is_node(typ)


def build_tree(treedef: PyTreeDef, xs: Any) -> Any:
  """Builds a tree of structure ``treedef`` from nested iterables ``xs``
  (removed from JAX's public API; kept for older code)."""
  return treedef.from_iterable_tree(xs)


def flatten_one_level(tree: Any) -> tuple[Iterable[Any], Hashable]:
  """Flattens one level: ``(children, node metadata)``."""
  out = default_registry.flatten_one_level(tree)
  if out is None:
    raise ValueError(f"can't tree-flatten type: {type(tree)}")
  return out


def flatten_one_level_with_keys(tree: Any
                                ) -> tuple[Iterable[KeyLeafPair], Hashable]:
  """Flattens one level with keys: ``((key, child) pairs, node metadata)``."""
  out = default_registry.flatten_one_level_with_keys(tree)
  if out is None:
    raise ValueError(f"can't tree-flatten type: {type(tree)}")
  return out


def register_pytree_node(nodetype: type[T],
                         flatten_func: Callable[[T], tuple[Iterable, Any]],
                         unflatten_func: Callable[[Any, Iterable], T],
                         flatten_with_keys_func=None) -> None:
  """Registers ``nodetype`` as a pytree node.

  ``flatten_func(x) -> (children, aux_data)`` (aux hashable, static) and
  ``unflatten_func(aux_data, children) -> x``.
  """
  default_registry.register_node(nodetype, flatten_func, unflatten_func,
                                 flatten_with_keys_func)


def register_pytree_node_class(cls: Typ) -> Typ:
  """Class decorator: registers ``cls`` via its ``tree_flatten`` method and
  ``tree_unflatten`` classmethod."""
  register_pytree_node(cls, op.methodcaller("tree_flatten"), cls.tree_unflatten)
  return cls


def register_pytree_with_keys(nodetype: type[T], flatten_with_keys,
                              unflatten_func, flatten_func=None):
  """Registers a node whose ``flatten_with_keys(x) -> (((key, child), ...),
  aux)`` names its children for key paths."""
  if not flatten_func:
    def flatten_func(tree):
      pairs, aux = flatten_with_keys(tree)
      return [c for _, c in pairs], aux
  register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_with_keys_class(cls: Typ) -> Typ:
  """Class decorator: registers ``cls`` via ``tree_flatten_with_keys`` (and
  ``tree_flatten`` if defined) and ``tree_unflatten``."""
  flatten = op.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None
  register_pytree_with_keys(cls, op.methodcaller("tree_flatten_with_keys"),
                            cls.tree_unflatten, flatten)
  return cls


def register_dataclass(nodetype: Typ, data_fields: Sequence[str] | None = None,
                       meta_fields: Sequence[str] | None = None,
                       drop_fields: Sequence[str] = ()) -> Typ:
  """Registers a dataclass-like type: ``data_fields`` are children,
  ``meta_fields`` static node data; unflatten calls ``nodetype(**fields)``.

  For a dataclass both may be omitted: fields are data unless declared with
  ``field(metadata=dict(static=True))``.
  """
  if data_fields is None or meta_fields is None:
    if (data_fields is None) != (meta_fields is None):
      raise TypeError("register_dataclass: data_fields and meta_fields must "
                      "both be specified when either is specified. Got "
                      f"{data_fields=} {meta_fields=}.")
    if not dataclasses.is_dataclass(nodetype):
      raise TypeError("register_dataclass: data_fields and meta_fields are "
                      "required when nodetype is not a dataclass. Got "
                      f"{nodetype=}.")
    fields = dataclasses.fields(nodetype)
    data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
    meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
  data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
  if dataclasses.is_dataclass(nodetype):
    init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init}
    init_fields.difference_update(drop_fields)
    given = {*meta_fields, *data_fields}
    if given != init_fields:
      msg = ("data_fields and meta_fields must include all dataclass fields "
             "with ``init=True`` and only them.")
      if missing := init_fields - given:
        msg += (f" Missing fields: {missing}. Add them to drop_fields to "
                "suppress this error.")
      if unexpected := given - init_fields:
        msg += f" Unexpected fields: {unexpected}."
      raise ValueError(msg)
  if overlap := set(data_fields) & set(meta_fields):
    raise ValueError("data_fields and meta_fields must not overlap. "
                     f"Overlapping fields: {overlap}.")
  default_registry.register_dataclass_node(nodetype, data_fields, meta_fields)
  return nodetype


def register_static(cls: type[H]) -> type[H]:
  """Registers ``cls`` (hashable) as a pytree with no leaves: instances are
  static node data, e.g. for jit."""
  register_pytree_with_keys(cls, lambda obj: ((), obj), lambda obj, _: obj)
  return cls


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
  """Maps ``f`` over the leaves of ``tree`` (and the corresponding subtrees
  of ``rest``, which must have ``tree``'s structure as a prefix)."""
  leaves, treedef = tree_flatten(tree, is_leaf)
  if not rest:
    return treedef.unflatten([f(x) for x in leaves])
  all_leaves = [leaves, *_flatten_rest(treedef, tree, rest, is_leaf, "tree_map tree")]
  return treedef.unflatten([f(*xs) for xs in zip(*all_leaves)])


def _flatten_rest(treedef, tree, rest, is_leaf, what):
  """The leaves of each of ``rest`` flattened up to ``treedef`` (``tree``'s structure);
  a mismatch raises the error that names where ``tree`` and that tree differ."""
  out = []
  for r in rest:
    try:
      out.append(treedef.flatten_up_to(r))
    except Exception as e:
      err = next(_prefix_error((), tree, r, is_leaf), None)
      raise (err(what) if err is not None else e) from None
  return out


class Unspecified:
  """Sentinel for "no initializer/identity given"."""

  def __repr__(self):
    return "Unspecified()"


_Unspecified = Unspecified()


def tree_reduce(function: Callable[[T, Any], T], tree: Any,
                initializer: Any = _Unspecified, is_leaf=None) -> T:
  """``functools.reduce`` over the leaves."""
  if isinstance(initializer, Unspecified):
    return functools.reduce(function, tree_leaves(tree, is_leaf))
  return functools.reduce(function, tree_leaves(tree, is_leaf), initializer)


def _parallel_reduce(seq, operation, identity):
  if not seq:
    if isinstance(identity, Unspecified):
      raise TypeError("Must specify identity for parallel reduction of empty "
                      "sequence.")
    return identity
  if len(seq) == 1:
    return seq[0]
  mid = len(seq) // 2
  return operation(_parallel_reduce(seq[:mid], operation, identity),
                   _parallel_reduce(seq[mid:], operation, identity))


def tree_reduce_associative(operation: Callable[[T, T], T], tree: Any, *,
                            identity: Any = _Unspecified, is_leaf=None) -> T:
  """Reduces the leaves with an associative ``operation`` as a balanced tree."""
  return _parallel_reduce(tree_leaves(tree, is_leaf), operation, identity)


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
  """``all()`` over the leaves."""
  return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None,
                   pytree_to_transpose: Any) -> Any:
  """Turns an outer tree of inner trees into an inner tree of outer trees."""
  flat, treedef = tree_flatten(pytree_to_transpose)
  if inner_treedef is None:
    inner_treedef = tree_structure(
        outer_treedef.flatten_up_to(pytree_to_transpose)[0])
  inner_size, outer_size = inner_treedef.num_leaves, outer_treedef.num_leaves
  if treedef.num_leaves != inner_size * outer_size:
    expected = outer_treedef.compose(inner_treedef)
    raise TypeError(f"Mismatch\n{treedef}\n != \n{expected}")
  rows = [flat[i * inner_size:(i + 1) * inner_size] for i in range(outer_size)]
  subtrees = [outer_treedef.unflatten(col) for col in zip(*rows)]
  if not rows:
    subtrees = [outer_treedef.unflatten([]) for _ in range(inner_size)]
  return inner_treedef.unflatten(subtrees)


def tree_broadcast(prefix_tree: Any, full_tree: Any, is_leaf=None) -> Any:
  """Broadcasts ``prefix_tree``'s leaves over the matching subtrees of
  ``full_tree``, returning a tree of ``full_tree``'s structure."""
  leaves = broadcast_prefix(prefix_tree, full_tree, is_leaf=is_leaf)
  return tree_structure(full_tree).unflatten(leaves)


def broadcast_prefix(prefix_tree: Any, full_tree: Any, is_leaf=None) -> list:
  """The prefix leaves, each repeated once per leaf of its full subtree."""
  result = []

  def add(x, subtree):
    result.extend([x] * tree_structure(subtree).num_leaves)
  try:
    tree_map(add, prefix_tree, full_tree, is_leaf=is_leaf)
  except ValueError:
    e, *_ = prefix_errors(prefix_tree, full_tree)
    raise e("broadcast_prefix prefix_tree") from None
  return result


def tree_flatten_with_path(tree: Any, is_leaf: Callable[..., bool] | None = None,
                           is_leaf_takes_path: bool = False
                           ) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
  """Like tree_flatten, with each leaf paired with its key path."""
  pred = is_leaf
  if is_leaf is not None and not is_leaf_takes_path:
    pred = lambda _, x: is_leaf(x)
  return default_registry.flatten_with_path(tree, pred)


def tree_leaves_with_path(tree: Any, is_leaf: Callable[..., bool] | None = None,
                          is_leaf_takes_path: bool = False
                          ) -> list[tuple[KeyPath, Any]]:
  """The (key path, leaf) pairs of a pytree."""
  return tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


generate_key_paths = tree_leaves_with_path


def tree_map_with_path(f: Callable[..., Any], tree: Any, *rest: Any,
                       is_leaf: Callable[..., bool] | None = None,
                       is_leaf_takes_path: bool = False) -> Any:
  """Like tree_map, calling ``f(key_path, leaf, *rest_leaves)``."""
  pairs, treedef = tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)
  columns = [[p for p, _ in pairs], [x for _, x in pairs],
             *_flatten_rest(treedef, tree, rest, is_leaf, "tree_map_with_path tree")]
  return treedef.unflatten([f(*xs) for xs in zip(*columns)])


# ----------------------------------------------------------------------------
# Partial and the standard library's extra containers


class _HashableCallableShim:
  """Delegates call, hash and eq to ``fun`` (a functools.partial, whose own
  eq is identity) so that a Partial's func is usable as node data."""

  def __init__(self, fun):
    self.fun = fun

  def __call__(self, *args, **kw):
    return self.fun(*args, **kw)

  def __hash__(self):
    return hash(self.fun)

  def __eq__(self, other):
    if isinstance(other, _HashableCallableShim):
      return self.fun == other.fun
    return self.fun == other

  def __repr__(self):
    return f"_HashableCallableShim({self.fun!r})"


class Partial(functools.partial):
  """A functools.partial that is a pytree: ``func`` is static node data,
  ``args`` and ``keywords`` are children (so they may be traced)."""

  def __new__(klass, func, *args, **kw):
    if isinstance(func, functools.partial):
      original = func
      func = _HashableCallableShim(original)
      out = super().__new__(klass, func, *args, **kw)
      func.func, func.args = original.func, original.args
      func.keywords = original.keywords
      return out
    return super().__new__(klass, func, *args, **kw)


Partial.__module__ = "numjax.tree_util"
register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)

register_pytree_with_keys(
    collections.OrderedDict,
    lambda x: (tuple((DictKey(k), x[k]) for k in x), tuple(x)),
    lambda keys, values: collections.OrderedDict(zip(keys, values)),
)


def _defaultdict_flatten_with_keys(d):
  keys = tuple(_sorted_keys(d))
  return tuple((DictKey(k), d[k]) for k in keys), (d.default_factory, keys)


register_pytree_with_keys(
    collections.defaultdict,
    _defaultdict_flatten_with_keys,
    lambda s, values: collections.defaultdict(s[0], zip(s[1], values)),
)


# ----------------------------------------------------------------------------
# Structure-mismatch diagnostics


def _child_keys(tree) -> tuple:
  return tuple(k for k, _ in flatten_one_level_with_keys(tree)[0])


def _is_strict_leaf(tree, is_leaf=None) -> bool:
  if is_leaf is not None and is_leaf(tree):
    return True
  return _kind_of(tree) == _LEAF


def prefix_errors(prefix_tree: Any, full_tree: Any, is_leaf=None
                  ) -> list[Callable[[str], ValueError]]:
  """Error factories (``name -> ValueError``) describing why ``prefix_tree``
  is not a tree prefix of ``full_tree``."""
  return list(_prefix_error((), prefix_tree, full_tree, is_leaf))


def _prefix_error(key_path, prefix_tree, full_tree, is_leaf=None):
  if _is_strict_leaf(prefix_tree, is_leaf):
    return
  where = lambda name: f"    {name}{keystr(key_path)}\n"
  if type(prefix_tree) != type(full_tree):
    yield lambda name: ValueError(
        "pytree structure error: different types at key path\n" + where(name) +
        f"At that key path, the prefix pytree {name} has a subtree of type\n"
        f"    {type(prefix_tree)}\n"
        "but at the same key path the full pytree has a subtree of different "
        f"type\n    {type(full_tree)}.")
    return
  p_children, p_meta = flatten_one_level(prefix_tree)
  f_children, f_meta = flatten_one_level(full_tree)
  p_children, f_children = tuple(p_children), tuple(f_children)
  p_keys, f_keys = _child_keys(prefix_tree), _child_keys(full_tree)
  if isinstance(prefix_tree, (list, tuple)):
    if len(prefix_tree) != len(full_tree):
      ty = type(prefix_tree)
      yield lambda name: ValueError(
          f"pytree structure error: different lengths of {ty.__name__} at key "
          "path\n" + where(name) +
          f"At that key path, the prefix pytree {name} has a subtree of type "
          f"{ty.__name__} of length {len(prefix_tree)}, but the full pytree "
          "has a subtree of the same type but of length "
          f"{len(full_tree)}.")
      return
  elif len(p_children) != len(f_children):
    try:
      diff = set(p_keys).symmetric_difference(set(f_keys))
    except Exception:
      diff = None
    keys_str = lambda ks: " ".join(str(getattr(k, "_v", k)) for k in ks)
    yield lambda name: ValueError(
        "pytree structure error: different numbers of pytree children at key "
        "path\n" + where(name) +
        f"At that key path, the prefix pytree {name} has a subtree of type\n"
        f"    {type(prefix_tree)}\n"
        f"with {len(p_children)} child keys\n    {keys_str(p_keys)}\n"
        "but at the same key path the full pytree has a subtree of the same "
        f"type but with {len(f_children)} child keys\n    {keys_str(f_keys)}\n"
        + ("" if diff is None else "so the symmetric difference on key sets "
           f"is\n    {keys_str(diff)}"))
    return
  if p_meta != f_meta:
    p_str, f_str = str(p_meta), str(f_meta)
    meta_diff = textwrap.indent("\n".join(difflib.ndiff(
        p_str.splitlines(), f_str.splitlines())), prefix="    ")
    yield lambda name: ValueError(
        "pytree structure error: different pytree metadata at key path\n" +
        where(name) +
        f"At that key path, the prefix pytree {name} has a subtree of type\n"
        f"    {type(prefix_tree)}\nwith metadata\n    {p_str}\n"
        "but at the same key path the full pytree has a subtree of the same "
        f"type but with metadata\n    {f_str}\n"
        f"so the diff in the metadata at these pytree nodes is\n{meta_diff}")
    return
  for k, t1, t2 in zip(p_keys, p_children, f_children):
    yield from _prefix_error((*key_path, k), t1, t2)


def equality_errors(tree1: Any, tree2: Any, is_leaf=None
                    ) -> Iterable[tuple[KeyPath, str, str, str]]:
  """Yields ``(key_path, thing1, thing2, explanation)`` for each structural
  difference between two pytrees."""
  yield from _equality_errors((), tree1, tree2, is_leaf)


def equality_errors_pytreedef(tree1: PyTreeDef, tree2: PyTreeDef):
  """Like equality_errors, on two PyTreeDefs."""
  leaf = type("LeafMeta", (type,), dict(__repr__=lambda _: "pytree leaf")
              )("Leaf", (), {})()
  return equality_errors(tree1.unflatten([leaf] * tree1.num_leaves),
                         tree2.unflatten([leaf] * tree2.num_leaves))


def _equality_errors(path, t1, t2, is_leaf):
  if _is_strict_leaf(t1, is_leaf) and _is_strict_leaf(t2, is_leaf):
    return
  if type(t1) != type(t2):
    yield path, str(type(t1)), str(type(t2)), "their Python types differ"
    return
  if isinstance(t1, (list, tuple)) and len(t1) != len(t2):
    yield (path, f"{type(t1).__name__} of length {len(t1)}",
           f"{type(t2).__name__} of length {len(t2)}", "the lengths do not match")
    return
  c1, m1 = flatten_one_level(t1)
  c2, m2 = flatten_one_level(t2)
  c1, c2 = tuple(c1), tuple(c2)
  k1, k2 = _child_keys(t1), _child_keys(t2)
  if len(c1) != len(c2):
    try:
      diff = " ".join(repr(k.key) for k in set(k1).symmetric_difference(set(k2)))
    except Exception:
      diff = ""
    plural = lambda n: "ren" if n > 1 else ""
    yield (path, f"{type(t1)} with {len(c1)} child{plural(len(c1))}",
           f"{type(t2)} with {len(c2)} child{plural(len(c2))}",
           "the numbers of children do not match" +
           (diff and f", with the symmetric difference of key sets: {{{diff}}}"))
    return
  if m1 != m2:
    yield (path, f"{type(t1)} with pytree metadata {m1}",
           f"{type(t2)} with pytree metadata {m2}",
           "the pytree node metadata does not match")
    return
  for k, a, b in zip(k1, c1, c2):
    yield from _equality_errors((*path, k), a, b, is_leaf)


def static(**kwargs):
  """``dataclasses.field`` marked ``static`` for register_dataclass
  (``jax.tree.static``)."""
  metadata = {"static": True, **(kwargs.pop("metadata", None) or {})}
  return dataclasses.field(metadata=metadata, **kwargs)


def _replace_nones(sentinel: Any, tree: Any) -> Any:
  """``tree`` with every None subtree replaced by ``sentinel``."""
  if tree is None:
    return sentinel
  k = _kind_of(tree)
  if k == _LEAF:
    return tree
  t, data, children = _one_level(tree, k)
  return _make_node(k, t, data, [_replace_nones(sentinel, c) for c in children])


for _c in (SequenceKey, DictKey, GetAttrKey, FlattenedIndexKey, PyTreeDef,
           PyTreeRegistry):
  _c.__module__ = "numjax.tree_util"
del _c
