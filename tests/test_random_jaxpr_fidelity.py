"""The random samplers stage the jaxprs JAX 0.10.2 stages (randint, permutation, choice,
truncated_normal and the gamma family: jit[name=_randint/_shuffle/_gamma/...] equations).

Every expected text below is JAX 0.10.2's `str(jax.make_jaxpr(f)(jax.random.PRNGKey(0)))`,
recorded verbatim from the JAX venv (never produced by numjax). `_as_raw_key_data` then
applies the one difference that stays: JAX wraps the raw uint32[2] key into a typed key
(`random_wrap`, `key<fry>[...]` avals), while numjax's keys are their uint32 key data
throughout. So the `random_wrap` equation goes (its result is the raw key), `key<fry>[s]`
reads `u32[s,2]`, slices of key arrays carry the trailing key dimension, and variables are
renamed in order of first appearance, as both printers name them. Each program also runs
under jit on both compiler tiers and under vmap, bit-exact against its eager value.
"""
import re

import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp

_KEYWORDS = {"let", "in", "lambda", "inf", "nan"}
_VAR = r"(?<![\w=.\-<])([a-z]+)\b"


def _encode(n):
  s = ""
  while True:
    s = chr(ord("a") + n % 26) + s
    n //= 26
    if n == 0:
      return s


def _rename(text):
  """Variables renamed a, b, ..., z, ba, ... in order of first appearance."""
  binders = {m.group(1) for m in re.finditer(_VAR + ":", text)} - _KEYWORDS
  mapping = {}

  def sub(m):
    tok = m.group(1)
    if tok not in binders or text[max(0, m.start() - 2):m.start()] == "= ":
      return tok  # (a primitive's name)
    return mapping.setdefault(tok, _encode(len(mapping)))
  return re.sub(_VAR + r"(?![=\[(<\w])", sub, text)


def _as_raw_key_data(text):
  wraps = re.findall(r"\n *([a-z]+):key<fry>\[\] = random_wrap\[impl=fry\] ([a-z]+)(?=\n)",
                     text)
  text = re.sub(r"\n *[a-z]+:key<fry>\[\] = random_wrap\[impl=fry\] [a-z]+(?=\n)", "", text)
  for wrapped, raw in wraps:
    text = re.sub(rf"(?<![\w=.\-<]){wrapped}\b(?![=\[(<\w])", raw, text)

  def key_slice(m):
    extra = {"limit_indices": "2", "start_indices": "0", "strides": "1"}

    def one(mm):
      k, v = mm.group(1), mm.group(2)
      return f"{k}=None" if v == "None" else f"{k}=({v[1:-1].rstrip(',')}, {extra[k]})"
    return m.group(1) + re.sub(r"(limit_indices|start_indices|strides)=(\([^)]*\)|None)",
                               one, m.group(2))
  text = re.sub(r"(key<fry>\[\d*\] = slice\[)([^\]]*)", key_slice, text)
  text = text.replace("key<fry>[]", "u32[2]")
  text = re.sub(r"key<fry>\[([\d,]+)\]", r"u32[\1,2]", text)
  return _rename(text)


# name -> (program of a raw key, JAX 0.10.2's jaxpr text for PRNGKey(0))
PROGRAMS = {
    'randint': (lambda k: jax.random.randint(k, (3,), 0, 10),
        'let _randint = { lambda ; a:key<fry>[] b:i32[] c:i32[]. let\n    d:i32[] = jit[\n      name=clip\n      jaxpr={ lambda ; e:i32[] f:i32[] g:i32[]. let\n          h:i32[] = max f e\n          d:i32[] = min g h\n        in (d,) }\n    ] 2147483647:i32[] -2147483648:i32[] 2147483647:i32[]\n    i:bool[] = gt c d\n    j:i32[] = jit[name=clip jaxpr=clip] b -2147483648:i32[] 2147483647:i32[]\n    k:i32[] = convert_element_type[new_dtype=int32 weak_type=False] j\n    l:i32[] = jit[name=clip jaxpr=clip] c -2147483648:i32[] 2147483647:i32[]\n    m:i32[] = convert_element_type[new_dtype=int32 weak_type=False] l\n    n:i32[1] = broadcast_in_dim k\n    o:i32[1] = broadcast_in_dim m\n    p:key<fry>[2] = random_split[shape=(2,)] a\n    q:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] p\n    r:key<fry>[] = squeeze[dimensions=(0,)] q\n    s:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] p\n    t:key<fry>[] = squeeze[dimensions=(0,)] s\n    u:u32[3] = random_bits[bit_width=32 shape=(3,)] r\n    v:u32[3] = random_bits[bit_width=32 shape=(3,)] t\n    w:i32[1] = sub o n\n    x:u32[1] = convert_element_type[new_dtype=uint32 weak_type=False] w\n    y:bool[1] = le o n\n    z:u32[1] = broadcast_in_dim 1:u32[]\n    ba:u32[1] = select_n y x z\n    bb:bool[1] = gt o n\n    bc:bool[1] = and i bb\n    bd:u32[1] = add ba 1:u32[]\n    be:u32[1] = select_n bc ba bd\n    bf:u32[1] = rem 65536:u32[] be\n    bg:u32[1] = mul bf bf\n    bh:u32[1] = rem bg be\n    bi:u32[3] = rem u be\n    bj:u32[3] = mul bi bh\n    bk:u32[3] = rem v be\n    bl:u32[3] = add bj bk\n    bm:u32[3] = rem bl be\n    bn:i32[3] = convert_element_type[new_dtype=int32 weak_type=False] bm\n    bo:i32[3] = add n bn\n  in (bo,) } in\nlet clip = { lambda ; bp:i32[] bq:i32[] br:i32[]. let\n    bs:i32[] = max bq bp\n    bt:i32[] = min br bs\n  in (bt,) } in\n{ lambda ; bu:u32[2]. let\n    bv:key<fry>[] = random_wrap[impl=fry] bu\n    bw:i32[3] = jit[name=_randint jaxpr=_randint] bv 0:i32[] 10:i32[]\n  in (bw,) }'),
    'randint_u8': (lambda k: jax.random.randint(k, (3,), 0, 10, dtype=jnp.uint8),
        'let clip = { lambda ; a:i32[] b:i32[] c:i32[]. let\n    d:i32[] = convert_element_type[new_dtype=int32 weak_type=False] c\n    e:i32[] = max d a\n    f:i32[] = convert_element_type[new_dtype=int32 weak_type=False] b\n    g:i32[] = min f e\n  in (g,) } in\nlet _randint = { lambda ; h:key<fry>[] i:i32[] j:i32[]. let\n    k:i32[] = jit[name=clip jaxpr=clip1] 2147483647:i32[] -2147483648:i32[] 2147483647:i32[]\n    l:bool[] = gt j k\n    m:i32[] = jit[name=clip jaxpr=clip1] i -2147483648:i32[] 2147483647:i32[]\n    n:i32[] = jit[name=clip jaxpr=clip1] j -2147483648:i32[] 2147483647:i32[]\n    o:i32[1] = broadcast_in_dim m\n    p:i32[1] = broadcast_in_dim n\n    q:key<fry>[2] = random_split[shape=(2,)] h\n    r:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] q\n    s:key<fry>[] = squeeze[dimensions=(0,)] r\n    t:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] q\n    u:key<fry>[] = squeeze[dimensions=(0,)] t\n    v:u32[3] = random_bits[bit_width=32 shape=(3,)] s\n    w:u32[3] = random_bits[bit_width=32 shape=(3,)] u\n    x:i32[1] = sub p o\n    y:u32[1] = convert_element_type[new_dtype=uint32 weak_type=False] x\n    z:bool[1] = le p o\n    ba:u32[1] = broadcast_in_dim 1:u32[]\n    bb:u32[1] = select_n z y ba\n    bc:bool[1] = gt p o\n    bd:bool[1] = and l bc\n    be:u32[1] = add bb 1:u32[]\n    bf:u32[1] = select_n bd bb be\n    bg:u32[1] = rem 65536:u32[] bf\n    bh:u32[1] = mul bg bg\n    bi:u32[1] = rem bh bf\n    bj:u32[3] = rem v bf\n    bk:u32[3] = mul bj bi\n    bl:u32[3] = rem w bf\n    bm:u32[3] = add bk bl\n    bn:u32[3] = rem bm bf\n    bo:i32[3] = convert_element_type[new_dtype=int32 weak_type=False] bn\n    bp:i32[3] = add o bo\n  in (bp,) } in\nlet clip1 = { lambda ; bq:i32[] br:i32[] bs:i32[]. let\n    bt:i32[] = max br bq\n    bu:i32[] = min bs bt\n  in (bu,) } in\n{ lambda ; bv:u32[2]. let\n    bw:key<fry>[] = random_wrap[impl=fry] bv\n    bx:i32[] = jit[name=clip jaxpr=clip] 0:i32[] 255:i32[] 0:i32[]\n    by:i32[] = jit[name=clip jaxpr=clip] 10:i32[] 256:i32[] 0:i32[]\n    bz:i32[3] = jit[name=_randint jaxpr=_randint] bw bx by\n    ca:u8[3] = convert_element_type[new_dtype=uint8 weak_type=False] bz\n  in (ca,) }'),
    'randint_arr': (lambda k: jax.random.randint(k, (2, 3), jnp.zeros((3,), jnp.int32), 7),
        'let _randint = { lambda ; a:key<fry>[] b:i32[3] c:i32[]. let\n    d:i32[] = jit[\n      name=clip\n      jaxpr={ lambda ; e:i32[] f:i32[] g:i32[]. let\n          h:i32[] = max f e\n          d:i32[] = min g h\n        in (d,) }\n    ] 2147483647:i32[] -2147483648:i32[] 2147483647:i32[]\n    i:bool[] = gt c d\n    j:i32[3] = jit[\n      name=clip\n      jaxpr={ lambda ; b:i32[3] k:i32[] l:i32[]. let\n          m:i32[3] = max k b\n          j:i32[3] = min l m\n        in (j,) }\n    ] b -2147483648:i32[] 2147483647:i32[]\n    n:i32[] = jit[\n      name=clip\n      jaxpr={ lambda ; c:i32[] o:i32[] p:i32[]. let\n          q:i32[] = max o c\n          n:i32[] = min p q\n        in (n,) }\n    ] c -2147483648:i32[] 2147483647:i32[]\n    r:i32[] = convert_element_type[new_dtype=int32 weak_type=False] n\n    s:i32[1,3] = broadcast_in_dim[broadcast_dimensions=(1,)] j\n    t:i32[1,1] = broadcast_in_dim r\n    u:key<fry>[2] = random_split[shape=(2,)] a\n    v:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] u\n    w:key<fry>[] = squeeze[dimensions=(0,)] v\n    x:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] u\n    y:key<fry>[] = squeeze[dimensions=(0,)] x\n    z:u32[2,3] = random_bits[bit_width=32 shape=(2, 3)] w\n    ba:u32[2,3] = random_bits[bit_width=32 shape=(2, 3)] y\n    bb:i32[1,3] = sub t s\n    bc:u32[1,3] = convert_element_type[new_dtype=uint32 weak_type=False] bb\n    bd:bool[1,3] = le t s\n    be:u32[1,3] = broadcast_in_dim 1:u32[]\n    bf:u32[1,3] = select_n bd bc be\n    bg:bool[1,3] = gt t s\n    bh:bool[1,3] = and i bg\n    bi:u32[1,3] = add bf 1:u32[]\n    bj:u32[1,3] = select_n bh bf bi\n    bk:u32[1,3] = rem 65536:u32[] bj\n    bl:u32[1,3] = mul bk bk\n    bm:u32[1,3] = rem bl bj\n    bn:u32[2,3] = rem z bj\n    bo:u32[2,3] = mul bn bm\n    bp:u32[2,3] = rem ba bj\n    bq:u32[2,3] = add bo bp\n    br:u32[2,3] = rem bq bj\n    bs:i32[2,3] = convert_element_type[new_dtype=int32 weak_type=False] br\n    bt:i32[2,3] = add s bs\n  in (bt,) } in\n{ lambda ; bu:u32[2]. let\n    bv:i32[3] = broadcast_in_dim 0:i32[]\n    bw:key<fry>[] = random_wrap[impl=fry] bu\n    bx:i32[2,3] = jit[name=_randint jaxpr=_randint] bw bv 7:i32[]\n  in (bx,) }'),
    'permutation_int': (lambda k: jax.random.permutation(k, 10),
        '{ lambda ; a:u32[2]. let\n    b:key<fry>[] = random_wrap[impl=fry] a\n    c:i32[10] = iota[dimension=0 dtype=int32 shape=(10,) sharding=None] \n    d:i32[10] = jit[\n      name=_shuffle\n      jaxpr={ lambda ; b:key<fry>[] c:i32[10]. let\n          e:key<fry>[2] = random_split[shape=(2,)] b\n          f:key<fry>[1] = slice[\n            limit_indices=(1,)\n            start_indices=(0,)\n            strides=(1,)\n          ] e\n          g:key<fry>[] = squeeze[dimensions=(0,)] f\n          h:key<fry>[1] = slice[\n            limit_indices=(2,)\n            start_indices=(1,)\n            strides=(1,)\n          ] e\n          i:key<fry>[] = squeeze[dimensions=(0,)] h\n          j:u32[10] = random_bits[bit_width=32 shape=(10,)] i\n          k:u32[10] d:i32[10] = sort[dimension=0 is_stable=True num_keys=1] j c\n        in (d,) }\n    ] b c\n  in (d,) }'),
    'permutation_arr': (lambda k: jax.random.permutation(k, jnp.arange(6.0)),
        '{ lambda ; a:u32[2]. let\n    b:f32[6] = iota[dimension=0 dtype=float32 shape=(6,) sharding=None] \n    c:key<fry>[] = random_wrap[impl=fry] a\n    d:f32[6] = jit[\n      name=_shuffle\n      jaxpr={ lambda ; c:key<fry>[] b:f32[6]. let\n          e:key<fry>[2] = random_split[shape=(2,)] c\n          f:key<fry>[1] = slice[\n            limit_indices=(1,)\n            start_indices=(0,)\n            strides=(1,)\n          ] e\n          g:key<fry>[] = squeeze[dimensions=(0,)] f\n          h:key<fry>[1] = slice[\n            limit_indices=(2,)\n            start_indices=(1,)\n            strides=(1,)\n          ] e\n          i:key<fry>[] = squeeze[dimensions=(0,)] h\n          j:u32[6] = random_bits[bit_width=32 shape=(6,)] i\n          k:u32[6] d:f32[6] = sort[dimension=0 is_stable=True num_keys=1] j b\n        in (d,) }\n    ] c b\n  in (d,) }'),
    'permutation_indep': (lambda k: jax.random.permutation(k, jnp.ones((3, 4)), independent=True),
        '{ lambda ; a:u32[2]. let\n    b:f32[3,4] = broadcast_in_dim 1.0:f32[]\n    c:key<fry>[] = random_wrap[impl=fry] a\n    d:f32[3,4] = jit[\n      name=_shuffle\n      jaxpr={ lambda ; c:key<fry>[] b:f32[3,4]. let\n          e:key<fry>[2] = random_split[shape=(2,)] c\n          f:key<fry>[1] = slice[\n            limit_indices=(1,)\n            start_indices=(0,)\n            strides=(1,)\n          ] e\n          g:key<fry>[] = squeeze[dimensions=(0,)] f\n          h:key<fry>[1] = slice[\n            limit_indices=(2,)\n            start_indices=(1,)\n            strides=(1,)\n          ] e\n          i:key<fry>[] = squeeze[dimensions=(0,)] h\n          j:u32[3,4] = random_bits[bit_width=32 shape=(3, 4)] i\n          k:u32[3,4] d:f32[3,4] = sort[dimension=0 is_stable=True num_keys=1] j b\n        in (d,) }\n    ] c b\n  in (d,) }'),
    'choice': (lambda k: jax.random.choice(k, 5, (3,)),
        'let _randint = { lambda ; a:key<fry>[] b:i32[] c:i32[]. let\n    d:i32[] = jit[\n      name=clip\n      jaxpr={ lambda ; e:i32[] f:i32[] g:i32[]. let\n          h:i32[] = max f e\n          d:i32[] = min g h\n        in (d,) }\n    ] 2147483647:i32[] -2147483648:i32[] 2147483647:i32[]\n    i:bool[] = gt c d\n    j:i32[] = jit[name=clip jaxpr=clip] b -2147483648:i32[] 2147483647:i32[]\n    k:i32[] = convert_element_type[new_dtype=int32 weak_type=False] j\n    l:i32[] = jit[name=clip jaxpr=clip] c -2147483648:i32[] 2147483647:i32[]\n    m:i32[] = convert_element_type[new_dtype=int32 weak_type=False] l\n    n:i32[1] = broadcast_in_dim k\n    o:i32[1] = broadcast_in_dim m\n    p:key<fry>[2] = random_split[shape=(2,)] a\n    q:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] p\n    r:key<fry>[] = squeeze[dimensions=(0,)] q\n    s:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] p\n    t:key<fry>[] = squeeze[dimensions=(0,)] s\n    u:u32[3] = random_bits[bit_width=32 shape=(3,)] r\n    v:u32[3] = random_bits[bit_width=32 shape=(3,)] t\n    w:i32[1] = sub o n\n    x:u32[1] = convert_element_type[new_dtype=uint32 weak_type=False] w\n    y:bool[1] = le o n\n    z:u32[1] = broadcast_in_dim 1:u32[]\n    ba:u32[1] = select_n y x z\n    bb:bool[1] = gt o n\n    bc:bool[1] = and i bb\n    bd:u32[1] = add ba 1:u32[]\n    be:u32[1] = select_n bc ba bd\n    bf:u32[1] = rem 65536:u32[] be\n    bg:u32[1] = mul bf bf\n    bh:u32[1] = rem bg be\n    bi:u32[3] = rem u be\n    bj:u32[3] = mul bi bh\n    bk:u32[3] = rem v be\n    bl:u32[3] = add bj bk\n    bm:u32[3] = rem bl be\n    bn:i32[3] = convert_element_type[new_dtype=int32 weak_type=False] bm\n    bo:i32[3] = add n bn\n  in (bo,) } in\nlet clip = { lambda ; bp:i32[] bq:i32[] br:i32[]. let\n    bs:i32[] = max bq bp\n    bt:i32[] = min br bs\n  in (bt,) } in\n{ lambda ; bu:u32[2]. let\n    bv:key<fry>[] = random_wrap[impl=fry] bu\n    bw:i32[3] = jit[name=_randint jaxpr=_randint] bv 0:i32[] 5:i32[]\n  in (bw,) }'),
    'choice_noreplace': (lambda k: jax.random.choice(k, 5, (3,), replace=False),
        '{ lambda ; a:u32[2]. let\n    b:key<fry>[] = random_wrap[impl=fry] a\n    c:i32[5] = iota[dimension=0 dtype=int32 shape=(5,) sharding=None] \n    d:i32[5] = jit[\n      name=_shuffle\n      jaxpr={ lambda ; b:key<fry>[] c:i32[5]. let\n          e:key<fry>[2] = random_split[shape=(2,)] b\n          f:key<fry>[1] = slice[\n            limit_indices=(1,)\n            start_indices=(0,)\n            strides=(1,)\n          ] e\n          g:key<fry>[] = squeeze[dimensions=(0,)] f\n          h:key<fry>[1] = slice[\n            limit_indices=(2,)\n            start_indices=(1,)\n            strides=(1,)\n          ] e\n          i:key<fry>[] = squeeze[dimensions=(0,)] h\n          j:u32[5] = random_bits[bit_width=32 shape=(5,)] i\n          k:u32[5] d:i32[5] = sort[dimension=0 is_stable=True num_keys=1] j c\n        in (d,) }\n    ] b c\n    l:i32[3] = slice[limit_indices=(3,) start_indices=(0,) strides=None] d\n  in (l,) }'),
    'choice_p_noreplace': (lambda k: jax.random.choice(k, 4, (2,), replace=False, p=jnp.array([.1, .2, .3, .4])),
        'let _uniform = { lambda ; a:key<fry>[] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[1] = broadcast_in_dim c\n    f:f32[1] = broadcast_in_dim d\n    g:u32[4] = random_bits[bit_width=32 shape=(4,)] a\n    h:u32[4] = shift_right_logical g 9:u32[]\n    i:u32[4] = or h 1065353216:u32[]\n    j:f32[4] = bitcast_convert_type[new_dtype=float32] i\n    k:f32[4] = sub j 1.0:f32[]\n    l:f32[1] = sub f e\n    m:f32[4] = mul k l\n    n:f32[4] = add m e\n    o:f32[4] = max e n\n  in (o,) } in\n{ lambda p:f32[4]; q:u32[2]. let\n    r:key<fry>[] = random_wrap[impl=fry] q\n    s:f32[4] = jit[\n      name=_gumbel\n      jaxpr={ lambda ; r:key<fry>[]. let\n          t:f32[4] = jit[name=_uniform jaxpr=_uniform] r 1.0:f32[] 1.1754943508222875e-38:f32[]\n          u:f32[4] = log t\n          v:f32[4] = neg u\n          w:f32[4] = log v\n          s:f32[4] = neg w\n        in (s,) }\n    ] r\n    x:f32[4] = log p\n    y:f32[4] = add s x\n    _:f32[2] z:i32[2] = top_k[axis=0 k=2] y\n  in (z,) }'),
    'truncated_normal': (lambda k: jax.random.truncated_normal(k, -1., 2., (3,)),
        'let _truncated_normal = { lambda ; a:key<fry>[] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    f:f32[] = div d 1.4142135381698608:f32[]\n    g:f32[] = erf f\n    h:f32[] = div e 1.4142135381698608:f32[]\n    i:f32[] = erf h\n    j:f32[3] = jit[name=_uniform jaxpr=_uniform] a g i\n    k:f32[3] = erf_inv j\n    l:f32[3] = mul 1.4142135381698608:f32[] k\n    m:f32[] = stop_gradient d\n    n:f32[] = nextafter m inf:f32[]\n    o:f32[] = stop_gradient e\n    p:f32[] = nextafter o -inf:f32[]\n    q:f32[3] = jit[\n      name=clip\n      jaxpr={ lambda ; l:f32[3] n:f32[] p:f32[]. let\n          r:f32[3] = max n l\n          q:f32[3] = min p r\n        in (q,) }\n    ] l n p\n  in (q,) } in\nlet _uniform = { lambda ; s:key<fry>[] t:f32[] u:f32[]. let\n    v:f32[1] = broadcast_in_dim t\n    w:f32[1] = broadcast_in_dim u\n    x:u32[3] = random_bits[bit_width=32 shape=(3,)] s\n    y:u32[3] = shift_right_logical x 9:u32[]\n    z:u32[3] = or y 1065353216:u32[]\n    ba:f32[3] = bitcast_convert_type[new_dtype=float32] z\n    bb:f32[3] = sub ba 1.0:f32[]\n    bc:f32[1] = sub w v\n    bd:f32[3] = mul bb bc\n    be:f32[3] = add bd v\n    bf:f32[3] = max v be\n  in (bf,) } in\n{ lambda ; bg:u32[2]. let\n    bh:key<fry>[] = random_wrap[impl=fry] bg\n    bi:f32[3] = jit[name=_truncated_normal jaxpr=_truncated_normal] bh -1.0:f32[]\n      2.0:f32[]\n  in (bi,) }'),
    'gamma': (lambda k: jax.random.gamma(k, 2.0, (3,)),
        '{ lambda ; a:u32[2]. let\n    b:key<fry>[] = random_wrap[impl=fry] a\n    c:f32[3] = jit[\n      name=_gamma\n      jaxpr={ lambda ; b:key<fry>[] d:f32[]. let\n          e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] d\n          f:f32[3] = broadcast_in_dim e\n          c:f32[3] = random_gamma[log_space=False] b f\n        in (c,) }\n    ] b 2.0:f32[]\n  in (c,) }'),
    'gamma_arr': (lambda k: jax.random.gamma(k, jnp.array([1., 2., 3.])),
        '{ lambda a:f32[3]; b:u32[2]. let\n    c:key<fry>[] = random_wrap[impl=fry] b\n    d:f32[3] = jit[\n      name=_gamma\n      jaxpr={ lambda ; c:key<fry>[] a:f32[3]. let\n          d:f32[3] = random_gamma[log_space=False] c a\n        in (d,) }\n    ] c a\n  in (d,) }'),
    'loggamma': (lambda k: jax.random.loggamma(k, 0.5, (3,)),
        '{ lambda ; a:u32[2]. let\n    b:key<fry>[] = random_wrap[impl=fry] a\n    c:f32[3] = jit[\n      name=_gamma\n      jaxpr={ lambda ; b:key<fry>[] d:f32[]. let\n          e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] d\n          f:f32[3] = broadcast_in_dim e\n          c:f32[3] = random_gamma[log_space=True] b f\n        in (c,) }\n    ] b 0.5:f32[]\n  in (c,) }'),
    'beta': (lambda k: jax.random.beta(k, 2.0, 3.0, (3,)),
        'let _beta = { lambda ; a:key<fry>[] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    f:key<fry>[2] = random_split[shape=(2,)] a\n    g:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] f\n    h:key<fry>[] = squeeze[dimensions=(0,)] g\n    i:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] f\n    j:key<fry>[] = squeeze[dimensions=(0,)] i\n    k:f32[3] = broadcast_in_dim d\n    l:f32[3] = broadcast_in_dim e\n    m:f32[3] = jit[name=_gamma jaxpr=_gamma] h k\n    n:f32[3] = jit[name=_gamma jaxpr=_gamma] j l\n    o:f32[3] = max m n\n    p:f32[3] = sub m o\n    q:f32[3] = exp p\n    r:f32[3] = sub n o\n    s:f32[3] = exp r\n    t:f32[3] = add q s\n    u:f32[3] = div q t\n  in (u,) } in\nlet _gamma = { lambda ; v:key<fry>[] w:f32[3]. let\n    x:f32[3] = random_gamma[log_space=True] v w\n  in (x,) } in\n{ lambda ; y:u32[2]. let\n    z:key<fry>[] = random_wrap[impl=fry] y\n    ba:f32[3] = jit[name=_beta jaxpr=_beta] z 2.0:f32[] 3.0:f32[]\n  in (ba,) }'),
    'dirichlet': (lambda k: jax.random.dirichlet(k, jnp.array([1., 2., 3.])),
        '{ lambda a:f32[3]; b:u32[2]. let\n    c:key<fry>[] = random_wrap[impl=fry] b\n    d:f32[3] = jit[\n      name=_dirichlet\n      jaxpr={ lambda ; c:key<fry>[] a:f32[3]. let\n          e:f32[3] = jit[\n            name=_gamma\n            jaxpr={ lambda ; c:key<fry>[] a:f32[3]. let\n                e:f32[3] = random_gamma[log_space=True] c a\n              in (e,) }\n          ] c a\n          f:f32[] = reduce_max[axes=(0,)] e\n          g:f32[] = max -inf:f32[] f\n          h:f32[1] = broadcast_in_dim g\n          i:f32[1] = stop_gradient h\n          j:f32[3] = sub e i\n          k:f32[3] = exp j\n          l:f32[] = reduce_sum[axes=(0,) out_sharding=None] k\n          m:f32[1] = broadcast_in_dim l\n          d:f32[3] = div k m\n        in (d,) }\n    ] c a\n  in (d,) }'),
    'chisquare': (lambda k: jax.random.chisquare(k, 3.0, (3,)),
        '{ lambda ; a:u32[2]. let\n    b:key<fry>[] = random_wrap[impl=fry] a\n    c:f32[3] = jit[\n      name=_chisquare\n      jaxpr={ lambda ; b:key<fry>[] d:f32[]. let\n          e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] d\n          f:f32[] = div e 2.0:f32[]\n          g:f32[3] = jit[\n            name=_gamma\n            jaxpr={ lambda ; b:key<fry>[] f:f32[]. let\n                h:f32[3] = broadcast_in_dim f\n                g:f32[3] = random_gamma[log_space=True] b h\n              in (g,) }\n          ] b f\n          i:f32[3] = exp g\n          c:f32[3] = mul i 2.0:f32[]\n        in (c,) }\n    ] b 3.0:f32[]\n  in (c,) }'),
    'f': (lambda k: jax.random.f(k, 3.0, 4.0, (3,)),
        'let _f = { lambda ; a:key<fry>[] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    f:key<fry>[2] = random_split[shape=(2,)] a\n    g:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] f\n    h:key<fry>[] = squeeze[dimensions=(0,)] g\n    i:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] f\n    j:key<fry>[] = squeeze[dimensions=(0,)] i\n    k:f32[3] = jit[name=_chisquare jaxpr=_chisquare] j e\n    l:f32[3] = jit[name=_chisquare jaxpr=_chisquare] h d\n    m:f32[3] = div k e\n    n:f32[3] = div l d\n    o:f32[3] = div m n\n  in (o,) } in\nlet _chisquare = { lambda ; p:key<fry>[] q:f32[]. let\n    r:f32[] = div q 2.0:f32[]\n    s:f32[3] = jit[name=_gamma jaxpr=_gamma] p r\n    t:f32[3] = exp s\n    u:f32[3] = mul t 2.0:f32[]\n  in (u,) } in\nlet _gamma = { lambda ; v:key<fry>[] w:f32[]. let\n    x:f32[3] = broadcast_in_dim w\n    y:f32[3] = random_gamma[log_space=True] v x\n  in (y,) } in\n{ lambda ; z:u32[2]. let\n    ba:key<fry>[] = random_wrap[impl=fry] z\n    bb:f32[3] = jit[name=_f jaxpr=_f] ba 3.0:f32[] 4.0:f32[]\n  in (bb,) }'),
    't': (lambda k: jax.random.t(k, 3.0, (3,)),
        'let _t = { lambda ; a:key<fry>[] b:f32[]. let\n    c:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    d:key<fry>[2] = random_split[shape=(2,)] a\n    e:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] d\n    f:key<fry>[] = squeeze[dimensions=(0,)] e\n    g:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] d\n    h:key<fry>[] = squeeze[dimensions=(0,)] g\n    i:f32[3] = jit[\n      name=_normal\n      jaxpr={ lambda ; f:key<fry>[]. let\n          i:f32[3] = jit[\n            name=_normal_real\n            jaxpr={ lambda ; f:key<fry>[]. let\n                j:f32[3] = jit[name=_uniform jaxpr=_uniform] f -0.9999999403953552:f32[]\n                  1.0:f32[]\n                k:f32[3] = erf_inv j\n                i:f32[3] = mul 1.4142135381698608:f32[] k\n              in (i,) }\n          ] f\n        in (i,) }\n    ] f\n    l:f32[] = div c 2.0:f32[]\n    m:f32[3] = jit[\n      name=_gamma\n      jaxpr={ lambda ; h:key<fry>[] l:f32[]. let\n          n:f32[3] = broadcast_in_dim l\n          m:f32[3] = random_gamma[log_space=False] h n\n        in (m,) }\n    ] h l\n    o:f32[3] = div l m\n    p:f32[3] = sqrt o\n    q:f32[3] = mul i p\n  in (q,) } in\nlet _uniform = { lambda ; r:key<fry>[] s:f32[] t:f32[]. let\n    u:f32[1] = broadcast_in_dim s\n    v:f32[1] = broadcast_in_dim t\n    w:u32[3] = random_bits[bit_width=32 shape=(3,)] r\n    x:u32[3] = shift_right_logical w 9:u32[]\n    y:u32[3] = or x 1065353216:u32[]\n    z:f32[3] = bitcast_convert_type[new_dtype=float32] y\n    ba:f32[3] = sub z 1.0:f32[]\n    bb:f32[1] = sub v u\n    bc:f32[3] = mul ba bb\n    bd:f32[3] = add bc u\n    be:f32[3] = max u bd\n  in (be,) } in\n{ lambda ; bf:u32[2]. let\n    bg:key<fry>[] = random_wrap[impl=fry] bf\n    bh:f32[3] = jit[name=_t jaxpr=_t] bg 3.0:f32[]\n  in (bh,) }'),
    'generalized_normal': (lambda k: jax.random.generalized_normal(k, 1.5, (3,)),
        'let _generalized_normal = { lambda ; a:key<fry>[] b:f32[]. let\n    c:key<fry>[2] = random_split[shape=(2,)] a\n    d:key<fry>[1] = slice[limit_indices=(1,) start_indices=(0,) strides=None] c\n    e:key<fry>[] = squeeze[dimensions=(0,)] d\n    f:f32[] = div 1.0:f32[] b\n    g:f32[3] = jit[\n      name=_gamma\n      jaxpr={ lambda ; e:key<fry>[] f:f32[]. let\n          h:f32[] = convert_element_type[new_dtype=float32 weak_type=False] f\n          i:f32[3] = broadcast_in_dim h\n          g:f32[3] = random_gamma[log_space=False] e i\n        in (g,) }\n    ] e f\n    j:key<fry>[1] = slice[limit_indices=(2,) start_indices=(1,) strides=None] c\n    k:key<fry>[] = squeeze[dimensions=(0,)] j\n    l:f32[3] = jit[\n      name=_rademacher\n      jaxpr={ lambda ; k:key<fry>[]. let\n          m:bool[3] = jit[\n            name=_bernoulli\n            jaxpr={ lambda ; k:key<fry>[] n:f32[]. let\n                o:f32[3] = jit[name=_uniform jaxpr=_uniform] k 0.0:f32[] 1.0:f32[]\n                m:bool[3] = lt o n\n              in (m,) }\n          ] k 0.5:f32[]\n          p:f32[3] = convert_element_type[new_dtype=float32 weak_type=False] m\n          q:f32[3] = mul 2.0:f32[] p\n          l:f32[3] = sub q 1.0:f32[]\n        in (l,) }\n    ] k\n    r:f32[] = div 1.0:f32[] b\n    s:f32[] = convert_element_type[new_dtype=float32 weak_type=False] r\n    t:f32[3] = pow g s\n    u:f32[3] = mul l t\n  in (u,) } in\nlet _uniform = { lambda ; v:key<fry>[] w:f32[] x:f32[]. let\n    y:f32[] = convert_element_type[new_dtype=float32 weak_type=False] w\n    z:f32[] = convert_element_type[new_dtype=float32 weak_type=False] x\n    ba:f32[1] = broadcast_in_dim y\n    bb:f32[1] = broadcast_in_dim z\n    bc:u32[3] = random_bits[bit_width=32 shape=(3,)] v\n    bd:u32[3] = shift_right_logical bc 9:u32[]\n    be:u32[3] = or bd 1065353216:u32[]\n    bf:f32[3] = bitcast_convert_type[new_dtype=float32] be\n    bg:f32[3] = sub bf 1.0:f32[]\n    bh:f32[1] = sub bb ba\n    bi:f32[3] = mul bg bh\n    bj:f32[3] = add bi ba\n    bk:f32[3] = max ba bj\n  in (bk,) } in\n{ lambda ; bl:u32[2]. let\n    bm:key<fry>[] = random_wrap[impl=fry] bl\n    bn:f32[3] = jit[name=_generalized_normal jaxpr=_generalized_normal] bm 1.5:f32[]\n  in (bn,) }'),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_sampler_jaxpr_matches_jax(name):
  fn, expected = PROGRAMS[name]
  fn(jax.random.PRNGKey(1))  # an eager call first: its cached plan must not leak into traces
  got = str(jax.make_jaxpr(fn)(jax.random.PRNGKey(0)))
  assert got == _as_raw_key_data(expected)


@pytest.mark.parametrize("tier", ["numpy", "native"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_sampler_jit_matches_eager(name, tier):
  # the staged jit equations compute the eager (cached plan) numbers: bit for bit on the
  # NumPy tier; the native tier's exp/log round within an ulp of NumPy's
  fn, _ = PROGRAMS[name]
  key = jax.random.PRNGKey(7)
  want = np.asarray(fn(key))
  with jax.config._override("numjax_tier", tier):
    got = np.asarray(jax.jit(fn)(key))
  if tier == "numpy" or want.dtype.kind != "f":
    np.testing.assert_array_equal(got, want)
  else:
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name", ["randint", "permutation_int", "choice_noreplace",
                                  "truncated_normal", "beta", "t", "f"])
def test_sampler_vmap_matches_loop(name):
  fn, _ = PROGRAMS[name]
  keys = jax.random.split(jax.random.PRNGKey(3), 3)
  got = np.asarray(jax.vmap(fn)(keys))
  want = np.stack([np.asarray(fn(k)) for k in keys])
  np.testing.assert_array_equal(got, want)


def test_raw_key_adaptation_is_only_the_key():
  # the adaptation leaves a text without keys alone and names as JAX's printer does
  text = PROGRAMS["randint"][1]
  assert _rename(text) == text
  out = _as_raw_key_data(text)
  assert "key<fry>" not in out and "random_wrap" not in out
  assert out.count("\n") == text.count("\n") - 1


def test_fma_prints_as_mul_add_but_stays_one_equation():
  # truncated_normal's uniform has traced bounds: one fma (XLA's contraction of JAX's
  # mul + add, so one rounding), printed as JAX's two equations
  closed = jax.make_jaxpr(lambda k: jax.random.truncated_normal(k, -1., 2., (3,)))(
      jax.random.PRNGKey(0))
  uniform = closed.jaxpr.eqns[0].params["jaxpr"].jaxpr.eqns[6].params["jaxpr"].jaxpr
  names = [e.primitive.name for e in uniform.eqns]
  assert "fma" in names and "mul" not in names
  u = np.float32(0.75)
  lo, hi = np.float32(-0.3), np.float32(0.7)
  from numjax._src.random.fma import fma
  got = np.asarray(jax.jit(fma)(u, hi - lo, lo))
  want = np.float32(np.float64(u) * np.float64(hi - lo) + np.float64(lo))
  assert got == want
