"""numjax.ref: mutable array references."""
from numjax._src.state import (  # noqa: F401
    AbstractRef, Ref, addupdate, empty_ref, free_ref, freeze, get, new_ref, set, swap)
