"""Small builders shared by the document tests."""
from visualkeras_app.document.defaults import default_config
from visualkeras_app.document.graph import Document, Edge, LayerNode


def node(doc, class_name, name=None, **config):
    """Add a ``class_name`` node with the palette defaults updated by ``config``; returns its id."""
    cfg = default_config(class_name)
    cfg.update(config)
    n = LayerNode(doc.new_id(), class_name, name or doc.unique_name(class_name.lower()), cfg)
    return doc.add_node(n).id


def chain(*specs, doc=None):
    """A document with the layers ``(class_name, config)`` connected in a chain; returns (doc, ids)."""
    doc = doc or Document()
    ids = []
    with doc.batch():
        for spec in specs:
            cls, cfg = spec if isinstance(spec, tuple) else (spec, {})
            ids.append(node(doc, cls, **cfg))
        for a, b in zip(ids, ids[1:]):
            doc.add_edge(Edge(a, b))
    return doc, ids


def signature(doc):
    """The graph by layer names: classes, configs and edges, independent of ids and order."""
    names = {nid: n.name for nid, n in doc.nodes.items()}
    return ({n.name: (n.class_name, n.config) for n in doc.nodes.values()},
            sorted((names[e.src], names[e.dst], e.dst_port, e.src_port) for e in doc.edges))
