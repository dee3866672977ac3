"""numjax.lax.linalg: the linear-algebra primitives (thin re-exports of
numjax._src.lax.linalg)."""
from numjax._src.lax.linalg import (  # noqa: F401
    cholesky, cholesky_p, eig, eig_p, eigh, eigh_p, hessenberg, hessenberg_p,
    householder_product, householder_product_p, lu, lu_p, lu_pivots_to_permutation,
    lu_pivots_to_permutation_p, qr, qr_p, schur, schur_p, svd, svd_p, triangular_solve,
    triangular_solve_p, tridiagonal_solve, tridiagonal_solve_p, EigImplementation,
    EighImplementation, SvdAlgorithm, cholesky_update, geqrf, geqrf_p, ormqr,
    symmetric_product, tridiagonal, tridiagonal_p)
