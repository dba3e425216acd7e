"""Pictures of images: tile a batch into one grid, save the grid as a PNG.

``image_grid`` does the tiling with array indexing only (no plotting); ``save_image_grid``
draws the grid with matplotlib's object API (``Figure`` + the Agg canvas), which needs no
display and leaves pyplot's global state (and a notebook's backend) alone.

>>> from minigen import backend
>>> images = backend.np.ones((10, 1, 28, 28))        # ten white 28x28 images
>>> image_grid(images, nrow=4).shape                 # 3 rows of 4 cells, 2-pixel borders
(92, 122)
"""
from __future__ import annotations

import math
import os
from typing import Any

from minigen import backend, checks
from minigen.tensor import Tensor


def image_grid(images: Any, nrow: int = 8, padding: int = 2, pad_value: float = 0.5) -> Any:
    """Tile N images into one grey image, ``nrow`` images per row, row after row.

    Args:
        images: (N, 1, H, W) or (N, H, W), a Tensor or an array (NumPy or CuPy), values
            in [0, 1] (they are clipped to it).
        nrow: images per row; the grid has ceil(N / nrow) rows. Empty cells stay
            ``pad_value``.
        padding: pixels of border around every cell.
        pad_value: the grey level of the borders (0 black, 1 white).

    Returns:
        A NumPy array (rows·(H + p) + p, nrow·(W + p) + p) with p = ``padding``.
    """
    np = backend.np
    array = backend.to_numpy(images.data if isinstance(images, Tensor) else images)
    if array.ndim == 4:
        if array.shape[1] != 1:
            raise ValueError(f"image_grid: expected one channel (N, 1, H, W), got {array.shape}")
        array = array[:, 0]                                       # (N, H, W)
    if array.ndim != 3 or array.shape[0] == 0:
        raise ValueError(f"image_grid: expected images (N, 1, H, W) or (N, H, W) with N >= 1, "
                         f"got shape {array.shape}")
    nrow = checks.positive_int("image_grid", "nrow", nrow)
    padding = checks.positive_int("image_grid", "padding", padding, minimum=0)
    n, h, w = array.shape
    ncol = min(nrow, n)
    rows = math.ceil(n / ncol)
    grid = np.full((rows * (h + padding) + padding, ncol * (w + padding) + padding),
                   pad_value, dtype=np.float32)
    for i, image in enumerate(np.clip(array, 0.0, 1.0)):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def save_image_grid(images: Any, path: str | os.PathLike, nrow: int = 8,
                    title: str | None = None, scale: float = 0.56) -> None:
    """Save ``image_grid(images, nrow)`` as a PNG at ``path`` (grey, 0 black, 1 white).

    ``scale`` is inches per 28 pixels; the default, 0.56 at 100 dpi, draws every pixel as
    2x2 screen pixels (a 10x10 grid of digits is about 6 inches wide).
    ``title`` is written above the grid. The folder of ``path`` must exist.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415 — import matplotlib only when drawing

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save_image_grid: the folder {folder!r} of {path!r} does "
                                "not exist")
    grid = image_grid(images, nrow)                             # (H_grid, W_grid)
    grid_height = grid.shape[0] / 28 * scale                    # inches
    grid_width = grid.shape[1] / 28 * scale
    title_height = 0.3 if title else 0.0                        # inches above the grid
    total = grid_height + title_height
    fig = Figure(figsize=(grid_width, total))
    FigureCanvasAgg(fig)                                        # draw with Agg: no display needed
    ax = fig.add_axes((0.0, 0.0, 1.0, grid_height / total))     # (left, bottom, width, height)
    ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.text(0.5, 1.0 - 0.5 * title_height / total, title, ha="center", va="center",
                 fontsize=8)
    fig.savefig(path, dpi=100)


# ====================================================================== the lectures' plots
# What every lecture draws: grids of digits, training curves, 2-D latent codes, and the
# line of minigen's source that computes a formula. Without ``ax`` each draws a new pyplot
# figure (shown inline in a notebook); with ``ax`` it draws into that axes.
def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # noqa: PLC0415 — only the lectures' plots need pyplot

    return plt.subplots(figsize=figsize)[1]


def show_images(images: Any, nrow: int = 8, title: str | None = None, ax: Any = None,
                figsize: tuple[float, float] | None = None) -> Any:
    """Draw images (N, 1, H, W) in [0, 1] as one ``image_grid``; returns the axes.

    >>> from minigen import backend
    >>> from matplotlib.figure import Figure
    >>> ax = show_images(backend.np.zeros((6, 1, 28, 28)), nrow=3, ax=Figure().add_subplot())
    >>> ax.images[0].get_array().shape                   # 2 rows of 3 digits, 2-pixel borders
    (62, 92)
    """
    grid = image_grid(images, nrow=nrow)
    rows = math.ceil(len(images) / min(nrow, len(images)))
    ax = _axes(ax, figsize or (min(nrow, len(images)) * 0.6, rows * 0.6 + 0.4))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def moving_average(values: Any, window: int) -> Any:
    """The mean of each ``window`` consecutive values (len(values) - window + 1 of them):
    a noisy per-step curve made readable.

    >>> moving_average([1.0, 2.0, 3.0, 4.0], 2).tolist()
    [1.5, 2.5, 3.5]
    """
    np = backend.np
    values = np.asarray(values, dtype=np.float64)
    window = checks.positive_int("moving_average", "window", window)
    if values.ndim != 1 or len(values) < window:
        raise ValueError(f"moving_average: need a 1-D sequence of at least {window} values, "
                         f"got shape {values.shape}")
    totals = np.cumsum(np.concatenate([[0.0], values]))
    return (totals[window:] - totals[:-window]) / window


def plot_curves(curves: dict[str, Any], ax: Any = None, smooth: int = 1, x: Any = None,
                title: str | None = None, xlabel: str = "step", ylabel: str | None = None,
                figsize: tuple[float, float] = (6, 3)) -> Any:
    """One line per named curve (e.g. ``{"L_D": ..., "L_G": ...}``), each smoothed by a
    ``moving_average`` over ``smooth`` values and plotted against ``x`` (default 1, 2, ...;
    the smoothed point sits at the end of its window). Returns the axes."""
    np = backend.np
    ax = _axes(ax, figsize)
    for name, values in curves.items():
        y = moving_average(values, smooth)
        steps = np.arange(1, len(values) + 1) if x is None else np.asarray(x)
        ax.plot(steps[smooth - 1:], y, label=name, lw=1.0)
    ax.set_xlabel(xlabel + (f" (moving average of {smooth})" if smooth > 1 else ""))
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return ax


def latent_scatter(z: Any, labels: Any, ax: Any = None, title: str | None = None,
                   figsize: tuple[float, float] = (4.5, 4)) -> Any:
    """2-D codes z (N, 2) as points coloured by their class ``labels`` (N,) (digits 0-9,
    one colour each, with a colour bar). Returns the axes."""
    np = backend.np
    z = backend.to_numpy(z.data if isinstance(z, Tensor) else z)
    labels = backend.to_numpy(labels.data if isinstance(labels, Tensor) else labels)
    if z.ndim != 2 or z.shape[1] != 2 or labels.shape != (len(z),):
        raise ValueError(f"latent_scatter: expected z (N, 2) and labels (N,), got shapes "
                         f"{z.shape} and {labels.shape}")
    ax = _axes(ax, figsize)
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
    ax.figure.colorbar(points, ax=ax, ticks=np.arange(10))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def source_line(obj: Any, text: str) -> None:
    """Print the lines of minigen's source of ``obj`` that contain ``text``, with their
    file and line number: the line that computes a formula of a lecture. A lecture calls
    it to show where its formula lives; it raises if the line is gone, so the lecture
    notices when the code changes. It returns nothing, so a cell ending in it shows the
    lines once.

    >>> from minigen.ops.activations import ReLU
    >>> source_line(ReLU, "maximum(x, 0)")          # doctest: +ELLIPSIS
    minigen/ops/activations.py:... (ReLU)
        return ctx.xp.maximum(x, 0)    # it skips a conversion pass over x
    """
    import inspect  # noqa: PLC0415

    lines, start = inspect.getsourcelines(obj)
    hits = [(start + k, line.strip()) for k, line in enumerate(lines) if text in line]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))    # above minigen/
    path = os.path.relpath(inspect.getsourcefile(obj) or "?", root)
    if not hits and in_student_copy() and _show_exercises(lines, start, path, obj.__qualname__):
        return        # the line is the student's to write: shown as theirs
    if not hits:
        raise ValueError(f"source_line: {text!r} is not in the source of {obj.__qualname__}")
    shown = [f"{path}:{number} ({obj.__qualname__})\n    {line}" for number, line in hits]
    print("\n".join(shown))


def in_student_copy() -> bool:
    """Whether this minigen is a student copy: ``minigen assignment build`` writes its
    ``assignment.json`` (``minigen.assignments.builder.MANIFEST``) beside ``minigen/``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.exists(os.path.join(root, "assignment.json"))


def _show_exercises(lines: list[str], start: int, path: str, qualname: str) -> bool:
    """In a student copy (``minigen assignment build``) a formula's line may sit in an
    exercise region the student is writing: print each region of the source as "your
    exercise <id>" with the student's own lines. False if the source has no region."""
    shown = False
    region: list[str] | None = None
    for k, line in enumerate(lines):
        words = line.strip().split()
        if words[:3] == ["#", "BEGIN", "SOLUTION"] and len(words) > 3:
            region, first, exercise = [], start + k + 1, words[3]
        elif words[:3] == ["#", "END", "SOLUTION"] and region is not None:
            body = [r.strip() for r in region if r.strip()]
            if not body or body[0].startswith("raise NotImplementedError"):
                body = ["(not written yet)"]
            print(f"{path}:{first} ({qualname}) — your exercise {exercise}:\n    "
                  + "\n    ".join(body))
            region, shown = None, True
        elif region is not None:
            region.append(line)
    return shown


# ====================================================================== the autograd graph
# A picture of the graph that ``backward`` walks: the same nodes, in the same order and
# with the same names, as ``Tensor.graph_summary()`` prints (both start from
# ``autograd.topological_order``).
from dataclasses import dataclass, field  # noqa: E402

from minigen.autograd import topological_order  # noqa: E402


@dataclass
class GraphNode:
    """One box of the drawing.

    Attributes:
        index: position in ``Graph.nodes`` (every node comes after its inputs).
        kind: ``"op"`` (an op together with the tensor it made), ``"parameter"`` (a leaf
            that is a ``minigen.nn.Parameter``), ``"leaf"`` (any other leaf that requires
            grad) or ``"constant"`` (an input that needs no gradient, e.g. the 2 of ``x * 2``).
        label: the op's name (``"Mul"``) for an op; the name of a leaf or constant.
        name: the name ``graph_summary`` gives the tensor (``"leaf0"``, ``"t3"``, or its
            ``.name``); ``""`` for constants, which it does not name.
        shape: the shape of the tensor (for an op: of its output).
        depth: the column of the drawing. The root's column is the length of the longest
            chain of ops below it; every other node is one column left of the nearest op
            that reads it (so every arrow points right, and short arrows stay short).
        tensor: the tensor itself.
    """

    index: int
    kind: str
    label: str
    name: str
    shape: tuple[int, ...]
    depth: int
    tensor: Tensor = field(repr=False, compare=False)


@dataclass
class GraphEdge:
    """An arrow: the tensor of node ``src`` is input number ``position`` of the op ``dst``."""

    src: int
    dst: int
    shape: tuple[int, ...]
    position: int


@dataclass
class Graph:
    """The autograd graph below a result: ``nodes`` (each after its inputs; the result is
    the last) and ``edges`` (sorted by the op they enter, then by input position)."""

    nodes: list[GraphNode]
    edges: list[GraphEdge]

    @property
    def root(self) -> GraphNode:
        """The node of the tensor the graph was built from."""
        return self.nodes[-1]

    def kinds(self) -> dict[str, int]:
        """How many nodes of each kind, e.g. ``{"leaf": 1, "op": 2}``."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.kind] = counts.get(node.kind, 0) + 1
        return counts


def is_parameter(t: Tensor) -> bool:
    """Is ``t`` a ``minigen.nn.Parameter``? Decided by the class's name (the rule: a class
    called ``Parameter`` among its bases), so that this module does not import
    ``minigen.nn``, which is built on top of the engine, not below it."""
    return any(cls.__name__ == "Parameter" for cls in type(t).__mro__)


def build_graph(root: Tensor, names: dict[str, Tensor] | None = None,
                constants: bool = True) -> Graph:
    """The graph below ``root`` as nodes and edges, without drawing anything.

    Args:
        root: a result tensor (one made without recording is a lone leaf).
        names: labels for leaves, e.g. ``dict(model.named_parameters())``; otherwise a
            leaf is labelled as ``graph_summary`` names it: its ``.name``, or ``leafK``
            with K its position in the topological order.
        constants: also show the inputs that need no gradient (the 2 of ``x * 2``, the
            data of a model); ``topological_order`` leaves them out.

    >>> import minigen
    >>> x = minigen.tensor([1.0, 2.0], requires_grad=True)
    >>> graph = build_graph((x * x).sum())
    >>> [(node.kind, node.label, node.shape) for node in graph.nodes]
    [('leaf', 'leaf0', (2,)), ('op', 'Mul', (2,)), ('op', 'Sum', ())]
    >>> [(edge.src, edge.dst) for edge in graph.edges]     # x enters Mul twice
    [(0, 1), (0, 1), (1, 2)]
    """
    label_of = {id(t): name for name, t in (names or {}).items()}
    order = topological_order([root])    # what backward walks, in reverse
    summary_name = {id(t): t.name or (f"leaf{k}" if t._ctx is None else f"t{k}")
                    for k, t in enumerate(order)}          # as graph_summary names them
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    index: dict[int, int] = {}           # id(tensor) -> its node
    consumers: dict[int, list[int]] = {}  # node -> the ops that read it

    def add(kind: str, label: str, name: str, t: Tensor, depth: int) -> int:
        index[id(t)] = len(nodes)
        nodes.append(GraphNode(len(nodes), kind, label, name, t.shape, depth, t))
        return len(nodes) - 1

    for t in order:
        name = summary_name[id(t)]
        if t._ctx is None:
            kind = "parameter" if is_parameter(t) else "leaf"
            add(kind, label_of.get(id(t), name), name, t, 0)
            continue
        inputs = t._ctx.inputs            # first each op one column right of its deepest input
        depth = 1 + max((nodes[index[id(p)]].depth for p in inputs if id(p) in index), default=0)
        for p in inputs:                  # constants, placed just before the op
            if id(p) not in index and constants:
                label = label_of.get(id(p)) or p.name or (
                    f"{p.item():.4g}" if p.numel() == 1 and backend.is_floating(p.data) else "const")
                add("constant", label, "", p, depth - 1)
        op = add("op", t._ctx.op_name, name, t, depth)
        for position, p in enumerate(inputs):
            if id(p) in index:
                edges.append(GraphEdge(index[id(p)], op, p.shape, position))
                consumers.setdefault(index[id(p)], []).append(op)
    for node in reversed(nodes):          # then each node as far right as it can go:
        if node.index in consumers:       # next to the nearest op that reads it
            node.depth = min(nodes[c].depth for c in consumers[node.index]) - 1
    return Graph(nodes, edges)


# Fill colours of the boxes, by kind.
_COLOURS = {"op": "#dbe9f6", "leaf": "#c9ecc9", "parameter": "#ffcc70", "constant": "#eeeeee"}


def _layout(graph: Graph) -> dict[int, tuple[float, float]]:
    """(x, y) of every node: x is its depth; within a column the nodes are stacked, and a
    few sweeps order each column by the mean height of its neighbours (fewer crossings)."""
    columns: dict[int, list[int]] = {}
    for node in graph.nodes:
        columns.setdefault(node.depth, []).append(node.index)
    neighbours: dict[int, list[int]] = {n.index: [] for n in graph.nodes}
    for e in graph.edges:
        neighbours[e.src].append(e.dst)
        neighbours[e.dst].append(e.src)
    y: dict[int, float] = {}

    def stack(column: list[int]) -> None:
        for k, i in enumerate(column):
            y[i] = (len(column) - 1) / 2 - k

    for column in columns.values():
        stack(column)
    for _ in range(4):
        for depth in sorted(columns):
            column = columns[depth]
            column.sort(key=lambda i: -sum(y[j] for j in neighbours[i]) / len(neighbours[i])
                        if neighbours[i] else -y[i])
            stack(column)
    return {n.index: (float(n.depth), y[n.index]) for n in graph.nodes}


def draw_graph(root: Tensor, ax: Any = None, names: dict[str, Tensor] | None = None,
               constants: bool = True) -> tuple[Any, Any, Graph]:
    """Draw the autograd graph of ``root`` with matplotlib (no graphviz needed).

    Ops are rounded boxes labelled with the name ``graph_summary`` gives their result,
    the op and its output shape (``t3 = Mul`` over ``(5, 4)``). Every arrow is a tensor,
    labelled with its shape, from where it was made to the op that reads it. Leaves are
    square boxes: green for tensors that require grad, orange for parameters (tensors
    that are a ``minigen.nn.Parameter``), grey for constants (no gradient). The result
    (bold) is on the right; ``backward`` walks the arrows from right to left.

    Args:
        root: the result, e.g. a loss.
        ax: matplotlib axes to draw into (from ``plt.subplots()`` in a notebook); by
            default a new ``Figure`` on the Agg canvas (no display needed, and pyplot's
            state is left alone; save it with ``fig.savefig(path)``).
        names, constants: as for ``build_graph``.

    Returns:
        ``(fig, ax, graph)``: the figure, the axes and the ``Graph`` that was drawn.
    """
    graph = build_graph(root, names=names, constants=constants)
    position = _layout(graph)
    if ax is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415 — import matplotlib only when drawing

        width = max(n.depth for n in graph.nodes) + 1
        height = max(sum(1 for n in graph.nodes if n.depth == d) for d in range(width))
        fig = Figure(figsize=(1.0 + 1.5 * width, 0.6 + 0.8 * height))
        FigureCanvasAgg(fig)             # draw with Agg: no display needed
        ax = fig.add_subplot()
    fig = ax.figure
    repeats: dict[tuple[int, int], int] = {}
    for e in graph.edges:                # x * x: two arrows from x to Mul, bent apart
        repeats[(e.src, e.dst)] = repeats.get((e.src, e.dst), 0) + 1
    seen: dict[tuple[int, int], int] = {}
    for e in graph.edges:
        (x0, y0), (x1, y1) = position[e.src], position[e.dst]
        k, m = seen.get((e.src, e.dst), 0), repeats[(e.src, e.dst)]
        seen[(e.src, e.dst)] = k + 1
        bend = 0.3 * (k - (m - 1) / 2)
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#555555", lw=0.9, shrinkA=24,
                                    shrinkB=24, connectionstyle=f"arc3,rad={bend}"))
        if k == 0:   # a level arrow is short between two boxes: its label goes above them
            lift = 0.16 if y0 == y1 else 0.06
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + lift, str(e.shape), ha="center",
                    va="bottom", fontsize=6, color="#555555")
    for node in graph.nodes:
        x, y = position[node.index]
        if node.kind == "op":
            text = f"{node.name} = {node.label}\n{node.shape}"
        elif node.kind == "constant":
            text = node.label
        else:
            text = f"{node.label}\n{node.shape}"
        ax.text(x, y, text, ha="center", va="center", fontsize=7,
                fontweight="bold" if node is graph.root else "normal",
                bbox=dict(boxstyle="round,pad=0.3" if node.kind == "op" else "square,pad=0.3",
                          facecolor=_COLOURS[node.kind],
                          edgecolor="black" if node is graph.root else "#666666",
                          linewidth=1.4 if node is graph.root else 0.8))
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()
    return fig, ax, graph
