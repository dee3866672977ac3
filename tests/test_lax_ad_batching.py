"""Cross-cutting check of the core lax primitives (lax/lax.py): derivatives against finite
differences (check_grads, orders 1-2, forward and reverse, float32 and float64), vmap
against a loop over slices at every batch position (mixing batched and unbatched
operands), jit against eager. Values against NumPy are the family's own tests."""
import numpy as np

from numjax import lax
from records import DEFAULT, POSITIVE, UNIT, Rec, make_tests, uniform

UNARY_SHAPES = [(3,), (2, 3), ()]
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), ()), ((), (2, 3)), ((4,), (4,))]
AWAY_FROM_ZERO = uniform(0.5, 2.0)
ABOVE_ONE = uniform(1.2, 3.0)
OFF_INTEGERS = uniform(0.1, 0.4)  # piecewise-constant ops: no jump within the FD step


def _u(name, fn, domain=DEFAULT, order=2, tol=None):
  return Rec(name, fn, None, shapes=UNARY_SHAPES, domain=domain, grad=order, grad_tol=tol)


def _b(name, fn, domains=(DEFAULT, DEFAULT), order=2, tol=None):
  return Rec(name, fn, None, shapes=BINARY_SHAPES, nargs=2, domain=list(domains),
             grad=order, grad_tol=tol)


RECORDS = [
    _u("neg", lax.neg),
    _u("exp", lax.exp),
    _u("exp2", lax.exp2),
    _u("log", lax.log, POSITIVE),
    _u("log1p", lax.log1p, POSITIVE),
    _u("expm1", lax.expm1),
    _u("tanh", lax.tanh),
    _u("logistic", lax.logistic),
    _u("sin", lax.sin),
    _u("cos", lax.cos),
    _u("tan", lax.tan, UNIT),
    _u("asin", lax.asin, uniform(-0.7, 0.7)),
    _u("acos", lax.acos, uniform(-0.7, 0.7)),
    _u("atan", lax.atan),
    _u("sinh", lax.sinh),
    _u("cosh", lax.cosh),
    _u("asinh", lax.asinh),
    _u("acosh", lax.acosh, ABOVE_ONE),
    _u("atanh", lax.atanh, uniform(-0.7, 0.7)),
    _u("sqrt", lax.sqrt, POSITIVE),
    _u("rsqrt", lax.rsqrt, POSITIVE),
    _u("cbrt", lax.cbrt, POSITIVE),
    _u("abs", lax.abs, AWAY_FROM_ZERO),
    _u("square", lax.square),
    _u("lgamma", lax.lgamma, POSITIVE),
    _u("digamma", lax.digamma, POSITIVE, order=1),
    _u("erf", lax.erf),
    _u("erfc", lax.erfc),
    _u("erf_inv", lax.erf_inv, uniform(-0.7, 0.7)),
    _u("sign", lax.sign, AWAY_FROM_ZERO),
    _u("floor", lax.floor, OFF_INTEGERS),
    _u("ceil", lax.ceil, OFF_INTEGERS),
    _u("round", lax.round, OFF_INTEGERS),
    _u("integer_pow2", lambda x: lax.integer_pow(x, 2)),
    _u("integer_pow3", lambda x: lax.integer_pow(x, 3)),
    _u("integer_pow-2", lambda x: lax.integer_pow(x, -2), AWAY_FROM_ZERO),
    _u("reshape", lambda x: lax.reshape(x, (x.size,))),
    _u("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2,) + x.shape,
                                                          tuple(range(1, x.ndim + 1)))),
    _u("transpose", lambda x: lax.transpose(x, tuple(reversed(range(x.ndim))))),
    _u("expand_dims", lambda x: lax.expand_dims(x, (0,))),
    _u("clamp", lambda x: lax.clamp(-1.0, x, 1.0), uniform(-0.9, 0.9)),
    _b("add", lax.add),
    _b("sub", lax.sub),
    _b("mul", lax.mul),
    _b("div", lax.div, (DEFAULT, AWAY_FROM_ZERO)),
    _b("rem", lax.rem, (uniform(2.1, 2.9), uniform(0.9, 1.0))),
    _b("pow", lax.pow, (POSITIVE, DEFAULT)),
    _b("max", lax.max),
    _b("min", lax.min),
    _b("atan2", lax.atan2, (AWAY_FROM_ZERO, AWAY_FROM_ZERO)),
    Rec("select_n", lambda p, x, y: lax.select_n(lax.gt(p, 0.0), x, y), None,
        shapes=[((2, 3), (2, 3), (2, 3)), ((), (2, 3), (2, 3)), ((3,), (3,), (3,))], nargs=3,
        grad=2),
    Rec("clamp3", lax.clamp, None, shapes=[((3,), (3,), (3,)), ((), (3,), ())], nargs=3,
        domain=[uniform(-2.0, -1.0), DEFAULT, uniform(1.0, 2.0)], grad=2),
    Rec("dot_mv", lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))), None,
        shapes=[((2, 3), (3,))], nargs=2, grad=2),
    Rec("dot_mm", lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))), None,
        shapes=[((2, 3), (3, 4))], nargs=2, grad=2),
    Rec("dot_contract_first", lambda a, b: lax.dot_general(a, b, (((0,), (0,)), ((), ()))),
        None, shapes=[((3, 2), (3, 4))], nargs=2, grad=2),
    Rec("dot_batched", lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))),
        None, shapes=[((2, 3, 4), (2, 4, 5))], nargs=2, grad=2),
    Rec("dot_batch_last", lambda a, b: lax.dot_general(a, b, (((0,), (1,)), ((2,), (0,)))),
        None, shapes=[((3, 4, 2), (2, 3))], nargs=2, grad=2),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def test_stop_gradient_cuts_the_derivative():
  import numjax
  g = numjax.grad(lambda x: lax.mul(x, lax.stop_gradient(x)))(np.float32(3.0))
  np.testing.assert_allclose(np.asarray(g), 3.0)
  v = numjax.vmap(lambda x: lax.stop_gradient(lax.sin(x)))(np.arange(3.0, dtype=np.float32))
  np.testing.assert_allclose(np.asarray(v), np.sin(np.arange(3.0)), rtol=1e-6)
