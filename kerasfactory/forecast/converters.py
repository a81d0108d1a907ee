"""The route from a Keras model to each export format on each backend, and a run of the result.

`convert` writes one artifact through Keras' `Model.export` where that works, with three
narrow fixes for converter gaps our models hit (each names the converter it helps); `run`
executes an artifact in its own runtime. `kerasfactory.forecast.export` wraps both.
"""

import contextlib
import importlib.util
import logging
import pathlib
import warnings

import numpy as np

OUTPUT = "output_0"  # the output's name in every format (Keras' name in SavedModel and LiteRT)

# (format, backend) -> modules the route needs, or why there is no route.
NEEDS = {
    ("onnx", "tensorflow"): ("tf2onnx", "onnx"),
    ("onnx", "jax"): ("jax2onnx", "onnx"),
    ("onnx", "torch"): ("onnxscript", "onnx"),
    ("saved_model", "tensorflow"): ("tensorflow",),
    ("saved_model", "jax"): ("tensorflow",),
    ("litert", "tensorflow"): ("tensorflow",),
}
IMPOSSIBLE = {
    ("saved_model", "torch"): "Keras writes a SavedModel from PyTorch through torch_xla, which has no release "
    "for this torch version",
    ("litert", "jax"): "Keras has no LiteRT route from JAX",
    ("litert", "torch"): "Keras' route (litert-torch) renames the inputs to args_0_*, needs a fixed batch, "
    "fails on CycleLinear and pins typing-extensions<4.13",
}


def missing_modules(format, backend):
    return [m for m in NEEDS[(format, backend)] if importlib.util.find_spec(m) is None]


def convert(model, format, path, signature):
    """Writes `model` as `format` to `path`; `signature` is one `keras.InputSpec` per input."""
    import keras

    backend = keras.backend.backend()
    if format == "onnx" and backend == "torch":
        return _torch_onnx(model, path, signature)
    if (format, backend) == ("onnx", "tensorflow"):
        _tf2onnx_erfc()
    fix = _jax2onnx() if (format, backend) == ("onnx", "jax") else contextlib.nullcontext()
    with fix, _quiet():
        model.export(path, format="tf_saved_model" if format == "saved_model" else format,
                     input_signature=[signature], verbose=False)
    if format == "onnx":
        _rename_output(path)


def run(format, path, inputs):
    """The artifact at `path` run in its runtime on `inputs` ({name: array}); None without the runtime."""
    with _quiet():
        return _run(format, path, inputs)


def _run(format, path, inputs):
    if format == "onnx":
        if importlib.util.find_spec("onnxruntime") is None:
            return None
        import onnxruntime

        return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]).run([OUTPUT], inputs)[0]
    if format == "saved_model":
        import tensorflow as tf

        serve = tf.saved_model.load(path).signatures["serving_default"]
        return serve(**{k: tf.constant(v) for k, v in inputs.items()})[OUTPUT].numpy()
    if importlib.util.find_spec("ai_edge_litert") is None:
        return None
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # Without the default XNNPACK delegate, which announces itself on stdout.
    interpreter = Interpreter(
        model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    return interpreter.get_signature_runner("serving_default")(**inputs)[OUTPUT]


def _torch_onnx(model, path, signature):
    """torch.onnx's dynamo exporter with a variable batch (Keras' own torch route falls back to
    the TorchScript exporter for a variable batch, which fails on LayerNormalization)."""
    import keras
    import torch
    from onnxscript import opset18 as op

    # Keras' torch `take` squeezes the gathered axis whatever its size, a no-op in PyTorch unless it is 1;
    # torch.onnx writes an ONNX Squeeze there, which onnxruntime refuses.
    def squeeze_dim(x, dim: int):
        size = x.shape[dim] if x.shape is not None and len(x.shape) else 1
        return op.Identity(x) if isinstance(size, int) and size != 1 else op.Squeeze(x, [dim])

    class Forward(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(list(inputs), training=False)

    batch = signature[0].shape[0]
    sample = tuple(keras.ops.zeros((batch or 2, *s.shape[1:]), s.dtype) for s in signature)  # on Keras' device
    dynamic = None if batch else (tuple({0: torch.export.Dim("batch")} for _ in signature),)
    with _quiet():
        program = torch.onnx.export(
            Forward(model).eval(), sample, dynamo=True, input_names=[s.name for s in signature],
            output_names=[OUTPUT], dynamic_shapes=dynamic, verbose=False,
            custom_translation_table={torch.ops.aten.squeeze.dim: squeeze_dim},
        )
        program.optimize()
        program.save(path)


def _tf2onnx_erfc():
    """Registers the handler tf2onnx lacks for Erfc (in TensorFlow's exact gelu): erfc(x) = 1 - erf(x)."""
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    @tf_op("Erfc")
    class Erfc:
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            node.type = "Erf"
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            one = ctx.make_const(utils.make_name("one"), np.array(1, dtype=dtype))
            ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]])


@contextlib.contextmanager
def _jax2onnx():
    """jax2onnx's jnp.arange refuses `stop=None`, which Keras passes for `ops.arange(n)`: arange(0, n).
    And it imports all its plugins on first use, the flax and equinox examples too, which build and
    compile models (10 s); Keras' JAX code needs the jax.* ones. Both only for this conversion."""
    from keras.src.backend.jax import numpy as jax_numpy

    arange, plugins = jax_numpy.arange, None
    try:
        from jax2onnx.plugins import plugin_system as plugins

        if not plugins._already_imported_plugins:
            plugins._import_tree(pathlib.Path(plugins.__file__).parent / "jax", "jax2onnx.plugins.jax")
            plugins._already_imported_plugins = True
        else:
            plugins = None
    except (ImportError, AttributeError):  # another jax2onnx: its own discovery
        plugins = None

    def patched(start, stop=None, step=None, dtype=None):
        return arange(start, stop, step, dtype) if stop is not None else arange(0, start, step, dtype)

    jax_numpy.arange = patched
    try:
        yield
    finally:
        jax_numpy.arange = arange
        if plugins is not None:  # a later jax2onnx user gets its full discovery
            plugins._already_imported_plugins = False


def _rename_output(path):
    import onnx

    proto = onnx.load(path)
    old = proto.graph.output[0].name
    for node in proto.graph.node:
        node.output[:] = [OUTPUT if o == old else o for o in node.output]
        node.input[:] = [OUTPUT if i == old else i for i in node.input]
    proto.graph.output[0].name = OUTPUT
    onnx.save(proto, path)


@contextlib.contextmanager
def _quiet():
    """Converters log and warn about every fallback and step they take; keep the CLI's output clean."""
    loggers = [logging.getLogger(n) for n in ("tf2onnx", "jax2onnx", "onnxscript", "torch.onnx", "absl")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
