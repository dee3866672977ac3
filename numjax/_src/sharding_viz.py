"""Text pictures of shardings: `jax.debug.visualize_array_sharding` without `rich`.

JAX draws a `rich` table with one cell per shard region (CPU ids of the devices holding it),
sized in proportion to the region. This module lays out the same table with the same
arithmetic (cell padding from the region's share of the array, column widths shrunk to fit
the console as rich does) and draws it with box characters, so the text matches JAX's
uncoloured output.
"""
from __future__ import annotations

import sys

__all__ = ["visualize_sharding", "sharding_table"]


def _chunk_index(size, slc):
  if slc.start is None and slc.stop is None:
    return 0
  return slc.start // (slc.stop - slc.start)


def _regions(shape, sharding):
  """{(row, col): (device ids, width fraction, height fraction or None)}."""
  cells = {}
  for dev, idx in sharding.devices_indices_map(tuple(shape)).items():
    idx = tuple(slice(i, i + 1) if isinstance(i, int) else i for i in idx)
    spans = [(s.stop - s.start) if s.stop is not None else n for s, n in zip(idx, shape)]
    chunks = tuple(_chunk_index(n, s) for n, s in zip(shape, idx))
    if len(shape) == 2:
      key, w, h = chunks, spans[1] / shape[1], spans[0] / shape[0]
    else:
      key, w, h = (0, chunks[0]), spans[0] / shape[0], None
    ids, _, _ = cells.setdefault(key, (set(), w, h))
    ids.add(dev.id)
  return cells


def _cell_padding(entry, w_frac, h_frac, base_width, base_height, min_width, max_width):
  """(top, right, bottom, left) padding of one cell, as JAX computes it."""
  width = int(w_frac * base_width * 2.5)
  height = 1 if h_frac is None else int(h_frac * base_height)
  width = min(max(width, min_width), max_width)
  left, rem = divmod(width - len(entry) - 2, 2)
  right = left + rem
  top, rem = divmod(height - 2, 2)
  bottom = top + rem
  return max(top, 0), max(right, 0), max(bottom, 0), max(left, 0)


# ---- the table layout (rich's rules for a box table without headers or padding) ------

def _measure(entry, pad, avail):
  """(min, max) width of a padded cell given `avail` columns."""
  extra = pad[1] + pad[3]
  if avail - extra < 1:
    return avail, avail
  words = entry.split()
  lo = max((len(w) for w in words), default=len(entry))
  hi = len(entry)
  lo, hi = min(lo, avail), min(hi, avail)
  lo, hi = min(lo + extra, avail), min(hi + extra, avail)
  return min(lo, hi), hi


def _ratio_reduce(total, ratios, maximums, values):
  ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
  total_ratio = sum(ratios)
  if not total_ratio:
    return list(values)
  out = []
  for r, m, v in zip(ratios, maximums, values):
    if r and total_ratio > 0:
      d = min(m, round(r * total / total_ratio))
      out.append(v - d)
      total -= d
      total_ratio -= r
    else:
      out.append(v)
  return out


def _collapse(widths, avail):
  """Shrink the widest columns first until the table fits."""
  excess = sum(widths) - avail
  while excess > 0:
    top = max(widths)
    second = max((w for w in widths if w != top), default=0)
    diff = top - second
    if not diff:
      break
    ratios = [1 if w == top else 0 for w in widths]
    widths = _ratio_reduce(excess, ratios, [min(excess, diff)] * len(widths), widths)
    excess = sum(widths) - avail
  return widths


def _column_widths(cols, console_width):
  """cols: per column, a list of (entry, padding) cells."""
  avail = console_width - (len(cols) + 1)  # the box's vertical rules
  widths = [max(_measure(e, p, avail)[1] for e, p in col) or 1 for col in cols]
  if sum(widths) > avail:
    widths = _collapse(widths, avail)
    if sum(widths) > avail:
      widths = _ratio_reduce(sum(widths) - avail, [1] * len(widths), widths, widths)
    widths = [max(_measure(e, p, w)[1] for e, p in col) for col, w in zip(cols, widths)]
  return widths


def _wrap(text, width):
  """Greedy word wrap; a word longer than the line is cut with an ellipsis."""
  lines, cur = [], ""
  for word in text.split():
    if len(word) > width:
      word = word[:max(width - 1, 0)] + "…"
    if not cur:
      cur = word
    elif len(cur) + 1 + len(word) <= width:
      cur += " " + word
    else:
      lines.append(cur)
      cur = word
  lines.append(cur)
  return lines


def _render_cell(entry, pad, width):
  """The lines of one cell: padding around the entry, centred when it fits on one line
  (rich left-justifies the lines of a wrapped entry instead)."""
  top, right, bottom, left = pad
  inner = width - left - right
  lines = [" " * width] * top
  if inner >= 1:
    if len(entry) <= inner:
      excess = inner - len(entry)
      texts = [" " * (excess // 2) + entry + " " * (excess - excess // 2)]
    else:
      texts = [t.ljust(inner) for t in _wrap(entry, inner)]
    lines += [(" " * left + t + " " * right)[:width].ljust(width) for t in texts]
  lines += [" " * width] * bottom
  return lines or [" " * width]


def sharding_table(shape, sharding, *, scale=1., min_width=9, max_width=80):
  """The picture of `sharding` over an array of `shape` (1-D or 2-D), as a string."""
  shape = tuple(shape)
  if len(shape) > 2 or len(shape) < 1:
    raise ValueError("`visualize_sharding` only works for shapes with 1 and 2 dimensions.")
  base_height = int(10 * scale)
  base_width = int(base_height * (shape[1] if len(shape) == 2 else 1) / shape[0])
  kind = next(iter(sharding.device_set)).platform.upper()
  regions = _regions(shape, sharding)
  nrows = max(k[0] for k in regions) + 1
  ncols = max(k[1] for k in regions) + 1
  grid = []
  for i in range(nrows):
    row = []
    for j in range(ncols):
      ids, w, h = regions[i, j]
      entry = f"{kind} " + ",".join(str(d) for d in sorted(ids))
      row.append((entry, _cell_padding(entry, w, h, base_width, base_height, min_width,
                                       max_width)))
    grid.append(row)
  widths = _column_widths([[grid[i][j] for i in range(nrows)] for j in range(ncols)],
                          max_width)
  out = ["┌" + "┬".join("─" * w for w in widths) + "┐"]
  for i, row in enumerate(grid):
    cells = [_render_cell(e, p, w) for (e, p), w in zip(row, widths)]
    height = max(len(c) for c in cells)
    cells = [c + [" " * w] * (height - len(c)) for c, w in zip(cells, widths)]
    out.extend("│" + "│".join(c[k] for c in cells) + "│" for k in range(height))
    if i + 1 < nrows:
      out.append("├" + "┼".join("─" * w for w in widths) + "┤")
  out.append("└" + "┴".join("─" * w for w in widths) + "┘")
  return "\n".join(out)


def visualize_sharding(shape, sharding, *, use_color=True, scale=1., min_width=9,
                       max_width=80, color_map=None):
  """Print a table of which devices hold which block of an array of `shape` (1-D/2-D).
  numjax prints the uncoloured form of JAX's picture (use_color/color_map are accepted
  and ignored)."""
  del use_color, color_map
  sys.stdout.write(sharding_table(shape, sharding, scale=scale, min_width=min_width,
                                  max_width=max_width) + "\n")
