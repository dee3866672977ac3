"""Tests for numjax.tree_util / numjax.tree (JAX 0.10.2 pytree semantics).

Expected values are written out by hand from JAX's documented behaviour.
"""
import collections
import copy
import dataclasses
import functools
import pickle

import numpy as np
import pytest

import numjax.tree as jtree
import numjax.tree_util as tu
from numjax.tree_util import (
    DictKey, FlattenedIndexKey, GetAttrKey, Partial, PyTreeDef, SequenceKey)

Point = collections.namedtuple("Point", ["x", "y"])
Other = collections.namedtuple("Other", ["a", "b"])


class Box:
  """Custom node: children (a, b), aux data ``tag``."""

  def __init__(self, a, b, tag="t"):
    self.a, self.b, self.tag = a, b, tag

  def __eq__(self, other):
    return (type(other) is Box and (self.a, self.b, self.tag) ==
            (other.a, other.b, other.tag))

  def __repr__(self):
    return f"Box({self.a!r}, {self.b!r}, {self.tag!r})"


tu.register_pytree_node(Box, lambda b: ((b.a, b.b), b.tag),
                        lambda tag, ch: Box(ch[0], ch[1], tag))


@tu.register_pytree_node_class
class Pair:
  def __init__(self, first, second):
    self.first, self.second = first, second

  def tree_flatten(self):
    return (self.first, self.second), None

  @classmethod
  def tree_unflatten(cls, aux, children):
    return cls(*children)

  def __eq__(self, other):
    return type(other) is Pair and (self.first, self.second) == (
        other.first, other.second)


@tu.register_pytree_with_keys_class
class Named:
  def __init__(self, x, y):
    self.x, self.y = x, y

  def tree_flatten_with_keys(self):
    return ((GetAttrKey("x"), self.x), (GetAttrKey("y"), self.y)), "named"

  @classmethod
  def tree_unflatten(cls, aux, children):
    return cls(*children)


class KeyedBox:
  def __init__(self, items):
    self.items = items  # dict-like list of (name, value)


tu.register_pytree_with_keys(
    KeyedBox,
    lambda kb: ([(DictKey(k), v) for k, v in kb.items], tuple(k for k, _ in kb.items)),
    lambda names, vals: KeyedBox(list(zip(names, vals))))


@tu.register_dataclass
@dataclasses.dataclass
class Model:
  w: object
  b: object
  act: str = dataclasses.field(default="relu", metadata=dict(static=True))


@functools.partial(tu.register_dataclass, data_fields=["x"], meta_fields=["n"])
@dataclasses.dataclass
class Explicit:
  x: object
  n: int


@tu.register_dataclass
@dataclasses.dataclass
class WithTreeStatic:
  v: object
  mode: str = jtree.static(default="sum")


@tu.register_static
class Config:
  def __init__(self, name):
    self.name = name

  def __eq__(self, other):
    return type(other) is Config and other.name == self.name

  def __hash__(self):
    return hash(self.name)

  def __repr__(self):
    return f"Config({self.name})"


# ----------------------------------------------------------------------------
# flatten / unflatten round trips

a = np.arange(3.0)
ROUND_TRIPS = [
    # tree, expected leaves, expected treedef repr, num_nodes
    (1, [1], "PyTreeDef(*)", 1),
    (a, [a], "PyTreeDef(*)", 1),
    (None, [], "PyTreeDef(None)", 1),
    ((), [], "PyTreeDef(())", 1),
    ([], [], "PyTreeDef([])", 1),
    ({}, [], "PyTreeDef({})", 1),
    ((1,), [1], "PyTreeDef((*,))", 2),
    ((1, {"a": 2}), [1, 2], "PyTreeDef((*, {'a': *}))", 4),
    ([1, None], [1], "PyTreeDef([*, None])", 3),
    ({"b": 1, "a": (2, 3)}, [2, 3, 1], "PyTreeDef({'a': (*, *), 'b': *})", 5),
    ({1: "x", 0: "y"}, ["y", "x"], "PyTreeDef({0: *, 1: *})", 3),
    ([[]], [], "PyTreeDef([[]])", 2),
    ([(), [None], {}], [], "PyTreeDef([(), [None], {}])", 5),
    (Point(1, 2), [1, 2], "PyTreeDef(CustomNode(namedtuple[Point], [*, *]))", 3),
    (Point(1, Point(2, 3)), [1, 2, 3],
     "PyTreeDef(CustomNode(namedtuple[Point], [*, "
     "CustomNode(namedtuple[Point], [*, *])]))", 5),
    (collections.OrderedDict([("b", 1), ("a", 2)]), [1, 2],
     "PyTreeDef(CustomNode(OrderedDict[('b', 'a')], [*, *]))", 3),
    (Box(1, (2, 3)), [1, 2, 3], "PyTreeDef(CustomNode(Box[t], [*, (*, *)]))", 5),
    (Box(None, None, "q"), [], "PyTreeDef(CustomNode(Box[q], [None, None]))", 3),
    (Pair([1], 2), [1, 2], "PyTreeDef(CustomNode(Pair[None], [[*], *]))", 4),
    (Model(1, 2), [1, 2], "PyTreeDef(CustomNode(Model[('relu',)], [*, *]))", 3),
    (Explicit(5, 3), [5], "PyTreeDef(CustomNode(Explicit[(3,)], [*]))", 2),
    ([Config("c"), 4], [4], "PyTreeDef([CustomNode(Config[Config(c)], []), *])", 3),
    ("string", ["string"], "PyTreeDef(*)", 1),
    ({"x": {"y": [1, (2,)]}, "z": None}, [1, 2],
     "PyTreeDef({'x': {'y': [*, (*,)]}, 'z': None})", 7),
]


@pytest.mark.parametrize("tree,leaves,rep,num_nodes", ROUND_TRIPS,
                         ids=[r[2] for r in ROUND_TRIPS])
def test_round_trip(tree, leaves, rep, num_nodes):
  got_leaves, treedef = tu.tree_flatten(tree)
  assert len(got_leaves) == len(leaves)
  assert all(g is e or g == e for g, e in zip(got_leaves, leaves))
  assert repr(treedef) == rep and str(treedef) == rep
  assert treedef.num_leaves == len(leaves)
  assert treedef.num_nodes == num_nodes
  rebuilt = tu.tree_unflatten(treedef, got_leaves)
  assert type(rebuilt) is type(tree)
  assert tu.tree_structure(rebuilt) == treedef
  assert tu.tree_leaves(tree) == got_leaves if not isinstance(tree, np.ndarray) \
      else tu.tree_leaves(tree)[0] is tree


def test_leaves_keep_identity():
  x, y = np.ones(2), np.zeros(2)
  leaves = tu.tree_leaves({"p": [x, (y,)]})
  assert leaves[0] is x and leaves[1] is y


def test_dict_keys_sorted_on_flatten_and_unflatten():
  leaves, treedef = tu.tree_flatten({"b": 1, "c": 0, "a": 2})
  assert leaves == [2, 1, 0]
  out = treedef.unflatten([10, 20, 30])
  assert out == {"a": 10, "b": 20, "c": 30}
  assert list(out) == ["a", "b", "c"]
  # structures of dicts with different insertion order are equal
  assert tu.tree_structure({"a": 1, "b": 2}) == tu.tree_structure({"b": 1, "a": 2})


def test_ordereddict_keeps_order_and_defaultdict_keeps_factory():
  od = collections.OrderedDict([("z", 1), ("a", 2)])
  out = tu.tree_map(lambda v: v * 10, od)
  assert type(out) is collections.OrderedDict and list(out.items()) == [("z", 10), ("a", 20)]
  dd = collections.defaultdict(list, {"b": 1, "a": 2})
  leaves, treedef = tu.tree_flatten(dd)
  assert leaves == [2, 1]
  assert repr(treedef) == ("PyTreeDef(CustomNode(defaultdict[(<class 'list'>, "
                           "('a', 'b'))], [*, *]))")
  out = treedef.unflatten([3, 4])
  assert type(out) is collections.defaultdict and out.default_factory is list
  assert dict(out) == {"a": 3, "b": 4}


def test_namedtuple_subclass_is_node_but_list_and_dict_subclasses_are_leaves():
  class P2(Point):
    pass

  class L(list):
    pass

  class D(dict):
    pass
  assert repr(tu.tree_structure(P2(1, 2))) == \
      "PyTreeDef(CustomNode(namedtuple[P2], [*, *]))"
  assert tu.tree_leaves(L([1, 2])) == [[1, 2]]
  assert tu.tree_leaves(D(a=1)) == [{"a": 1}]
  out = tu.tree_map(lambda v: v + 1, P2(1, 2))
  assert type(out) is P2 and tuple(out) == (2, 3)


def test_unsortable_dict_keys():
  with pytest.raises(ValueError, match="Comparator raised exception while "
                     "sorting pytree dictionary keys"):
    tu.tree_flatten({1: 1, "a": 2})
  with pytest.raises(ValueError, match="Comparator"):
    tu.tree_leaves({1: 1, "a": 2})


def test_unflatten_accepts_iterables():
  treedef = tu.tree_structure((1, [2, 3]))
  assert treedef.unflatten(iter([4, 5, 6])) == (4, [5, 6])
  assert treedef.unflatten(x for x in "abc") == ("a", ["b", "c"])
  assert tu.tree_structure(None).unflatten([]) is None


# ----------------------------------------------------------------------------
# None and is_leaf


def test_none_is_empty_subtree():
  assert tu.tree_leaves([None, 1, (None,)]) == [1]
  assert tu.tree_map(lambda x: x + 1, [None, 1, {"a": None}]) == [None, 2, {"a": None}]
  assert tu.tree_leaves(None) == []


def test_is_leaf_makes_none_a_leaf():
  leaves, treedef = tu.tree_flatten([None, 1], is_leaf=lambda x: x is None)
  assert leaves == [None, 1]
  assert repr(treedef) == "PyTreeDef([*, *])"
  assert tu.tree_map(lambda x: x is None, [None, 1, (None,)],
                     is_leaf=lambda x: x is None) == [True, False, (True,)]


def test_is_leaf_stops_descent_and_sees_every_node_preorder():
  calls = []
  tree = [(1, None), {"a": 2}]
  leaves, treedef = tu.tree_flatten(tree, is_leaf=lambda x: calls.append(x) or False)
  assert leaves == [1, 2]
  assert calls == [tree, (1, None), 1, None, {"a": 2}, 2]
  leaves, treedef = tu.tree_flatten([(1, 2), (3,)],
                                    is_leaf=lambda x: isinstance(x, tuple) and len(x) == 2)
  assert leaves == [(1, 2), 3] and repr(treedef) == "PyTreeDef([*, (*,)])"
  leaves, treedef = tu.tree_flatten([1], is_leaf=lambda x: True)
  assert leaves == [[1]] and repr(treedef) == "PyTreeDef(*)"
  assert tu.tree_leaves({"a": (1, 2)}, is_leaf=lambda x: x == (1, 2)) == [(1, 2)]


# ----------------------------------------------------------------------------
# tree_map and friends


def test_tree_map_multiple_trees():
  assert tu.tree_map(lambda x, y, z: x + y + z, (1, [2]), (10, [20]), (100, [200])) \
      == (111, [222])
  # the extra trees may have subtrees where the first has leaves
  assert tu.tree_map(lambda x, y: (x, y), [1, 2], [(3, 4), {"k": 5}]) == \
      [(1, (3, 4)), (2, {"k": 5})]
  # ... including None at a leaf position
  assert tu.tree_map(lambda x, y: (x, y), [1, 2], [None, 3]) == [(1, None), (2, 3)]


def test_tree_map_structure_mismatch_errors():
  with pytest.raises(ValueError, match="different lengths of tuple at key path"):
    tu.tree_map(lambda x, y: x, (1, 2), (1, 2, 3))
  with pytest.raises(ValueError, match="different types at key path"):
    tu.tree_map(lambda x, y: x, (1, 2), [1, 2])
  with pytest.raises(ValueError, match=r"different lengths of list at key path\n"
                     r"    tree_map tree\[1\]"):
    tu.tree_map(lambda x, y: x, [1, [2]], [1, [2, 3]])
  with pytest.raises(ValueError, match="different pytree metadata"):
    tu.tree_map(lambda x, y: x, {"a": 1}, {"b": 1})
  with pytest.raises(ValueError, match=r"different types at key path\n"
                     r"    tree_map tree\[0\]"):
    tu.tree_map(lambda x, y: x, [None, 2], [1, 3])
  with pytest.raises(ValueError, match="different pytree metadata"):
    tu.tree_map(lambda x, y: x, Box(1, 2, "p"), Box(1, 2, "q"))
  with pytest.raises(ValueError, match=r"tree_map_with_path tree\['a'\]"):
    tu.tree_map_with_path(lambda p, x, y: x, {"a": [1, 2]}, {"a": [1]})


def test_tree_map_exact_message():
  with pytest.raises(ValueError) as e:
    tu.tree_map(lambda x, y: x, (1, 2), [1, 2])
  assert str(e.value) == (
      "pytree structure error: different types at key path\n"
      "    tree_map tree\n"
      "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
      "    <class 'tuple'>\n"
      "but at the same key path the full pytree has a subtree of different type\n"
      "    <class 'list'>.")


def test_tree_reduce_all_and_associative():
  assert tu.tree_reduce(lambda x, y: x + y, [1, (2, 3)]) == 6
  assert tu.tree_reduce(lambda x, y: x + y, [1, (2, 3)], 10) == 16
  assert tu.tree_reduce(lambda x, y: x + [y], [1, None, 2], []) == [1, 2]
  assert tu.tree_reduce(lambda x, y: x + y, [None, [1]], is_leaf=lambda x: x is None
                        and False) == 1
  with pytest.raises(TypeError):
    tu.tree_reduce(lambda x, y: x + y, [])
  assert tu.tree_reduce_associative(lambda x, y: f"({x}+{y})", [1, 2, 3, 4, 5]) == \
      "((1+2)+(3+(4+5)))"
  assert tu.tree_reduce_associative(lambda x, y: x + y, [], identity=0) == 0
  with pytest.raises(TypeError, match="Must specify identity"):
    tu.tree_reduce_associative(lambda x, y: x + y, [])
  assert tu.tree_all([1, (True, 2)]) is True
  assert tu.tree_all([1, (0,)]) is False
  assert tu.tree_all([]) is True and tu.tree_all(None) is True
  assert tu.tree_all([None, 1], is_leaf=lambda x: x is None) is False


def test_tree_transpose():
  outer = tu.tree_structure([0, 0])
  inner = tu.tree_structure((0, 0, 0))
  tree = [(1, 2, 3), (4, 5, 6)]
  expected = ([1, 4], [2, 5], [3, 6])
  assert tu.tree_transpose(outer, inner, tree) == expected
  assert tu.tree_transpose(outer, None, tree) == expected
  assert tu.tree_transpose(tu.tree_structure({"a": 0, "b": 0}), None,
                           {"a": (1, [2]), "b": (3, [4])}) == \
      ({"a": 1, "b": 3}, [{"a": 2, "b": 4}])
  with pytest.raises(TypeError, match="Mismatch"):
    tu.tree_transpose(outer, tu.tree_structure((0, 0)), tree)


def test_tree_broadcast():
  assert tu.tree_broadcast([1, 2], [(0, 0), {"a": 0, "b": [0, 0]}]) == \
      [(1, 1), {"a": 2, "b": [2, 2]}]
  with pytest.raises(ValueError, match="broadcast_prefix prefix_tree"):
    tu.tree_broadcast([1, 2, 3], [(0, 0), 0])


def test_all_leaves_and_is_tree_node():
  assert tu.all_leaves([1, 2, np.ones(2)])
  assert not tu.all_leaves([1, (2,)])
  assert not tu.all_leaves([None])
  assert tu.all_leaves([None], is_leaf=lambda x: x is None)
  for typ in (tuple, list, dict, type(None), Point, Box, Model, Config,
              collections.OrderedDict, collections.defaultdict, Partial):
    assert tu.is_tree_node(typ), typ
  for typ in (int, float, np.ndarray, str):
    assert not tu.is_tree_node(typ), typ


def test_flatten_one_level():
  assert tu.flatten_one_level({"b": 1, "a": [2]}) == (([2], 1), ("a", "b"))
  assert tu.flatten_one_level((1, 2)) == ((1, 2), None)
  assert tu.flatten_one_level(None) == ((), None)
  assert tu.flatten_one_level(Point(1, 2)) == ([1, 2], Point)
  assert tu.flatten_one_level(Box(1, 2)) == ((1, 2), "t")
  with pytest.raises(ValueError, match="can't tree-flatten type: <class 'int'>"):
    tu.flatten_one_level(1)
  assert tu.flatten_one_level_with_keys([5, 6]) == \
      (((SequenceKey(0), 5), (SequenceKey(1), 6)), None)
  assert tu.flatten_one_level_with_keys({"b": 1, "a": 2}) == \
      (((DictKey("a"), 2), (DictKey("b"), 1)), ("a", "b"))


# ----------------------------------------------------------------------------
# Custom nodes


def test_register_pytree_node_and_class():
  out = tu.tree_map(lambda v: v * 2, Box(1, [2], "k"))
  assert out == Box(2, [4], "k")
  assert tu.tree_structure(Box(1, 2, "k")) != tu.tree_structure(Box(1, 2, "j"))
  assert tu.tree_structure(Box(1, 2)) == tu.tree_structure(Box(3, 4))
  assert tu.tree_map(lambda v: -v, Pair(1, (2,))) == Pair(-1, (-2,))


def test_custom_unflatten_receives_tuple_children():
  seen = []

  class Spy:
    def __init__(self, *xs):
      self.xs = xs
  tu.register_pytree_node(Spy, lambda s: (list(s.xs), None),
                          lambda aux, ch: seen.append(ch) or Spy(*ch))
  tu.tree_map(lambda v: v, Spy(1, 2))
  assert seen == [(1, 2)]


def test_custom_flatten_generator_children():
  class Gen:
    pass
  tu.register_pytree_node(Gen, lambda g: ((i for i in range(3)), "g"),
                          lambda aux, ch: list(ch))
  leaves, treedef = tu.tree_flatten(Gen())
  assert leaves == [0, 1, 2]
  assert repr(treedef) == "PyTreeDef(CustomNode(Gen[g], [*, *, *]))"


def test_custom_flatten_bad_return():
  class Bad:
    pass
  tu.register_pytree_node(Bad, lambda b: 5, lambda aux, ch: None)
  with pytest.raises(ValueError, match=r"should return a \(children, aux_data\) tuple"):
    tu.tree_flatten(Bad())


def test_register_twice_raises():
  with pytest.raises(ValueError, match="Duplicate custom PyTreeDef type registration"):
    tu.register_pytree_node(Box, lambda b: ((), None), lambda a, c: None)
  for builtin in (tuple, list, dict, type(None)):
    with pytest.raises(ValueError, match="Duplicate"):
      tu.register_pytree_node(builtin, lambda b: ((), None), lambda a, c: None)
  with pytest.raises(ValueError, match="Duplicate custom dataclass PyTreeDef"):
    tu.register_dataclass(Explicit, data_fields=["x"], meta_fields=["n"])


def test_register_dataclass_inferred_fields():
  m = Model(np.ones(2), np.zeros(2), act="tanh")
  leaves, treedef = tu.tree_flatten(m)
  assert leaves[0] is m.w and leaves[1] is m.b
  assert repr(treedef) == "PyTreeDef(CustomNode(Model[('tanh',)], [*, *]))"
  assert treedef.node_data() == (Model, ("tanh",))
  out = tu.tree_map(lambda v: v + 1, m)
  assert type(out) is Model and out.act == "tanh"
  np.testing.assert_array_equal(out.w, [2.0, 2.0])
  assert tu.tree_structure(Model(1, 2, "a")) != tu.tree_structure(Model(1, 2, "b"))
  assert tu.tree_leaves(WithTreeStatic([1, 2], "max")) == [1, 2]
  assert tu.tree_structure(WithTreeStatic(1)).node_data() == (WithTreeStatic, ("sum",))


def test_register_dataclass_errors_and_drop_fields():
  @dataclasses.dataclass
  class DC:
    x: int
    y: int
    z: int = 0

  with pytest.raises(TypeError, match="must both be specified"):
    tu.register_dataclass(DC, data_fields=["x"])
  with pytest.raises(ValueError, match=r"Missing fields: \{'z'\}"):
    tu.register_dataclass(DC, data_fields=["x"], meta_fields=["y"])
  with pytest.raises(ValueError, match="Unexpected fields"):
    tu.register_dataclass(DC, data_fields=["x", "w"], meta_fields=["y", "z"])
  with pytest.raises(ValueError, match="must not overlap"):
    tu.register_dataclass(DC, data_fields=["x", "y", "z"], meta_fields=["x"])

  class NotDC:
    pass
  with pytest.raises(TypeError, match="required when nodetype is not a dataclass"):
    tu.register_dataclass(NotDC)
  tu.register_dataclass(DC, data_fields=["x"], meta_fields=["y"], drop_fields=["z"])
  out = tu.tree_map(lambda v: v * 2, DC(1, 2, 3))
  assert out == DC(2, 2, 0)  # dropped field takes its default


def test_register_dataclass_non_dataclass_with_fields():
  class Plain:
    def __init__(self, a, s):
      self.a, self.s = a, s
  tu.register_dataclass(Plain, data_fields=["a"], meta_fields=["s"])
  out = tu.tree_map(lambda v: v + 1, Plain(1, "m"))
  assert (out.a, out.s) == (2, "m")
  assert tu.tree_leaves_with_path(Plain(1, "m")) == [((GetAttrKey("a"),), 1)]


def test_register_static():
  leaves, treedef = tu.tree_flatten([Config("c"), 2])
  assert leaves == [2]
  out = tu.tree_map(lambda v: v + 1, [Config("c"), 2])
  assert out == [Config("c"), 3]
  assert tu.tree_structure(Config("c")) != tu.tree_structure(Config("d"))
  assert hash(tu.tree_structure(Config("c"))) == hash(tu.tree_structure(Config("c")))
  assert tu.tree_leaves_with_path([Config("c"), 2]) == [((SequenceKey(1),), 2)]


def test_unhashable_aux_data_still_hashable_treedef():
  class U:
    def __init__(self, a):
      self.a = a
  tu.register_pytree_node(U, lambda u: ((u.a,), [1, 2]), lambda aux, ch: U(*ch))
  t1, t2 = tu.tree_structure(U(1)), tu.tree_structure(U(5))
  assert t1 == t2 and hash(t1) == hash(t2)
  assert repr(t1) == "PyTreeDef(CustomNode(U[[1, 2]], [*]))"


# ----------------------------------------------------------------------------
# Partial


def test_partial_callable_and_pytree():
  def f(a, b, c=0):
    return a + b + c
  p = Partial(f, 1, c=5)
  assert isinstance(p, functools.partial)
  assert p(2) == 8
  leaves, treedef = tu.tree_flatten(p)
  assert leaves == [1, 5]
  assert repr(treedef) == f"PyTreeDef(CustomNode(Partial[{f}], [(*,), {{'c': *}}]))"
  q = tu.tree_map(lambda v: v * 10, p)
  assert type(q) is Partial and q.func is f and q.args == (10,) and q.keywords == {"c": 50}
  assert q(2) == 62
  assert tu.tree_structure(Partial(f, 1)) == tu.tree_structure(Partial(f, 2))
  assert tu.tree_structure(Partial(f, 1)) != tu.tree_structure(Partial(max, 1))
  assert tu.tree_leaves(Partial(f)) == []
  assert repr(tu.tree_structure(Partial(print))) == \
      "PyTreeDef(CustomNode(Partial[<built-in function print>], [(), {}]))"


def test_partial_of_partial_hides_inner_args():
  inner = functools.partial(lambda a, b, c: (a, b, c), 1)
  p = Partial(inner, 2)
  assert p(3) == (1, 2, 3)
  assert tu.tree_leaves(p) == [2]  # inner's bound 1 is part of the static func
  # the shim compares equal by the wrapped partial, so treedefs built twice match
  assert tu.tree_structure(p) == tu.tree_structure(tu.tree_map(lambda v: v, p))
  assert tu.tree_map(lambda v: v * 2, p)(3) == (1, 4, 3)


def test_partial_paths():
  p = Partial(max, 7, key=8)
  assert [(tu.keystr(path), v) for path, v in tu.tree_leaves_with_path(p)] == \
      [("[<flat index 0>][0]", 7), ("[<flat index 1>]['key']", 8)]


# ----------------------------------------------------------------------------
# Key paths


def test_key_classes():
  assert repr(SequenceKey(0)) == "SequenceKey(idx=0)" and str(SequenceKey(0)) == "[0]"
  assert repr(DictKey("a")) == "DictKey(key='a')" and str(DictKey("a")) == "['a']"
  assert str(DictKey(1)) == "[1]"
  assert repr(GetAttrKey("x")) == "GetAttrKey(name='x')" and str(GetAttrKey("x")) == ".x"
  assert repr(FlattenedIndexKey(3)) == "FlattenedIndexKey(key=3)"
  assert str(FlattenedIndexKey(3)) == "[<flat index 3>]"
  assert SequenceKey(2).idx == 2 and DictKey("k").key == "k"
  assert GetAttrKey("n").name == "n" and FlattenedIndexKey(1).key == 1
  assert SequenceKey(idx=0) == SequenceKey(0)
  assert SequenceKey(0) != FlattenedIndexKey(0) and DictKey("a") != "a"
  assert len({DictKey("a"), DictKey("a"), DictKey("b")}) == 2
  for k in (SequenceKey(1), DictKey(("t", 1)), GetAttrKey("x"), FlattenedIndexKey(0)):
    assert pickle.loads(pickle.dumps(k)) == k
    assert copy.deepcopy(k) == k
  with pytest.raises(AttributeError):
    DictKey("a").key = "b"
  with pytest.raises(TypeError):
    SequenceKey("a")


def test_key_match_args():
  def describe(k):
    match k:
      case SequenceKey(idx=i):
        return ("seq", i)
      case DictKey(key=key):
        return ("dict", key)
      case GetAttrKey(name):
        return ("attr", name)
      case FlattenedIndexKey(i):
        return ("flat", i)
  assert [describe(k) for k in (SequenceKey(1), DictKey("a"), GetAttrKey("x"),
                                FlattenedIndexKey(2))] == \
      [("seq", 1), ("dict", "a"), ("attr", "x"), ("flat", 2)]


def test_flatten_with_path_all_node_kinds():
  tree = {"foo": {"bar": {"baz": 1, "bat": [2, 3]}}, "nt": Point(4, (5,)),
          "box": Box(6, [7]), "n": None, "od": collections.OrderedDict(z=8),
          "m": Model(9, 10), "named": Named(11, 12)}
  pairs, treedef = tu.tree_flatten_with_path(tree)
  assert treedef == tu.tree_structure(tree)
  expected = [
      ((DictKey("box"), FlattenedIndexKey(0)), 6),
      ((DictKey("box"), FlattenedIndexKey(1), SequenceKey(0)), 7),
      ((DictKey("foo"), DictKey("bar"), DictKey("bat"), SequenceKey(0)), 2),
      ((DictKey("foo"), DictKey("bar"), DictKey("bat"), SequenceKey(1)), 3),
      ((DictKey("foo"), DictKey("bar"), DictKey("baz")), 1),
      ((DictKey("m"), GetAttrKey("w")), 9),
      ((DictKey("m"), GetAttrKey("b")), 10),
      ((DictKey("named"), GetAttrKey("x")), 11),
      ((DictKey("named"), GetAttrKey("y")), 12),
      ((DictKey("nt"), GetAttrKey("x")), 4),
      ((DictKey("nt"), GetAttrKey("y"), SequenceKey(0)), 5),
      ((DictKey("od"), DictKey("z")), 8),
  ]
  assert pairs == expected
  assert tu.tree_leaves_with_path(tree) == expected
  assert [x for _, x in pairs] == tu.tree_leaves(tree)


def test_keyed_custom_node_paths():
  kb = KeyedBox([("w", 1), ("v", [2])])
  assert tu.tree_leaves_with_path(kb) == [
      ((DictKey("w"),), 1), ((DictKey("v"), SequenceKey(0)), 2)]
  out = tu.tree_map(lambda v: v + 1, kb)
  assert out.items == [("w", 2), ("v", [3])]


def test_keystr():
  params = {"foo": {"bar": {"baz": 1, "bat": [2, 3]}}}
  paths = [p for p, _ in tu.tree_leaves_with_path(params)]
  assert [tu.keystr(p) for p in paths] == [
      "['foo']['bar']['bat'][0]", "['foo']['bar']['bat'][1]", "['foo']['bar']['baz']"]
  assert [tu.keystr(p, simple=True, separator="/") for p in paths] == [
      "foo/bar/bat/0", "foo/bar/bat/1", "foo/bar/baz"]
  assert tu.keystr((GetAttrKey("x"), FlattenedIndexKey(2)), simple=True,
                   separator=".") == "x.2"
  assert tu.keystr((GetAttrKey("x"), FlattenedIndexKey(2))) == ".x[<flat index 2>]"
  assert tu.keystr(("a", 1, DictKey("x"))) == "a1['x']"
  assert tu.keystr(()) == ""


def test_paths_with_is_leaf():
  assert tu.tree_flatten_with_path({"a": None, "b": 1})[0] == [((DictKey("b"),), 1)]
  assert tu.tree_leaves_with_path({"a": None, "b": 1}, is_leaf=lambda x: x is None) \
      == [((DictKey("a"),), None), ((DictKey("b"),), 1)]
  pairs, treedef = tu.tree_flatten_with_path(
      [(1, 2), (3, 4)], is_leaf=lambda p, x: len(p) == 1 and p[0].idx == 1,
      is_leaf_takes_path=True)
  assert pairs == [((SequenceKey(0), SequenceKey(0)), 1),
                   ((SequenceKey(0), SequenceKey(1)), 2),
                   ((SequenceKey(1),), (3, 4))]
  assert repr(treedef) == "PyTreeDef([(*, *), *])"
  assert tu.tree_flatten_with_path(5) == ([((), 5)], tu.tree_structure(5))


def test_tree_map_with_path():
  out = tu.tree_map_with_path(lambda p, x, y: (tu.keystr(p), x + y),
                              {"a": [1, 2]}, {"a": [10, 20]})
  assert out == {"a": [("['a'][0]", 11), ("['a'][1]", 22)]}


# ----------------------------------------------------------------------------
# PyTreeDef


def test_treedef_eq_hash():
  t1 = tu.tree_structure((1, {"a": 2}))
  t2 = tu.tree_structure((np.ones(3), {"a": "x"}))
  assert t1 == t2 and hash(t1) == hash(t2) and not (t1 != t2)
  assert len({t1, t2, tu.tree_structure([1])}) == 2
  assert tu.tree_structure((1,)) != tu.tree_structure([1])
  assert tu.tree_structure(Point(1, 2)) != tu.tree_structure((1, 2))
  assert tu.tree_structure(Point(1, 2)) != tu.tree_structure(Other(1, 2))
  same_name = collections.namedtuple("Point", ["x", "y"])
  assert tu.tree_structure(Point(1, 2)) != tu.tree_structure(same_name(1, 2))
  assert tu.tree_structure(None) != tu.tree_structure(())
  assert tu.tree_structure(None) != tu.tree_structure(1)
  assert tu.tree_structure({"a": 1}) != tu.tree_structure({"b": 1})
  assert not tu.tree_structure(1) == 1
  assert not tu.tree_structure(1) == "PyTreeDef(*)"
  with pytest.raises(TypeError):
    tu.tree_structure(1) < tu.tree_structure(2)


def test_treedef_pickle_and_copy():
  for tree in [1, None, (1, {"a": [2, None], "b": Point(3, 4)}),
               Box(1, 2, "aux"), collections.OrderedDict(b=1, a=2),
               collections.defaultdict(int, x=1), Model(1, 2), Partial(max, 1)]:
    treedef = tu.tree_structure(tree)
    assert pickle.loads(pickle.dumps(treedef)) == treedef
    assert copy.deepcopy(treedef) == treedef
    assert copy.copy(treedef) == treedef


def test_treedef_children_node_data_is_leaf():
  treedef = tu.tree_structure([(1, 2), 3, {"a": 4}])
  children = treedef.children()
  assert [repr(c) for c in children] == \
      ["PyTreeDef((*, *))", "PyTreeDef(*)", "PyTreeDef({'a': *})"]
  assert tu.treedef_children(treedef) == [tu.tree_structure(x)
                                          for x in [(1, 2), 3, {"a": 4}]]
  assert [c.num_leaves for c in children] == [2, 1, 1]
  assert tu.tree_structure({"b": (1,), "a": 2}).children() == \
      [tu.tree_structure(2), tu.tree_structure((1,))]
  assert treedef.node_data() == (list, None)
  assert tu.tree_structure({"b": 1, "a": 2}).node_data() == (dict, ["a", "b"])
  assert tu.tree_structure(Point(1, 2)).node_data() == (Point, None)
  assert tu.tree_structure(Box(1, 2, "z")).node_data() == (Box, "z")
  assert tu.tree_structure(None).node_data() == (type(None), None)
  assert tu.tree_structure(1).node_data() is None
  assert tu.tree_structure(1).children() == []
  assert tu.treedef_is_leaf(tu.tree_structure(1))
  assert tu.treedef_is_leaf(tu.tree_structure(None))
  assert tu.treedef_is_leaf(tu.tree_structure(()))
  assert not tu.treedef_is_leaf(tu.tree_structure([1]))


def test_treedef_tuple_and_from_node_data_and_children():
  x_tree = tu.tree_structure([1, 2, 3])
  y_tree = tu.tree_structure({"a": 4, "b": 5})
  xy = tu.treedef_tuple([x_tree, y_tree])
  assert xy == tu.tree_structure(([1, 2, 3], {"a": 4, "b": 5}))
  assert xy.num_leaves == 5
  leaf = tu.tree_structure(0)
  make = PyTreeDef.from_node_data_and_children
  assert make(tu.default_registry, (tuple, None), [leaf, leaf]) == \
      tu.tree_structure((0, 0))
  assert make(tu.default_registry, (Point, None), [leaf, leaf]) == \
      tu.tree_structure(Point(0, 0))
  assert make(tu.default_registry, (Box, "q"), [leaf, leaf]) == \
      tu.tree_structure(Box(0, 0, "q"))
  assert make(tu.default_registry, None, []) == leaf
  built = make(tu.default_registry, (dict, ["x", "a"]), [leaf, leaf])
  assert repr(built) == "PyTreeDef({'x': *, 'a': *})"
  for treedef in [xy, tu.tree_structure(Box(1, [2])), tu.tree_structure(Model(1, 2))]:
    rebuilt = make(tu.default_registry, treedef.node_data(), treedef.children())
    assert rebuilt == treedef
  with pytest.raises(RuntimeError, match="Could not find type"):
    make(tu.default_registry, (int, None), [])


def test_treedef_flatten_up_to():
  treedef = tu.tree_structure((1, {"a": 2}))
  assert treedef.flatten_up_to(((1, 2), {"a": [3]})) == [(1, 2), [3]]
  assert tu.tree_structure([1]).flatten_up_to([None]) == [None]
  assert tu.tree_structure(5).flatten_up_to({"x": 1}) == [{"x": 1}]
  cases = [
      ((1, {"a": 2}, 3), "Tuple arity mismatch: 3 != 2; tuple: (1, {'a': 2}, 3)."),
      ([1, {"a": 2}], "Expected tuple, got [1, {'a': 2}]."),
      ((1, {"b": 2}), "Dict key mismatch; expected keys: ['a']; present keys: ['b']."),
      ((1, collections.OrderedDict(a=2)), "Expected dict, got OrderedDict"),
  ]
  for value, msg in cases:
    with pytest.raises(ValueError) as e:
      treedef.flatten_up_to(value)
    assert str(e.value).startswith(msg), str(e.value)
  with pytest.raises(ValueError, match="Expected None, got 1"):
    tu.tree_structure([None]).flatten_up_to([1])
  with pytest.raises(ValueError, match=r"List arity mismatch: 1 != 2; list: \[1\]"):
    tu.tree_structure([1, 2]).flatten_up_to([1])
  with pytest.raises(ValueError, match="Expected named tuple, got"):
    tu.tree_structure(Point(1, 2)).flatten_up_to((1, 2))
  with pytest.raises(ValueError, match="Named tuple type mismatch"):
    tu.tree_structure(Point(1, 2)).flatten_up_to(Other(1, 2))
  with pytest.raises(ValueError, match="Custom node type mismatch"):
    tu.tree_structure(Box(1, 2)).flatten_up_to((1, 2))
  with pytest.raises(ValueError, match=r"Mismatch custom node data: 'p' != 'q'"):
    tu.tree_structure(Box(1, 2, "p")).flatten_up_to(Box(1, 2, "q"))
  with pytest.raises(ValueError, match="Mismatch custom dataclass node data"):
    tu.tree_structure(Model(1, 2)).flatten_up_to(Model(1, 2, "tanh"))
  with pytest.raises(ValueError, match="Custom dataclass node type mismatch"):
    tu.tree_structure(Model(1, 2)).flatten_up_to(3)


def test_unflatten_wrong_leaf_count():
  treedef = tu.tree_structure((1, {"a": 2}))
  with pytest.raises(ValueError, match="Too few leaves for PyTreeDef; expected 2, got 1"):
    treedef.unflatten([1])
  with pytest.raises(ValueError, match="Too many leaves for PyTreeDef; expected 2"):
    tu.tree_unflatten(treedef, [1, 2, 3])
  with pytest.raises(ValueError, match="Too many leaves for PyTreeDef; expected 1"):
    tu.tree_structure(1).unflatten([1, 2])
  with pytest.raises(ValueError, match="Too few leaves"):
    tu.tree_structure(1).unflatten([])


def test_treedef_compose_walk_from_iterable_tree():
  composed = tu.tree_structure((1, 2)).compose(tu.tree_structure([1, {"a": 1}]))
  assert repr(composed) == "PyTreeDef(([*, {'a': *}], [*, {'a': *}]))"
  assert composed.num_leaves == 4
  assert repr(tu.tree_structure((1, None)).compose(tu.tree_structure([1, 2]))) == \
      "PyTreeDef(([*, *], None))"
  treedef = tu.tree_structure((1, [2, None]))
  assert treedef.walk(lambda ch, nd: ("node", ch, nd), lambda x: x * 10, [1, 2]) == \
      ("node", (10, ("node", (20, ("node", (), None)), None)), None)
  assert tu.tree_structure({"a": 1}).walk(lambda ch, nd: (ch, nd), lambda x: -x, [1]) \
      == ((-1,), ["a"])
  assert tu.tree_structure(Box(1, 2)).walk(lambda ch, nd: (ch, nd), lambda x: x,
                                           [1, 2]) == ((1, 2), "t")
  assert tu.tree_structure((1, [2, 3])).from_iterable_tree(("a", ["b", "c"])) == \
      ("a", ["b", "c"])
  assert tu.tree_structure((1, {"a": 2})).from_iterable_tree(("a", ("b",))) == \
      ("a", {"a": "b"})
  assert tu.tree_structure(Point(1, 2)).from_iterable_tree([5, 6]) == Point(5, 6)
  with pytest.raises(ValueError, match="Arity mismatch between trees"):
    tu.tree_structure((1, 2)).from_iterable_tree([5, 6, 7])


def test_numjax_extras():
  # Not in JAX 0.10.2: build_tree, PyTreeDef.is_leaf(), walk() with f_leaf=None, and
  # != that is the negation of == for non-treedefs (jaxlib returns False).
  assert tu.tree_structure(1).is_leaf()
  assert not tu.tree_structure([1]).is_leaf()
  assert not tu.tree_structure(None).is_leaf()
  assert tu.tree_structure(Box(1, 2)).walk(lambda ch, nd: (ch, nd), None, [1, 2]) == \
      ((1, 2), "t")
  assert tu.tree_structure(1) != 1
  # build_tree: removed from JAX's public API, kept for older code.
  assert tu.build_tree(tu.tree_structure([1, (2,)]), [7, [8]]) == [7, (8,)]


# ----------------------------------------------------------------------------
# numjax.tree namespace


def test_tree_namespace_aliases():
  tree = {"a": [1, 2], "b": (3, None)}
  leaves, treedef = jtree.flatten(tree)
  assert leaves == [1, 2, 3]
  assert jtree.unflatten(treedef, leaves) == tree
  assert jtree.leaves(tree) == [1, 2, 3]
  assert jtree.structure(tree) == treedef
  assert jtree.map(lambda x, y: x * y, tree, tree) == {"a": [1, 4], "b": (9, None)}
  assert jtree.reduce(lambda x, y: x + y, tree) == 6
  assert jtree.reduce(lambda x, y: x + y, tree, 100) == 106
  assert jtree.reduce_associative(lambda x, y: x + y, tree) == 6
  assert jtree.all(tree)
  assert jtree.transpose(jtree.structure([0, 0]), None, [(1, 2), (3, 4)]) == \
      ([1, 3], [2, 4])
  assert jtree.broadcast(1, (0, [0])) == (1, [1])
  assert jtree.leaves_with_path([5]) == [((SequenceKey(0),), 5)]
  assert jtree.flatten_with_path([5])[0] == [((SequenceKey(0),), 5)]
  assert jtree.map_with_path(lambda p, x: p[0].idx + x, [10, 20]) == [10, 21]
  field = jtree.static(default=3)
  assert field.metadata["static"] is True and field.default == 3


def test_public_names_cover_jax_0_10_2():
  import json
  import pathlib
  from conftest import SHARED
  path = pathlib.Path(SHARED) / "api" / "jax_0.10.2_public_names.json"
  assert path.exists(), f"../shared/api is missing beside the checkout: {path}"
  names = json.loads(path.read_text())["namespaces"]
  assert set(names["jax.tree_util"]) <= set(dir(tu))
  assert set(names["jax.tree"]) <= set(dir(jtree))
