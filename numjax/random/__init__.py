"""numjax.random: JAX's explicit-key PRNG (threefry2x32) and samplers (thin re-exports)."""
from numjax._src.random.keys import (  # noqa: F401
    PRNGKey, key, key_data, key_dtype, key_impl, wrap_key_data, split, fold_in, clone,
    default_prng_impl, PRNGKeyArray)
from numjax._src.random.samplers import (  # noqa: F401
    bits, uniform, normal, truncated_normal, exponential, laplace, logistic, cauchy, gumbel,
    lognormal, pareto, rayleigh, wald, triangular, weibull_min, rademacher, maxwell,
    double_sided_maxwell)
from numjax._src.random.discrete import (  # noqa: F401
    randint, bernoulli, categorical, choice, permutation, geometric, poisson, binomial,
    multinomial)
from numjax._src.random.gamma import (  # noqa: F401
    gamma, loggamma, beta, dirichlet, t, chisquare, f, generalized_normal, ball,
    random_gamma_p)
from numjax._src.random.multivariate import multivariate_normal, orthogonal  # noqa: F401

del PRNGKeyArray, default_prng_impl
