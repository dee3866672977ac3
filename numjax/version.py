"""numjax.version: the library's version."""
__version__ = "0.1.0"
_version = __version__


def _version_as_tuple(version_str):
  return tuple(int(i) for i in version_str.split(".") if i.isdigit())


__version_info__ = _version_as_tuple(__version__)
