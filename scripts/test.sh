#!/usr/bin/env bash
# Runs the whole test suite once per Keras backend (TensorFlow, JAX, PyTorch).
# Usage: bash scripts/test.sh [pytest args...]
EXTRAS=all,test
source "$(dirname "$0")/_venv.sh"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0
status=0
for backend in ${BACKENDS:-tensorflow jax torch}; do
  echo "=== KERAS_BACKEND=$backend"
  KERAS_BACKEND=$backend python -m pytest -q "$@" || status=1
done
exit $status
