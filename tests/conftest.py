import os
import sys

# Tests run against the checkout, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# jit runs on the NumPy tier unless a test asks for another (tests/test_native*.py): a
# function's results must not switch tiers between two calls of one test.
os.environ.setdefault("NUMJAX_TIER", "numpy")

SHARED = os.environ.get("NUMJAX_SHARED") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared")
