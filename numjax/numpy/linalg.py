"""numjax.numpy.linalg: thin re-exports of numjax._src.numpy.linalg."""
from numjax._src.numpy.linalg import (  # noqa: F401
    cholesky, cond, cross, det, diagonal, eig, eigh, eigvals, eigvalsh, inv, lstsq, matmul,
    matrix_norm, matrix_power, matrix_rank, matrix_transpose, multi_dot, norm, outer, pinv, qr,
    slogdet, solve, svd, svdvals, tensordot, tensorinv, tensorsolve, trace, vecdot,
    vector_norm, EighResult, EigResult, QRResult, SlogdetResult, SVDResult)
