"""numjax.numpy: NumPy's API on numjax arrays (thin re-exports of numjax._src.numpy)."""
from numjax._src.array import Array as ndarray  # noqa: F401

# ---- part A: creation, scalar types, dtype helpers, elementwise functions (ufuncs) ----
import numpy as _np  # noqa: E402

from numjax._src.numpy import array_methods as _array_methods  # noqa: F401,E402 (installs methods)
from numjax._src.numpy.util import ndim, shape, size  # noqa: F401,E402
from numjax._src.numpy.creation import (  # noqa: F401,E402
    array, asarray, copy, zeros, ones, empty, full, zeros_like, ones_like, empty_like,
    full_like, arange, linspace, logspace, geomspace, eye, identity, tri, tril, triu,
    meshgrid, indices, fromfunction, frombuffer, fromstring, fromiter, fromfile, from_dlpack,
    isscalar, iterable, astype, load, save, savez)
from numjax._src.numpy.scalar_types import (  # noqa: F401,E402
    bool, bool_, uint2, uint4, uint8, uint16, uint32, uint64, int2, int4, int8, int16, int32,
    int64, uint1, int1, float4_e2m1fn, float6_e2m3fn, float6_e3m2fn, float8_e3m4, float8_e4m3,
    float8_e8m0fnu, float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz,
    float8_e4m3b11fnuz, bfloat16, float16, float32, float64, complex64, complex128, single,
    double, csingle, cdouble, int_, uint, float_, complex_)
from numjax._src.dtypes import (  # noqa: F401,E402
    iinfo, finfo, promote_types, result_type, can_cast, issubdtype, isdtype)
from numjax._src.numpy.ufunc_api import ufunc, frompyfunc  # noqa: F401,E402
from numjax._src.numpy.ufuncs import (  # noqa: F401,E402
    add, subtract, multiply, divide, true_divide, floor_divide, remainder, mod, fmod, divmod,
    power, pow, float_power, negative, positive, abs, absolute, fabs, sign, sqrt, cbrt, square,
    reciprocal, exp, exp2, expm1, log, log2, log10, log1p, logaddexp, logaddexp2, sin, cos, tan,
    arcsin, arccos, arctan, sinh, cosh, tanh, arcsinh, arccosh, arctanh, asin, acos, atan,
    asinh, acosh, atanh, hypot, arctan2, atan2, deg2rad, radians, rad2deg, degrees, floor,
    ceil, trunc, rint, round, around, maximum, minimum, fmax, fmin, isnan, isinf, isfinite,
    isposinf, isneginf, signbit, copysign, nextafter, ldexp, frexp, modf, spacing, heaviside,
    gcd, lcm, equal, not_equal, less, less_equal, greater, greater_equal, logical_and,
    logical_or, logical_xor, logical_not, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
    bitwise_invert, invert, left_shift, right_shift, bitwise_left_shift, bitwise_right_shift,
    bitwise_count, conj, conjugate, real, imag, angle, sinc, i0, nan_to_num, isclose, allclose,
    isreal, iscomplex, isrealobj, iscomplexobj, array_equal, array_equiv, interp)

dtype = _np.dtype
e, pi, inf, nan, euler_gamma = _np.e, _np.pi, _np.inf, _np.nan, _np.euler_gamma
newaxis = None
ComplexWarning = _np.exceptions.ComplexWarning
(character, complexfloating, flexible, floating, generic, inexact, integer, number, object_,
 signedinteger, unsignedinteger) = (
    _np.character, _np.complexfloating, _np.flexible, _np.floating, _np.generic, _np.inexact,
    _np.integer, _np.number, _np.object_, _np.signedinteger, _np.unsignedinteger)
get_printoptions, printoptions, set_printoptions = (
    _np.get_printoptions, _np.printoptions, _np.set_printoptions)
array_repr, array_str = _np.array_repr, _np.array_str
# ---- end of part A ----

# ---- part B: reductions, shape manipulation, selection, products ----
from numjax._src.numpy.reductions import (  # noqa: F401,E402
    sum, prod, mean, var, std, max, amax, min, amin, argmax, argmin, all, any, cumsum,
    cumprod, cumulative_sum, cumulative_prod, nansum, nanprod, nanmean, nanvar, nanstd, nanmax,
    nanmin, nanargmax, nanargmin, nancumsum, nancumprod, ptp, count_nonzero, average, median,
    quantile, percentile, nanmedian, nanquantile, nanpercentile)
from numjax._src.numpy.lax_numpy import (  # noqa: F401,E402
    reshape, ravel, transpose, permute_dims, matrix_transpose, moveaxis, swapaxes, rollaxis,
    expand_dims, squeeze, atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_to,
    broadcast_arrays, concatenate, concat, stack, hstack, vstack, dstack, column_stack,
    unstack, split, array_split, hsplit, vsplit, dsplit, tile, repeat, resize, block, flip,
    fliplr, flipud, roll, rot90, pad, where, nonzero, select, piecewise, clip)
from numjax._src.numpy.tensor_contractions import (  # noqa: F401,E402
    dot, matmul, matvec, vecmat, tensordot, einsum, einsum_path, outer, inner, vdot, vecdot,
    kron, cross, trace, diagonal, diag, diagflat)
# ---- end of part B ----
# Indexing (numjax/_src/numpy/indexing.py)
from numjax._src.numpy.indexing import take, take_along_axis  # noqa: F401,E402
# Submodules (numjax/numpy/linalg.py, fft.py)
from numjax.numpy import linalg, fft  # noqa: F401,E402
# Convolutions (numjax/_src/numpy/convolve.py)
from numjax._src.numpy.convolve import convolve, correlate  # noqa: F401,E402
# ---- sorting, set operations (numjax/_src/numpy/sorting.py, setops.py) ----
from numjax._src.numpy.sorting import (  # noqa: F401,E402
    sort, argsort, lexsort, partition, argpartition, sort_complex, searchsorted)
from numjax._src.numpy.setops import (  # noqa: F401,E402
    unique, unique_all, unique_counts, unique_inverse, unique_values, union1d, intersect1d,
    setdiff1d, setxor1d, isin)
# ---- end of sorting, set operations ----
# ---- index tricks, polynomials, miscellany (index_tricks.py, polynomial.py, misc.py) ----
from numjax._src.numpy.index_tricks import (  # noqa: F401,E402
    mgrid, ogrid, r_, c_, s_, index_exp, ix_, diag_indices, diag_indices_from, tril_indices,
    tril_indices_from, triu_indices, triu_indices_from, mask_indices, ravel_multi_index,
    unravel_index, fill_diagonal, put, put_along_axis, place)
from numjax._src.numpy.polynomial import (  # noqa: F401,E402
    poly, polyval, polyadd, polysub, polymul, polydiv, polyder, polyint, polyfit, roots)
from numjax._src.numpy.misc import (  # noqa: F401,E402
    append, insert, delete, diff, ediff1d, gradient, trapezoid, unwrap, cov, corrcoef,
    bincount, digitize, histogram_bin_edges, histogram, histogramdd, histogram2d, choose,
    compress, extract, argwhere, flatnonzero, trim_zeros, apply_along_axis, apply_over_axes,
    vectorize, packbits, unpackbits, vander, bartlett, blackman, hamming, hanning, kaiser)
# ---- end of index tricks, polynomials, miscellany ----
