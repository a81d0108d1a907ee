"""Which lookup of TemporalEmbedding is faster, per backend: the evidence for its choice.

    python benchmarks/temporal_paths.py [--backends jax tensorflow torch] [--malloc warm] [--rounds 12]

TemporalEmbedding sums, for each step, one row of each of two stacked tables
of field-pair sums (month + day, weekday + hour [+ minute]). It can look both
rows up in one `take` of the `(2, batch, time)` rows and add the two halves
(`one_lookup`), or take each group's rows separately and add (`per_group`);
`call` runs the first on TensorFlow, the second elsewhere
(`TemporalEmbedding._lookup_path`). This script times both on the same layer
and marks (batch 32, time 96, d_model 512, float32), interleaved, as
`token_paths.py` does (whose driver it shares): the times are medians over the
rounds, the ratio the median of the rounds' ratios. A ratio below 1 means one
lookup is faster; `picked` is what `call` runs. Rerun it when Keras or a
backend is upgraded: the choice is a measurement.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embeddings import keras_sync, measure  # noqa: E402
from token_paths import interleaved, ratio, run  # noqa: E402

CONFIGS = [(embed_type, freq) for embed_type in ("fixed", "learned") for freq in ("h", "t")]


def rows(rounds, measure=measure):
    """One tab-separated line per configuration: backend, embed_type, freq, per_group ms, one_lookup ratio, picked."""
    import keras
    import numpy as np

    from kerasfactory.layers import TemporalEmbedding

    sync = keras_sync()
    marks = (np.random.default_rng(0).random((32, 96, 5)) * [13, 32, 7, 24, 4]).astype("int32")
    marks = keras.ops.convert_to_tensor(marks)
    for embed_type, freq in CONFIGS:
        layer = TemporalEmbedding(512, embed_type=embed_type, freq=freq)
        layer(marks)
        row_ids = layer._rows(marks)
        ms = interleaved(layer._lookup_bodies(layer._table(row_ids), row_ids), rounds, sync, measure)
        yield "\t".join([keras.backend.backend(), embed_type, freq, f"{statistics.median(ms['per_group']):.2f}",
                         ratio(ms, "one_lookup", "per_group"), layer._lookup_path()])


def main(argv=None):
    header = f"{'backend':<12}{'embed_type':<12}{'freq':<6}{'per_group ms':>14}{'one_lookup/per_group':>22}  picked"
    run(argv, __doc__, __file__, rows, header,
        lambda name, embed_type, freq, per_group, one, picked:
        f"{name:<12}{embed_type:<12}{freq:<6}{per_group:>14}{one:>22}  {picked}")


if __name__ == "__main__":
    main()
