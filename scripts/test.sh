#!/usr/bin/env bash
# Runs the whole test suite once per Keras backend (TensorFlow, JAX, PyTorch),
# then builds the documentation site with `mkdocs build --strict`.
# Usage: bash scripts/test.sh [pytest args...]
EXTRAS=all,test,docs
source "$(dirname "$0")/_venv.sh"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0
status=0
for backend in ${BACKENDS:-tensorflow jax torch}; do
  echo "=== KERAS_BACKEND=$backend"
  KERAS_BACKEND=$backend python -m pytest -q "$@" || status=1
done
# The documentation site: warnings (broken links, missing references) fail the build.
echo "=== mkdocs build --strict"
site=$(mktemp -d)
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict --site-dir "$site" || status=1
rm -rf "$site"
exit $status
