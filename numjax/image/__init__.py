"""numjax.image: image resampling (resize, scale_and_translate)."""
from numjax._src.image import ResizeMethod, resize, scale_and_translate  # noqa: F401
