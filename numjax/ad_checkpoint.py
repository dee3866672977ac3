"""numjax.ad_checkpoint: rematerialisation (as jax.ad_checkpoint)."""
from numjax._src.ad_checkpoint import (  # noqa: F401
    checkpoint, remat, checkpoint_policies, checkpoint_name)
