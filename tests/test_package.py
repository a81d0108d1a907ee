"""Packaging promises: a silent import that needs keras and numpy only."""

import os
import subprocess
import sys

MARKER = "--marker--"


def run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), check=True
    )


def test_importing_the_layers_prints_and_logs_nothing_beyond_keras():
    # Keras (and TensorFlow) may log on their own import; nothing may follow ours.
    result = run(
        f"import sys, keras; print('{MARKER}'); print('{MARKER}', file=sys.stderr); "
        "import kerasfactory, kerasfactory.layers"
    )
    assert result.stdout.split(MARKER)[-1].strip() == ""
    assert result.stderr.split(MARKER)[-1].strip() == ""


def test_layers_import_nothing_beyond_keras_and_numpy():
    # Keras itself may import pandas & co. where installed; the layers add only their own modules.
    result = run(
        "import sys, keras, numpy; before = set(sys.modules); import kerasfactory.layers; "
        "print(sorted(m.split('.')[0] + ('.' + m.split('.')[1] if m.startswith('kerasfactory.') else '') "
        "for m in set(sys.modules) - before))"
    )
    added = set(eval(result.stdout.strip().splitlines()[-1]))
    assert added <= {"kerasfactory", "kerasfactory.layers", "kerasfactory.freq"}, added


def test_time_features_data_and_the_command_line_load_no_keras_and_no_backend():
    # So that the command line answers a usage or data error before any backend starts.
    result = run(
        "import sys, kerasfactory.time_features, kerasfactory.data, kerasfactory.forecast.cli; "
        "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') if m in sys.modules))"
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_version_is_exposed():
    import kerasfactory

    assert kerasfactory.__version__.count(".") == 2
