"""numjax.lax: the primitive operations (thin re-exports of numjax._src.lax)."""
# Elementwise, conversion, broadcasting, reshape, selection, dot (lax/lax.py)
from numjax._src.lax.lax import (  # noqa: F401
    neg, sign, floor, ceil, round, is_finite, exp, exp2, log, log1p, expm1, tanh, logistic,
    sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, sqrt, rsqrt, cbrt, abs,
    real, imag, conj, bitwise_not, population_count, clz, lgamma, digamma, erf, erfc, erf_inv,
    square, add, sub, mul, div, rem, pow, max, min, atan2, nextafter, bitwise_and, bitwise_or,
    bitwise_xor, shift_left, shift_right_logical, shift_right_arithmetic, eq, ne, lt, le, gt,
    ge, complex, integer_pow, convert_element_type, broadcast_in_dim, broadcast,
    broadcast_to_rank, broadcast_shapes, reshape, transpose, select_n, select, iota,
    broadcasted_iota, dot_general, dot, full, full_like, zeros_like_array, stop_gradient,
    squeeze, expand_dims, clamp, polygamma, zeta, polygamma_p, zeta_p, RoundingMethod, Precision, DotDimensionNumbers,
    neg_p, sign_p, floor_p, ceil_p, round_p, is_finite_p, exp_p, exp2_p, log_p, log1p_p,
    expm1_p, tanh_p, logistic_p, sin_p, cos_p, tan_p, asin_p, acos_p, atan_p, sinh_p, cosh_p,
    asinh_p, acosh_p, atanh_p, sqrt_p, rsqrt_p, cbrt_p, abs_p, real_p, imag_p, conj_p, not_p,
    population_count_p, clz_p, lgamma_p, digamma_p, erf_p, erfc_p, erf_inv_p, square_p, add_p,
    sub_p, mul_p, div_p, rem_p, pow_p, max_p, min_p, atan2_p, nextafter_p, and_p, or_p, xor_p,
    shift_left_p, shift_right_logical_p, shift_right_arithmetic_p, eq_p, ne_p, lt_p, le_p,
    gt_p, ge_p, complex_p, integer_pow_p, convert_element_type_p, broadcast_in_dim_p,
    reshape_p, transpose_p, select_n_p, iota_p, dot_general_p, clamp_p)
# Reductions, argmax/argmin, generic reduce, cumulative reductions (lax/reductions.py)
from numjax._src.lax.reductions import (  # noqa: F401
    reduce_sum, reduce_prod, reduce_max, reduce_min, reduce_and, reduce_or, reduce_xor,
    reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, reduce_and_p, reduce_or_p,
    reduce_xor_p, argmax, argmin, argmax_p, argmin_p, cumsum, cumprod, cummax, cummin,
    cumlogsumexp, cumsum_p, cumprod_p, cummax_p, cummin_p, cumlogsumexp_p, reduce, reduce_p)
# Slicing, indexing, gather/scatter (lax/slicing.py)
from numjax._src.lax.slicing import (  # noqa: F401
    slice, slice_in_dim, index_in_dim, concatenate, pad, rev, dynamic_slice,
    dynamic_update_slice, dynamic_slice_in_dim, dynamic_index_in_dim,
    dynamic_update_slice_in_dim, dynamic_update_index_in_dim,
    gather, index_take, scatter, scatter_add, scatter_sub, scatter_mul, scatter_min,
    scatter_max, scatter_apply, GatherDimensionNumbers, ScatterDimensionNumbers,
    GatherScatterMode, slice_p, concatenate_p, pad_p, rev_p, dynamic_slice_p,
    dynamic_update_slice_p, gather_p, scatter_p, scatter_add_p, scatter_sub_p, scatter_mul_p,
    scatter_min_p, scatter_max_p)
# Sorting (lax/sorting.py)
from numjax._src.lax.sorting import (  # noqa: F401
    sort, sort_key_val, top_k, sort_p, top_k_p)
# Control flow (lax/control_flow/)
from numjax._src.lax.control_flow import (  # noqa: F401
    cond, switch, while_loop, fori_loop, scan, map, associative_scan, cond_p, while_p,
    scan_p)
# Collectives over named axes (lax/parallel.py)
from numjax._src.lax.parallel import (  # noqa: F401
    psum, pmean, pmax, pmin, all_gather, psum_scatter, ppermute, axis_index, axis_size,
    psum_p, pmax_p, pmin_p, all_gather_p, psum_scatter_p, ppermute_p, axis_index_p)
from numjax._src.sharding_api import with_sharding_constraint  # noqa: F401,E402
# More collectives, placement primitives and tokens (lax/parallel.py)
from numjax._src.lax.parallel import (  # noqa: F401,E402
    all_to_all, all_to_all_p, pswapaxes, pshuffle, pbroadcast, pcast, psend, precv,
    ragged_all_to_all, ragged_all_to_all_p, device_put_p, sharding_constraint_p,
    create_token, create_token_p, after_all, after_all_p)
# FFT (lax/fft.py) and the linalg submodule (lax/linalg.py)
from numjax._src.lax.fft import fft, fft_p, FftType  # noqa: F401,E402
from numjax.lax import linalg  # noqa: F401,E402
# Convolutions (lax/convolution.py)
from numjax._src.lax.convolution import (  # noqa: F401,E402
    conv_general_dilated, conv, conv_with_general_padding, conv_transpose,
    conv_general_dilated_patches, conv_general_dilated_local, conv_dimension_numbers,
    conv_general_permutations, conv_general_shape_tuple, conv_shape_tuple,
    conv_transpose_shape_tuple, padtype_to_pads, ConvDimensionNumbers,
    ConvGeneralDilatedDimensionNumbers, conv_general_dilated_p)
# Windowed reductions (lax/windowed.py)
from numjax._src.lax.windowed import (  # noqa: F401,E402
    reduce_window, reduce_window_shape_tuple, reduce_window_p, reduce_window_sum_p,
    reduce_window_max_p, reduce_window_min_p, select_and_gather_add_p,
    select_and_scatter_add_p, select_and_scatter_p)
# Special functions (lax/special.py)
from numjax._src.lax.special import (  # noqa: F401,E402
    igamma, igammac, igamma_grad_a, betainc, bessel_i0e, bessel_i1e, igamma_p, igammac_p,
    igamma_grad_a_p, regularized_incomplete_beta_p, bessel_i0e_p, bessel_i1e_p)
from numjax._src.random.gamma import random_gamma_grad  # noqa: F401,E402
# ---- bit-level, structural, random-bit and helper ops (lax/misc.py) ----
from numjax._src.lax.misc import (  # noqa: F401,E402
    bitcast_convert_type, bitcast_convert_type_p, mulhi, mulhi_p, reduce_precision,
    reduce_precision_p, eq_to_p, lt_to_p, le_to_p, split, split_p, stack, stack_p, unstack,
    unstack_p, tile, tile_p, squeeze_p, optimization_barrier, optimization_barrier_p,
    RandomAlgorithm, rng_bit_generator, rng_bit_generator_p, rng_uniform, rng_uniform_p,
    approx_max_k, approx_min_k, approx_top_k_p, batch_matmul, broadcast_like, collapse,
    empty, reciprocal, dtype, shape_as_value, platform_dependent, composite, DotAlgorithm,
    DotAlgorithmPreset, PrecisionLike, Tolerance, AccuracyMode, copy_p, stage, stage_p,
    dce_sink, dce_sink_p, ragged_dot, ragged_dot_general, RaggedDotDimensionNumbers)
from numjax._src.lax.lax import stop_gradient_p  # noqa: F401,E402
from numjax._src.lax.solves import (  # noqa: F401,E402
    custom_linear_solve, custom_root, linear_solve_p)
# ---- end of lax/misc.py ----
