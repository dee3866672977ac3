"""numjax.scipy.signal: SciPy's signal functions on numjax arrays (thin re-exports)."""
from numjax._src.scipy.signal import (  # noqa: F401
    convolve, convolve2d, correlate, correlate2d, csd, detrend, fftconvolve, istft, stft,
    welch)
