"""Draw the recorded graph with Graphviz: a node per value and per op, the op labelled with
the equations of the notes its backward implements.

``draw(value_or_tape)`` returns a ``graphviz.Digraph`` (building it never needs Graphviz's
``dot`` program); ``render_svg(graph, path)`` writes ``path`` (SVG) and the ``.dot``
source beside it. Colours: parameters blue, inputs and constants grey, intermediates
white, the output gold; ops are ellipses.
"""

from __future__ import annotations

from pathlib import Path

import graphviz
import numpy as np

from .fileio import write_bytes
from .ops.registry import OPS
from .tape import Tape

COLOURS = {"parameter": "#cfe2ff", "input": "#e9ecef", "intermediate": "#ffffff", "output": "#ffd866"}
OP_COLOUR = "#f8f0e3"
INSTALL_DOT = (
    "Graphviz's `dot` program is needed to render SVG and was not found on PATH. Install it: "
    "`apt-get install graphviz` (Debian/Ubuntu), `dnf install graphviz` (Fedora), "
    "`brew install graphviz` (macOS), or `conda install graphviz`."
)


# ---------------------------------------------------------------------- labels
def equation_label(op_name: str) -> str:
    """The notes' labels an op's backward implements, compacted: 'CONV-BP2-4, eq. 3.14'.

    >>> equation_label("matmul"), equation_label("conv2d")
    ('BP2-3', 'CONV-BP2-4, eq. 3.14, eq. 3.15')
    >>> equation_label("reshape")  # an op that cites no equation
    ''
    """
    op = OPS.get(op_name)
    if op is None or not op.equations:
        return ""
    labels = list(op.equations)
    out, i = [], 0
    while i < len(labels):
        label = labels[i]
        head, _, number = label.rpartition("BP")
        j = i
        if head is not None and number.isdigit():
            while (j + 1 < len(labels) and labels[j + 1].startswith(head + "BP")
                   and labels[j + 1][len(head) + 2:].isdigit()
                   and int(labels[j + 1][len(head) + 2:]) == int(labels[j][len(head) + 2:]) + 1):
                j += 1
        out.append(label if j == i else f"{label}-{labels[j][len(head) + 2:]}")
        i = j + 1
    return ", ".join(out)


def _number(x: float) -> str:
    return f"{float(x) + 0.0:.4g}"  # + 0.0: show -0 as 0


def summary(array) -> str:
    """A scalar as a number; a tensor as min / mean / max.

    >>> import numpy as np
    >>> summary(2.5), summary(np.array([1.0, 2.0, 6.0])), summary(None)
    ('2.5', '1 / 3 / 6', '-')
    """
    if array is None:
        return "-"
    if isinstance(array, float) or np.ndim(array) == 0:
        return _number(float(array))
    a = np.asarray(array)
    if a.size == 0:
        return "empty"
    return f"{_number(a.min())} / {_number(a.mean())} / {_number(a.max())}"


def _escape_record(text: str) -> str:
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


# ---------------------------------------------------------------------- graph walk
def _collect(root_or_tape):
    """Values of the graph in tape order (oldest first) and the output value (or None)."""
    if isinstance(root_or_tape, Tape):
        ops = list(root_or_tape.ops)
        values = {id(v): v for op in ops for v in (*op._prev, op)}
        root = ops[-1] if ops else None
    else:
        root = root_or_tape
        values = {id(root): root}
        stack = [root]
        while stack:
            node = stack.pop()
            for parent in node._prev:
                if id(parent) not in values:
                    values[id(parent)] = parent
                    stack.append(parent)
    return sorted(values.values(), key=lambda v: v._id), root


def _kind(v, root, param_names) -> str:
    if v is root:
        return "output"
    if v._prev:
        return "intermediate"
    if id(v) in param_names or (v.requires_grad and v.name):
        return "parameter"
    return "input"


def _module_spans(model):
    """(span length, start, end, path, module) for each module that has run, innermost first."""
    if model is None:
        return []
    spans = []
    for path, module in model.named_modules():
        span = vars(module).get("_span")
        if span is not None:
            spans.append((span[1] - span[0], span[0], span[1], path or type(module).__name__, module))
    spans.sort(key=lambda s: s[0])
    return spans


def _owner(node_id: int, spans):
    for _, start, end, path, module in spans:
        if start < node_id < end:
            return path, module
    return None


# ---------------------------------------------------------------------- drawing
def draw(root_or_tape, *, model=None, collapse=None, max_nodes: int = 400, rankdir: str = "LR",
         show_grad: bool = True, title: str | None = None) -> graphviz.Digraph:
    """The graph behind a Value (or the ops of a Tape) as a ``graphviz.Digraph``.

    ``model`` (an ``nn.Module`` that computed the graph) names the parameters by their
    module path and groups ops into one cluster per module; ``collapse="modules"`` draws
    each innermost module as a single box. ``max_nodes`` keeps the ops nearest the output
    and adds a "... N more" node for the rest. ``show_grad=False`` gives the forward-only
    view; otherwise gradients are summarised and dashed edges show their flow.

    >>> from tinygrad_notes import Value
    >>> a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    >>> g = draw(a * b)
    >>> "mul" in g.source and "a" in g.source
    True
    """
    if collapse not in (None, "modules"):
        raise ValueError(f"draw: collapse must be None or 'modules', got {collapse!r}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw: rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")
    if max_nodes < 2:
        raise ValueError(f"draw: max_nodes must be at least 2, got {max_nodes}")
    values, root = _collect(root_or_tape)
    param_names = {}
    if model is not None:
        param_names = {id(p): name for name, p in model.named_parameters()}
    spans = _module_spans(model) if model is not None else []

    graph = graphviz.Digraph("tinygrad_notes", graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                                           "fontsize": "11", "label": title or "",
                                                           "labelloc": "t"},
                             node_attr={"fontname": "Helvetica", "fontsize": "10"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "9"})

    kept = values
    if len(values) > max_nodes:
        kept = values[-max_nodes:]
    kept_ids = {id(v) for v in kept}
    hidden = len(values) - len(kept)

    clusters = {}  # module path -> (module, its values); "" is the model itself, drawn without a box
    modules = dict(model.named_modules()) if model is not None else {}
    if spans:
        for v in kept:
            if v._prev:
                owner = _owner(v._id, spans)
            elif id(v) in param_names:
                path = param_names[id(v)].rpartition(".")[0]
                owner = (path, modules[path]) if path in modules else None
            else:
                owner = None
            if owner is not None:
                path = "" if owner[1] is model else owner[0]
                clusters.setdefault(path, (owner[1], []))[1].append(v)

    collapsed = {}
    if collapse == "modules":
        for path, (module, members) in clusters.items():
            if path:
                for v in members:
                    collapsed[id(v)] = path

    def value_node(v) -> str:
        return f"v{id(v)}"

    def op_node(v) -> str:
        return f"op{id(v)}"

    def module_node(path) -> str:
        return "m_" + "".join(ch if ch.isalnum() else "_" for ch in path)

    def add_value(target, v):
        kind = _kind(v, root, param_names)
        name = param_names.get(id(v)) or v.name or ""
        if type(v.data) is float:
            parts = [name] if name else []
            parts.append(f"data {_number(v.data)}")
            if show_grad:
                parts.append(f"grad {_number(v.grad) if v.requires_grad and v.grad is not None else '-'}")
            target.node(value_node(v), "{ " + " | ".join(_escape_record(p) for p in parts) + " }",
                        shape="record", style="filled", fillcolor=COLOURS[kind])
            return
        lines = [name] if name else []
        lines.append(f"{tuple(v.shape)} {v.dtype}")
        lines.append(f"data {summary(v.data)}")
        if show_grad:
            lines.append(f"grad {summary(v.grad)}")
        target.node(value_node(v), "\n".join(lines), shape="box", style="rounded,filled", fillcolor=COLOURS[kind])

    def add_op(target, v):
        label = v._op
        eq = equation_label(v._op)
        target.node(op_node(v), f"{label}  {eq}" if eq else label, shape="ellipse", style="filled",
                    fillcolor=OP_COLOUR)

    # clusters: one subgraph per module that ran an op, nested as the modules are
    def parent_path(path: str) -> str:
        while "." in path:
            path = path.rpartition(".")[0]
            if path in modules:
                return path
        return ""

    boxed = set()
    for path in clusters:
        while path:
            boxed.add(path)
            path = parent_path(path)
    children = {}
    for path in sorted(boxed):
        children.setdefault(parent_path(path), []).append(path)

    homes = {}

    def emit(target, path):
        module, members = clusters.get(path, (modules[path], []))
        with target.subgraph(name="cluster_" + module_node(path)) as sub:
            sub.attr(label=f"{path} ({type(module).__name__})", style="rounded,dashed", color="#6c757d",
                     fontsize="10")
            ops = [m for m in members if m._prev]
            if collapse == "modules" and members:
                names = sorted({m._op for m in ops})
                eqs = sorted({equation_label(o) for o in names} - {""})
                label = f"{type(module).__name__}\n{', '.join(names)}"
                if eqs:
                    label += "\n" + ", ".join(eqs)
                if ops:
                    label += f"\n-> {tuple(ops[-1].shape)}"
                sub.node(module_node(path), label, shape="box3d", style="filled", fillcolor=OP_COLOUR)
            elif collapse != "modules":
                for v in members:
                    if v._prev:
                        add_op(sub, v)
                    add_value(sub, v)
                    homes[id(v)] = True
            for child in children.get(path, []):
                emit(sub, child)

    for path in children.get("", []):
        emit(graph, path)

    for v in kept:
        if id(v) in collapsed or id(v) in homes:
            continue
        if v._prev:
            add_op(graph, v)
        add_value(graph, v)

    def head(v) -> str:
        """Where edges into v's op arrive."""
        return module_node(collapsed[id(v)]) if id(v) in collapsed else op_node(v)

    def tail(v) -> str:
        """Where edges out of value v leave."""
        return module_node(collapsed[id(v)]) if id(v) in collapsed else value_node(v)

    more_node = None
    if hidden:
        more_node = "more"
        graph.node(more_node, f"... {hidden} more", shape="note", style="filled", fillcolor="#f1f3f5")

    drawn_edges = set()
    for v in kept:
        if not v._prev:
            continue
        if id(v) not in collapsed:
            graph.edge(op_node(v), value_node(v))
        for parent in v._prev:
            source = tail(parent) if id(parent) in kept_ids else more_node
            target = head(v)
            if source == target or (source, target) in drawn_edges:
                continue
            drawn_edges.add((source, target))
            graph.edge(source, target, label=str(tuple(parent.shape)) if parent.shape else "")
            if show_grad and parent.requires_grad and id(parent) in kept_ids:
                graph.edge(target, source, style="dashed", color="#d63384", arrowsize="0.6", constraint="false")
    return graph


def render_svg(graph: graphviz.Digraph, path) -> Path:
    """Write the graph as SVG at ``path`` and its DOT source beside it (``.dot``).

    The ``.dot`` file is written first, so nothing is lost when ``dot`` is missing; then
    a RuntimeError says how to install Graphviz.

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> from tinygrad_notes import Value
    >>> graph = draw(Value(2.0, name="a") * 3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     svg = Path(tmp) / "graph.svg"
    ...     if shutil.which("dot"):  # rendering needs Graphviz's dot program
    ...         svg = render_svg(graph, Path(tmp) / "graph")  # the .svg suffix is added
    ...         assert "<svg" in svg.read_text() and svg.with_suffix(".dot").read_text() == graph.source
    ...     print(svg.name)
    graph.svg
    """
    path = Path(path)
    if path.suffix != ".svg":
        path = path.with_suffix(".svg")
    path.parent.mkdir(parents=True, exist_ok=True)
    dot_path = path.with_suffix(".dot")
    write_bytes(dot_path, graph.source.encode())
    try:
        svg = graph.pipe(format="svg")
    except graphviz.ExecutableNotFound:
        raise RuntimeError(f"{INSTALL_DOT} The DOT source was written to {dot_path}.") from None
    write_bytes(path, svg)
    return path
